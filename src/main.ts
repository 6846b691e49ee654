import { availableParallelism, hostname } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { ConfigError, loadConfig, type Config } from './config.js'
import { Status } from './errors.js'
import { CloseStage } from './closers.js'
import { Lifecycle } from './lifecycle.js'
import { createLogger, logOptions, type LogOptions, type Logger } from './log.js'
import { banner } from './banner.js'
import { loadSecrets } from './secrets.js'
import { openDatabase } from './db/database.js'
import { probePostgres } from './db/probe.js'
import { UserStore } from './users/store.js'
import { latestUserSeqs } from './users/sequences.js'
import { TurnBatcher } from './batcher.js'
import { TokenService } from './auth/tokens.js'
import { PasswordHasher } from './auth/passwords.js'
import { LoginGuard } from './auth/login-guard.js'
import { Metrics } from './metrics.js'
import { uws, isNativeUws, type ListenSocket } from './io/uws.js'
import { loadTls, uwsApp } from './io/tls.js'
import { HttpApi } from './http/server.js'
import { userRoutes, type SessionControl } from './http/users.js'
import { adminRoutes } from './http/admin.js'
import { friendRoutes } from './http/friends.js'
import { FriendRequests } from './users/friend-requests.js'
import { encodeFrame } from '@implus/client/wire'
import { healthRoutes } from './http/health.js'
import { messageRoutes } from './http/messages.js'
import { groupRoutes } from './http/groups.js'
import { staticRoutes } from './http/static.js'
import { recordRoutes } from './http/route-table.js'
import { advertisedHost, serverInfoRoute } from './http/server-info.js'
import { openApiRoute } from './http/openapi/serve.js'
import { fileRoutes } from './http/files.js'
import { UrlSigner } from './http/signed-url.js'
import { DiskStore } from './media/disk-store.js'
import type { BlobStore } from './media/store.js'
import { Uploads } from './media/uploads.js'
import { Sweeper } from './media/sweeper.js'
import { MemorySeqEngine } from './seq/memory.js'
import { RedisSeqEngine } from './seq/redis.js'
import { userSeqKey, type SeqEngine } from './seq/engine.js'
import { SessionRegistry } from './io/registry.js'
import { ShardPool } from './io/shard-pool.js'
import { SeqServer } from './seq/seq-server.js'
import { Delivery } from './io/delivery.js'
import { Gateway } from './io/gateway.js'
import { startWsServer } from './io/ws-server.js'
import { startTcpServer } from './io/tcp-server.js'
import { startUdpServer } from './io/udp-server.js'
import { Cluster } from './cluster/cluster.js'
import { LocalSessions, localEvents, type ClusterEvent, type EventBus, type SessionDirectory } from './cluster/ports.js'
import { SlotFence } from './cluster/slot-fence.js'
import { connectRedis, redisReady } from './cluster/redis.js'

async function main (config: Config, logging: LogOptions, log: Logger, lifecycle: Lifecycle): Promise<void> {
  const metrics = new Metrics()
  const closers = lifecycle.closers
  // HTTP first: while the database and workers start, /readyz already answers 503.
  // Every route is recorded as registered: /openapi.json is checked against them.
  // TLS from IMPLUS_TLS_CERT / IMPLUS_TLS_KEY, checked before anything listens: HTTPS, WSS, TLS on TCP.
  const tls = config.tls === null ? null : loadTls(config.tls)
  const secure = tls !== null
  const { app: httpApp, routes } = recordRoutes(uwsApp(tls))
  healthRoutes(httpApp, () => lifecycle.phase, metrics)
  const http = await listen(httpApp, config.host, config.httpPort, 'HTTP')
  // Last of all: until the process exits, /readyz says 'draining' (503).
  closers.add(CloseStage.RELEASE, 'http', () => uws.us_listen_socket_close(http.socket))
  const shownHost = advertisedHost(config.host)
  log.info({ http: `${secure ? 'https' : 'http'}://${shownHost}:${http.port}` }, 'starting')
  const secrets = await loadSecrets(config.dataDir, config.jwtSecret)
  const db = await openDatabase(config, secrets.embeddedPgPassword, log)
  closers.add(CloseStage.RELEASE, 'database', () => db.close())
  const postgresProbe = probePostgres(db.sql, metrics)
  closers.add(CloseStage.RELEASE, 'postgres probe', () => postgresProbe.stop())
  const users = new UserStore(db.sql)
  const tokens = new TokenService(secrets.jwtSecret, config.tokenTtlSeconds, users)
  const passwords = new PasswordHasher(config.scryptCost, Math.max(1, availableParallelism() - 1))
  closers.add(CloseStage.RELEASE, 'passwords', () => passwords.close())
  const registry = new SessionRegistry(config.maxDevices)
  const nodeId = config.nodeId ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`

  // One host by default; cluster mode: Redis carries sequences, sessions, cross-host pushes and events.
  let cluster: Cluster | null = null
  let seq: SeqEngine = new MemorySeqEngine(db.sql)
  closers.add(CloseStage.RELEASE, 'sequences', () => seq.close())
  let directory: SessionDirectory = new LocalSessions(userId => registry.devices(userId).length)
  let events: EventBus = localEvents
  const onClusterEvent = (event: ClusterEvent): void => {
    if (event.type === 'groupChanged') {
      shards.call('group.forget', { conversationId: event.conversationId })
        .catch(err => log.error({ err, conversationId: event.conversationId }, 'group change from another host not applied'))
      return
    }
    tokens.forget(event.userId)
    shards.usersChanged([event.userId])
    if (event.type === 'kick') gateway.kickUser(event.userId, event.status, event.reason)
  }
  if (config.redisUrl !== null) {
    const redis = connectRedis(config.redisUrl, `implus-${nodeId}`, log)
    const subscriber = connectRedis(config.redisUrl, `implus-${nodeId}-sub`, log)
    await Promise.all([redisReady(redis), redisReady(subscriber)])
    const redisUp = metrics.gauge('implus_redis_up', 'Whether the Redis connection is ready (cluster mode): 1 or 0.')
    metrics.collect(() => { redisUp.value = redis.status === 'ready' ? 1 : 0 })
    seq = new RedisSeqEngine(redis, db.sql)
    cluster = new Cluster(nodeId, config.shards, redis, subscriber, {
      remoteDelivery: data => delivery.remoteBatch(data),
      event: onClusterEvent,
      // Exit 1 (drained once running) so a supervisor restarts it and it claims a free slot.
      slotLost: () => void lifecycle.stop('node slot lost', 1)
    }, new SlotFence(db.sql), log)
    await cluster.join()
    // After this host's clients heard 1002 (goodbye comes first), it leaves the cluster.
    closers.add(CloseStage.RELEASE, 'cluster', () => cluster?.stop())
    directory = cluster
    events = cluster
  }

  const delivery: Delivery = new Delivery(registry, metrics, cluster, (userId, frame) => shards.track(userId, frame))
  const shards: ShardPool = new ShardPool(config.shards, {
    nodeSlot: cluster?.slot ?? 0,
    databaseUrl: db.url,
    log: logging,
    privateChat: config.privateChat,
    recallWindowMs: config.recallWindowMs,
    maxGroupMembers: config.maxGroupMembers,
    groupReadReceiptMaxMembers: config.groupReadReceiptMaxMembers,
    idempotencyWindowMs: config.idempotencyWindowMs,
    queueLimit: config.shardQueueLimit,
    resendMaxPerUser: config.resendMaxPerUser,
    resendMaxBytes: config.resendMaxBytes,
    redisUrl: config.redisUrl
  }, new SeqServer(seq, log), delivery.shardBatch, log, metrics)
  await shards.start()
  // Shards commit and answer what they accepted.
  closers.add(CloseStage.DRAIN, 'shards', () => shards.drain())
  // Logins come in storms: their database reads and segment reservations are batched per turn.
  const committedUserSeqs = new TurnBatcher<string, number>(userIds => latestUserSeqs(db.sql, userIds), 0)
  // The in-process engine reserves ahead here; the Redis one reserves while it allocates (its prepare is empty).
  const reserveUserSeqs = new TurnBatcher<string, null>(async keys => {
    await seq.prepare(keys)
    return new Map()
  }, null)
  const gateway: Gateway = new Gateway({
    registry,
    shards,
    authenticate: token => tokens.authenticate(token),
    // The engine knows the newest userSeq of anyone active since start; the database knows the rest.
    latestUserSeq: async userId => await seq.latest(userSeqKey(userId)).catch(() => null) ?? await committedUserSeqs.get(userId),
    maxContentBytes: config.maxContentBytes,
    rateLimitPerSecond: config.rateLimitPerSecond,
    rateBurst: config.rateBurst,
    loginTimeoutMs: config.loginTimeoutMs,
    idleTimeoutMs: config.idleTimeoutMs,
    log,
    metrics,
    heartbeat: userId => directory.touch(userId),
    sessionChanged: (userId, devices) => {
      directory.localSession(userId, devices)
      // A user who just came online will soon send or receive: reserve its userSeq segment now, off the send path.
      if (devices === 1) reserveUserSeqs.get(userSeqKey(userId)).catch(err => log.warn({ err, userId }, 'userSeq segment not reserved ahead'))
    }
  })
  closers.add(CloseStage.INTAKE, 'gateway', () => gateway.stopAccepting())
  // 503: clients come back, to another host or to this one restarted (docs/protocol.md, 1002).
  closers.add(CloseStage.GOODBYE, 'clients', () => gateway.closeAll(Status.UNAVAILABLE, 'server shutting down'))
  const sessions: SessionControl = {
    devices: userId => directory.devices(userId),
    kick: (userId, status, reason) => {
      gateway.kickUser(userId, status, reason)
      events.publish({ type: 'kick', userId, status, reason })
    },
    userChanged: userId => {
      shards.usersChanged([userId])
      events.publish({ type: 'userChanged', userId })
    },
    push: (userId, frame) => delivery.push(userId, encodeFrame(frame))
  }

  await cluster?.start()

  // Uploaded files: on local disk, or in S3-compatible storage (cluster mode requires it).
  const mediaDir = join(config.dataDir, 'media')
  const store = await openStore(config, mediaDir)
  closers.add(CloseStage.RELEASE, 'file storage', () => store.close())
  const uploads = new Uploads(db.sql, store, join(mediaDir, 'tmp'), {
    maxUploadBytes: config.maxUploadBytes, quotaBytes: config.uploadQuotaBytes, maxImagePixels: config.maxImagePixels
  }, metrics, log)
  await uploads.prepare()
  const sweeper = new Sweeper(db.sql, store, config.uploadRetentionSeconds, metrics, log)
  closers.add(CloseStage.RELEASE, 'sweeper', () => sweeper.stop())
  const signer = new UrlSigner(secrets.jwtSecret, config.signedUrlTtlSeconds)

  const api = new HttpApi(httpApp, { tokens, adminToken: config.adminToken, maxBodyBytes: config.maxHttpBodyBytes, rateLimitPerSecond: config.httpRateLimitPerSecond, metrics, log, signer })
  userRoutes(api, { users, tokens, passwords, loginGuard: new LoginGuard(config.loginFailureLimit), sessions })
  friendRoutes(api, { users, requests: new FriendRequests(db.sql), sessions, directFriends: config.directFriends })
  adminRoutes(api, users, tokens, sessions)
  messageRoutes(api, { sql: db.sql, shards })
  groupRoutes(api, { sql: db.sql, users, shards, groupChanged: async conversationId => await events.published({ type: 'groupChanged', conversationId }), maxMembers: config.maxGroupMembers })
  fileRoutes(api, { sql: db.sql, uploads, store, signer })
  const transport = { host: config.host, maxFrameBytes: config.maxFrameBytes, maxBufferedBytes: config.maxBufferedBytes }
  const ws = await startWsServer(gateway, registry, { ...transport, port: config.wsPort, authenticate: token => tokens.authenticate(token), tls })
  closers.add(CloseStage.INTAKE, 'websocket listener', () => uws.us_listen_socket_close(ws.socket))
  staticRoutes(httpApp, fileURLToPath(new URL('./web/', import.meta.url)))
  const tcp = await startTcpServer(gateway, registry, { ...transport, port: config.tcpPort, tls: tls?.options ?? null })
  closers.add(CloseStage.INTAKE, 'tcp listener', () => tcp.server.close())
  const udp = await startUdpServer(gateway, registry, { host: config.host, port: config.udpPort, maxDatagramBytes: config.maxUdpBytes })
  // UDP has no listener apart from its socket: it closes once the goodbyes went out through it.
  closers.add(CloseStage.GOODBYE, 'udp socket', () => udp.socket.close())
  const ports = { http: http.port, ws: ws.port, tcp: tcp.port, udp: udp.port }
  serverInfoRoute(api, { config, tls: secure, ports })
  openApiRoute(httpApp, routes, log)

  // A stop asked for while starting closes everything now: nothing may say ready.
  if (!lifecycle.ready()) return
  sweeper.start()
  const urls = {
    http: `${secure ? 'https' : 'http'}://${shownHost}:${ports.http}`,
    ws: `${secure ? 'wss' : 'ws'}://${shownHost}:${ports.ws}/websocket`,
    tcp: `${secure ? 'tls' : 'tcp'}://${shownHost}:${ports.tcp}`,
    udp: `udp://${shownHost}:${ports.udp}`
  }
  const clusterInfo = cluster === null ? null : { nodeId, slot: cluster.slot }
  const database = db.embedded ? 'embedded' : 'external'
  const started = {
    ...urls,
    web: `${urls.http}/`,
    bind: config.host,
    ports,
    database,
    cluster: clusterInfo,
    files: store.kind,
    shards: config.shards,
    uwsNative: isNativeUws()
  }
  if (logging.format === 'json') log.info(started, 'implus listening')
  else {
    // A person is watching: the banner says it all, the details are there at debug level.
    process.stdout.write(banner({ ...urls, database, files: store.kind, shards: config.shards, cluster: clusterInfo }, logging.color))
    log.debug(started, 'implus listening')
  }
}

async function openStore (config: Config, mediaDir: string): Promise<BlobStore> {
  if (config.s3 === null) return new DiskStore(mediaDir)
  // Loaded only when configured: the AWS SDK is large.
  const { S3Store } = await import('./media/s3-store.js')
  const store = new S3Store(config.s3)
  await store.check()
  return store
}

function listen (app: ReturnType<typeof uws.App>, host: string, port: number, what: string): Promise<{ socket: ListenSocket, port: number }> {
  return new Promise((resolve, reject) => {
    app.listen(host, port, socket => {
      if (socket === false) reject(new Error(`${what} cannot listen on ${host}:${port}`))
      else resolve({ socket, port: uws.us_socket_local_port(socket as never) })
    })
  })
}

let config: Config
try {
  config = loadConfig()
} catch (err) {
  if (!(err instanceof ConfigError)) throw err
  process.stderr.write(`implus: configuration error: ${err.message}\n`)
  process.exit(1)
}
const logging = logOptions(config.logLevel, config.logFormat, process.stdout.isTTY === true)
const log = createLogger(logging)
// A promise nobody awaited failed: a bug to fix, not a reason to drop every connection on this host.
process.on('unhandledRejection', err => log.error({ err }, 'unhandled promise rejection'))
const lifecycle = new Lifecycle(log)
lifecycle.handleSignals()
lifecycle.starting(main(config, logging, log, lifecycle)).catch(err => {
  // A stop waits for the start and then exits itself, with its own code.
  if (lifecycle.stopping) {
    log.error({ err }, 'the start failed while a stop waited for it')
    return
  }
  // A setting that cannot work is the operator's to fix: one plain line that says what to do.
  if (err instanceof ConfigError) process.stderr.write(`implus: ${err.message}\n`)
  else log.fatal({ err }, 'implus failed to start')
  process.exit(1)
})
