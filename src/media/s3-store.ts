import { createReadStream } from 'node:fs'
import { rm } from 'node:fs/promises'
import type { Readable } from 'node:stream'
import { DeleteObjectsCommand, GetObjectCommand, HeadBucketCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3'
import { Upload } from '@aws-sdk/lib-storage'
import type { S3Config } from '../config.js'
import { MissingObjectError, type BlobStore } from './store.js'

// 5 MiB is S3's smallest part; two parts in flight bound the memory of one upload to about 15 MiB.
const PART_BYTES = 5 * 1024 * 1024
const PARTS_IN_FLIGHT = 2
// DeleteObjects takes at most 1000 keys.
const DELETE_BATCH = 1000

/**
 * Files in an S3-compatible bucket (required in cluster mode: every host
 * serves every file). Uploads stream from the spool file as a multipart
 * upload (lib-storage), aborted and so left nowhere if a part fails; reads
 * are ranged GETs.
 */
export class S3Store implements BlobStore {
  readonly kind = 's3'
  private readonly client: S3Client

  constructor (private readonly config: S3Config) {
    this.client = new S3Client({
      region: config.region,
      endpoint: config.endpoint ?? undefined,
      forcePathStyle: config.forcePathStyle,
      credentials: config.accessKeyId !== null && config.secretAccessKey !== null
        ? { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey }
        : undefined,
      // Checksums only where S3 demands them: many S3-compatible services reject the SDK's default
      // trailing CRC32 (aws-chunked bodies). Integrity is ours anyway: every file has its SHA-256.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED'
    })
  }

  /** Fails at start, with a reason, when the bucket cannot be reached. */
  async check (): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.config.bucket }))
    } catch (err) {
      const status = (err as S3ServiceException).$metadata?.httpStatusCode
      const reason = status === 404 ? 'it does not exist' : status === 403 ? 'access denied' : (err as Error).message
      throw new Error(`S3 bucket '${this.config.bucket}'${this.config.endpoint !== null ? ` at ${this.config.endpoint}` : ''} is not usable: ${reason}`)
    }
  }

  private key (key: string): string {
    return this.config.prefix + key
  }

  async putFile (key: string, spoolPath: string, size: number, contentType: string): Promise<void> {
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.config.bucket, Key: this.key(key), Body: createReadStream(spoolPath), ContentType: contentType, ContentLength: size },
      partSize: PART_BYTES,
      queueSize: PARTS_IN_FLIGHT,
      leavePartsOnError: false
    })
    try {
      await upload.done()
    } finally {
      await rm(spoolPath, { force: true })
    }
  }

  async read (key: string, start: number, end: number): Promise<Readable> {
    try {
      const object = await this.client.send(new GetObjectCommand({ Bucket: this.config.bucket, Key: this.key(key), Range: `bytes=${start}-${end}` }))
      return object.Body as Readable
    } catch (err) {
      if (err instanceof S3ServiceException && (err.name === 'NoSuchKey' || err.$metadata.httpStatusCode === 404)) throw new MissingObjectError(key)
      throw err
    }
  }

  async delete (keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += DELETE_BATCH) {
      const batch = keys.slice(i, i + DELETE_BATCH)
      const result = await this.client.send(new DeleteObjectsCommand({
        Bucket: this.config.bucket,
        Delete: { Objects: batch.map(k => ({ Key: this.key(k) })), Quiet: true }
      }))
      const failed = result.Errors?.filter(e => e.Code !== 'NoSuchKey') ?? []
      if (failed.length > 0) throw new Error(`S3 refused to delete ${failed.length} objects, e.g. ${failed[0]!.Key}: ${failed[0]!.Code} ${failed[0]!.Message}`)
    }
  }

  async close (): Promise<void> {
    this.client.destroy()
  }
}
