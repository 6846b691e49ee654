import { availableParallelism } from 'node:os'
import { resolve } from 'node:path'
import { MAX_SHARDS } from './snowflake.js'

/**
 * Settings come from the environment (docs/protocol.md "Running"). Every value is
 * validated once at start; a bad one stops the server with a ConfigError whose
 * message names the variable, so an operator sees one clear line.
 */
export class ConfigError extends Error {
  override name = 'ConfigError'
}

/**
 * A file in IMPLUS_DATA_DIR that cannot be used. Permission refused is nearly always a folder first used by
 * another user (root, say): the message says what to do about that.
 */
export function dataFolderError (path: string, err: unknown): ConfigError {
  const code = (err as NodeJS.ErrnoException | null)?.code
  const hint = code === 'EACCES' || code === 'EPERM'
    ? ': IMPLUS_DATA_DIR belongs to another user (a folder first used by root, say); start implus as its owner, or give the folder to this user (chown -R)'
    : ''
  return new ConfigError(`cannot use ${path} (${err instanceof Error ? err.message : String(err)})${hint}`)
}

export type PrivateChatPolicy = 'friends' | 'open'

/** S3-compatible object storage for uploaded files (docs/protocol.md "Files"); null: files on local disk. */
export interface S3Config {
  readonly bucket: string
  /** An S3-compatible service's URL (MinIO, Ceph, …); null: AWS's own endpoint for the region. */
  readonly endpoint: string | null
  readonly region: string
  /** Both set, or both null (the AWS SDK's default credential chain: AWS_* variables, profiles, instance roles). */
  readonly accessKeyId: string | null
  readonly secretAccessKey: string | null
  readonly forcePathStyle: boolean
  /** Prepended to every object key. */
  readonly prefix: string
}

/** PEM files for TLS (docs/protocol.md "TLS"): HTTPS and WSS on uWS's SSL app, TLS on the TCP port. */
export interface TlsConfig {
  readonly certFile: string
  readonly keyFile: string
  /** For an encrypted key; null: the key is not encrypted. */
  readonly passphrase: string | null
}

export interface Config {
  readonly host: string
  readonly httpPort: number
  readonly wsPort: number
  readonly tcpPort: number
  readonly udpPort: number
  readonly dataDir: string
  readonly databaseUrl: string | null
  readonly redisUrl: string | null
  readonly nodeId: string | null
  readonly shards: number
  readonly jwtSecret: string | null
  readonly adminToken: string | null
  readonly embeddedPgPort: number | null
  readonly privateChat: PrivateChatPolicy
  /** POST /users/friends befriends at once (the seed's API); false: only an accepted request does. */
  readonly directFriends: boolean
  readonly logLevel: string
  /** `auto`: pretty on a terminal, JSON otherwise (src/log.ts). */
  readonly logFormat: 'auto' | 'json' | 'pretty'
  readonly tokenTtlSeconds: number
  readonly maxDevices: number
  readonly maxFrameBytes: number
  readonly maxContentBytes: number
  readonly maxUdpBytes: number
  readonly maxHttpBodyBytes: number
  readonly rateLimitPerSecond: number
  readonly rateBurst: number
  readonly httpRateLimitPerSecond: number
  readonly loginTimeoutMs: number
  readonly idleTimeoutMs: number
  readonly maxBufferedBytes: number
  readonly recallWindowMs: number
  /** Members a group may have; beyond it adding is refused (409). */
  readonly maxGroupMembers: number
  readonly groupReadReceiptMaxMembers: number
  readonly idempotencyWindowMs: number
  readonly shardQueueLimit: number
  /** Pushes one user may have waiting for an ACK per shard, and bytes of pushes a shard keeps for resending. */
  readonly resendMaxPerUser: number
  readonly resendMaxBytes: number
  readonly scryptCost: number
  readonly loginFailureLimit: number
  /** The WebSocket URL clients are told (GET /api/server-info); null: the request's host and the bound port. */
  readonly publicWsUrl: string | null
  /** The TCP address clients are told, `tcp://` or `tls://`; null: the request's host and the bound port. */
  readonly publicTcpUrl: string | null
  /** The UDP address clients are told, `udp://host:port`; null: the request's host and the bound port. */
  readonly publicUdpUrl: string | null
  readonly maxUploadBytes: number
  /** Bytes one user may upload in any 24 hours; 0 = no limit. */
  readonly uploadQuotaBytes: number
  /** Uploads no message refers to are deleted once this old. */
  readonly uploadRetentionSeconds: number
  /** Images with more pixels are refused (decompression bombs). */
  readonly maxImagePixels: number
  /** Lifetime of a signed download URL. */
  readonly signedUrlTtlSeconds: number
  readonly s3: S3Config | null
  /** null: plain HTTP, WebSocket and TCP (TLS left to a proxy, deploy/nginx.conf). */
  readonly tls: TlsConfig | null
}

type Env = Record<string, string | undefined>

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']

function read (env: Env, name: string): string | undefined {
  const value = env[name]
  return value === undefined || value.trim() === '' ? undefined : value.trim()
}

function integer (env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = read(env, name)
  if (raw === undefined) return fallback
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got '${raw}'`)
  }
  return Number(raw)
}

function port (env: Env, name: string, fallback: number): number {
  return integer(env, name, fallback, 0, 65535)
}

function url (env: Env, name: string, protocols: string[]): string | null {
  const raw = read(env, name)
  if (raw === undefined) return null
  let parsed: URL
  try {
    parsed = new URL(raw)
  } catch {
    throw new ConfigError(`${name} must be a URL (${protocols.join(' or ')}), got '${raw}'`)
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(`${name} must use ${protocols.join(' or ')}, got '${parsed.protocol}'`)
  }
  return raw
}

function oneOf<T extends string> (env: Env, name: string, fallback: T, allowed: readonly T[]): T {
  const raw = read(env, name)
  if (raw === undefined) return fallback
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(`${name} must be one of ${allowed.join(', ')}, got '${raw}'`)
  }
  return raw as T
}

function secret (env: Env, name: string, minLength: number): string | null {
  const raw = read(env, name)
  if (raw === undefined) return null
  if (raw.length < minLength) throw new ConfigError(`${name} must be at least ${minLength} characters long`)
  return raw
}

function flag (env: Env, name: string, fallback: boolean): boolean {
  return oneOf(env, name, fallback ? 'true' : 'false', ['true', 'false']) === 'true'
}

function s3Config (env: Env): S3Config | null {
  const bucket = read(env, 'IMPLUS_S3_BUCKET')
  if (bucket === undefined) {
    for (const name of ['IMPLUS_S3_ENDPOINT', 'IMPLUS_S3_ACCESS_KEY_ID', 'IMPLUS_S3_SECRET_ACCESS_KEY']) {
      if (read(env, name) !== undefined) throw new ConfigError(`${name} is set but IMPLUS_S3_BUCKET is not: name the bucket to store files in`)
    }
    return null
  }
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) throw new ConfigError(`IMPLUS_S3_BUCKET must be an S3 bucket name (3-63 lowercase letters, digits, '.' or '-'), got '${bucket}'`)
  const endpoint = url(env, 'IMPLUS_S3_ENDPOINT', ['http:', 'https:'])
  const accessKeyId = read(env, 'IMPLUS_S3_ACCESS_KEY_ID') ?? null
  const secretAccessKey = read(env, 'IMPLUS_S3_SECRET_ACCESS_KEY') ?? null
  if ((accessKeyId === null) !== (secretAccessKey === null)) {
    throw new ConfigError('IMPLUS_S3_ACCESS_KEY_ID and IMPLUS_S3_SECRET_ACCESS_KEY go together: set both, or neither to use the AWS SDK\'s default credentials')
  }
  const prefix = read(env, 'IMPLUS_S3_PREFIX') ?? 'implus/'
  if (!/^[\w./-]{0,200}$/.test(prefix)) throw new ConfigError(`IMPLUS_S3_PREFIX must be up to 200 letters, digits, '_', '.', '/' or '-', got '${prefix}'`)
  return {
    bucket,
    endpoint,
    region: read(env, 'IMPLUS_S3_REGION') ?? 'us-east-1',
    accessKeyId,
    secretAccessKey,
    // S3-compatible services mostly serve buckets as a path, AWS itself as a host name.
    forcePathStyle: flag(env, 'IMPLUS_S3_FORCE_PATH_STYLE', endpoint !== null),
    prefix
  }
}

function tlsConfig (env: Env): TlsConfig | null {
  const certFile = read(env, 'IMPLUS_TLS_CERT')
  const keyFile = read(env, 'IMPLUS_TLS_KEY')
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw new ConfigError('IMPLUS_TLS_CERT and IMPLUS_TLS_KEY go together: set both (PEM files) to serve HTTPS, WSS and TLS on TCP, or neither')
  }
  const passphrase = read(env, 'IMPLUS_TLS_KEY_PASSPHRASE') ?? null
  if (certFile === undefined) {
    if (passphrase !== null) throw new ConfigError('IMPLUS_TLS_KEY_PASSPHRASE is set but IMPLUS_TLS_KEY is not')
    return null
  }
  return { certFile: resolve(certFile), keyFile: resolve(keyFile!), passphrase }
}

export function loadConfig (env: Env = process.env): Config {
  const host = read(env, 'IMPLUS_HOST') ?? '0.0.0.0'
  if (!/^[\w.:-]+$/.test(host)) throw new ConfigError(`IMPLUS_HOST must be an address to bind, got '${host}'`)
  const nodeId = read(env, 'IMPLUS_NODE_ID') ?? null
  if (nodeId !== null && !/^[\w.-]{1,64}$/.test(nodeId)) {
    throw new ConfigError(`IMPLUS_NODE_ID must be 1-64 letters, digits, '.', '_' or '-', got '${nodeId}'`)
  }
  const redisUrl = url(env, 'REDIS_URL', ['redis:', 'rediss:'])
  const jwtSecret = secret(env, 'IMPLUS_JWT_SECRET', 32)
  if (redisUrl !== null && jwtSecret === null) {
    throw new ConfigError('IMPLUS_JWT_SECRET is required in cluster mode (REDIS_URL set): every host must sign with the same secret')
  }
  const s3 = s3Config(env)
  if (redisUrl !== null && s3 === null) {
    throw new ConfigError('IMPLUS_S3_BUCKET is required in cluster mode (REDIS_URL set): every host must serve every uploaded file, so files go to shared S3-compatible storage')
  }
  const rateLimitPerSecond = integer(env, 'IMPLUS_RATE_LIMIT', 200, 1, 1_000_000)
  const embeddedPgPort = read(env, 'IMPLUS_EMBEDDED_PG_PORT') === undefined
    ? null
    : integer(env, 'IMPLUS_EMBEDDED_PG_PORT', 0, 1, 65535)
  return Object.freeze({
    host,
    httpPort: port(env, 'IMPLUS_HTTP_PORT', 8080),
    wsPort: port(env, 'IMPLUS_WS_PORT', 8902),
    tcpPort: port(env, 'IMPLUS_TCP_PORT', 8900),
    udpPort: port(env, 'IMPLUS_UDP_PORT', 8901),
    dataDir: resolve(read(env, 'IMPLUS_DATA_DIR') ?? './data'),
    databaseUrl: url(env, 'DATABASE_URL', ['postgres:', 'postgresql:']),
    redisUrl,
    nodeId,
    shards: integer(env, 'IMPLUS_SHARDS', Math.min(availableParallelism(), MAX_SHARDS), 1, MAX_SHARDS),
    jwtSecret,
    adminToken: secret(env, 'IMPLUS_ADMIN_TOKEN', 16),
    embeddedPgPort,
    privateChat: oneOf<PrivateChatPolicy>(env, 'IMPLUS_PRIVATE_CHAT', 'friends', ['friends', 'open']),
    directFriends: flag(env, 'IMPLUS_DIRECT_FRIENDS', true),
    logLevel: oneOf(env, 'LOG_LEVEL', 'info', LOG_LEVELS),
    logFormat: oneOf(env, 'LOG_FORMAT', 'auto', ['auto', 'json', 'pretty'] as const),
    tokenTtlSeconds: integer(env, 'IMPLUS_TOKEN_TTL_SECONDS', 24 * 3600, 1, 365 * 24 * 3600),
    maxDevices: integer(env, 'IMPLUS_MAX_DEVICES', 5, 1, 100),
    maxFrameBytes: integer(env, 'IMPLUS_MAX_FRAME_BYTES', 64 * 1024, 1024, 16 * 1024 * 1024),
    maxContentBytes: integer(env, 'IMPLUS_MAX_CONTENT_BYTES', 16 * 1024, 1, 16 * 1024 * 1024),
    maxUdpBytes: 1200,
    maxHttpBodyBytes: integer(env, 'IMPLUS_MAX_HTTP_BODY_BYTES', 64 * 1024, 1024, 16 * 1024 * 1024),
    rateLimitPerSecond,
    rateBurst: integer(env, 'IMPLUS_RATE_BURST', 5 * rateLimitPerSecond, 1, 5_000_000),
    httpRateLimitPerSecond: integer(env, 'IMPLUS_HTTP_RATE_LIMIT', 200, 1, 1_000_000),
    loginTimeoutMs: integer(env, 'IMPLUS_LOGIN_TIMEOUT_MS', 10_000, 100, 600_000),
    idleTimeoutMs: integer(env, 'IMPLUS_IDLE_TIMEOUT_MS', 180_000, 1000, 3_600_000),
    maxBufferedBytes: integer(env, 'IMPLUS_MAX_BUFFERED_BYTES', 1024 * 1024, 16 * 1024, 1024 * 1024 * 1024),
    recallWindowMs: integer(env, 'IMPLUS_RECALL_WINDOW_MS', 120_000, 0, 7 * 24 * 3600 * 1000),
    maxGroupMembers: integer(env, 'IMPLUS_MAX_GROUP_MEMBERS', 2000, 2, 100_000),
    groupReadReceiptMaxMembers: integer(env, 'IMPLUS_GROUP_READ_RECEIPT_MAX', 200, 0, 100_000),
    idempotencyWindowMs: integer(env, 'IMPLUS_IDEMPOTENCY_WINDOW_MS', 5 * 60 * 1000, 1000, 24 * 3600 * 1000),
    shardQueueLimit: integer(env, 'IMPLUS_SHARD_QUEUE_LIMIT', 50_000, 1, 10_000_000),
    resendMaxPerUser: integer(env, 'IMPLUS_RESEND_MAX_PER_USER', 1000, 1, 1_000_000),
    resendMaxBytes: integer(env, 'IMPLUS_RESEND_MAX_BYTES', 64 * 1024 * 1024, 64 * 1024, 16 * 1024 * 1024 * 1024),
    scryptCost: integer(env, 'IMPLUS_SCRYPT_COST', 15, 10, 20),
    loginFailureLimit: integer(env, 'IMPLUS_LOGIN_FAILURE_LIMIT', 10, 0, 1_000_000),
    publicWsUrl: url(env, 'IMPLUS_PUBLIC_WS_URL', ['ws:', 'wss:']),
    publicTcpUrl: url(env, 'IMPLUS_PUBLIC_TCP_URL', ['tcp:', 'tls:']),
    publicUdpUrl: url(env, 'IMPLUS_PUBLIC_UDP_URL', ['udp:']),
    maxUploadBytes: integer(env, 'IMPLUS_MAX_UPLOAD_BYTES', 25 * 1024 * 1024, 1024, 5 * 1024 * 1024 * 1024),
    uploadQuotaBytes: integer(env, 'IMPLUS_UPLOAD_QUOTA_BYTES', 1024 * 1024 * 1024, 0, Number.MAX_SAFE_INTEGER),
    uploadRetentionSeconds: integer(env, 'IMPLUS_UPLOAD_RETENTION_SECONDS', 24 * 3600, 1, 365 * 24 * 3600),
    maxImagePixels: integer(env, 'IMPLUS_MAX_IMAGE_PIXELS', 50_000_000, 1, 1_000_000_000),
    signedUrlTtlSeconds: integer(env, 'IMPLUS_SIGNED_URL_TTL_SECONDS', 600, 1, 7 * 24 * 3600),
    s3,
    tls: tlsConfig(env)
  })
}
