import { mkdir, open, rename, rm } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import type { Readable } from 'node:stream'
import { MissingObjectError, type BlobStore } from './store.js'

/**
 * Files on local disk under IMPLUS_DATA_DIR/media/objects (the single-host
 * default: zero set-up, like the embedded database). A spool file is fsynced
 * and renamed into place, so an object is either whole or absent, also after
 * a crash.
 */
export class DiskStore implements BlobStore {
  readonly kind = 'disk'
  private readonly root: string

  constructor (mediaDir: string) {
    this.root = join(mediaDir, 'objects')
  }

  private path (key: string): string {
    // Keys are the server's decimal ids: a few hundred folders keep directories small.
    return join(this.root, key.slice(-3).padStart(3, '0'), key)
  }

  async putFile (key: string, spoolPath: string): Promise<void> {
    const target = this.path(key)
    await mkdir(dirname(target), { recursive: true })
    await syncPath(spoolPath)
    await rename(spoolPath, target)
    await syncPath(dirname(target))
  }

  async read (key: string, start: number, end: number): Promise<Readable> {
    // Opened before the stream is handed out, so a missing object is an error here, not mid-response.
    const handle = await open(this.path(key), 'r').catch((err: NodeJS.ErrnoException) => {
      throw err.code === 'ENOENT' ? new MissingObjectError(key) : err
    })
    return handle.createReadStream({ start, end, autoClose: true, highWaterMark: 64 * 1024 })
  }

  async delete (keys: readonly string[]): Promise<void> {
    await Promise.all(keys.map(key => rm(this.path(key), { force: true })))
  }

  async close (): Promise<void> {}
}

async function syncPath (path: string): Promise<void> {
  const handle = await open(path, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}
