// SeqStore in one JSON file ({ userId: SyncState }) for Node clients. Written whole to a temporary file,
// synced, then renamed over the old one, so a crash leaves either the old positions or the new, never a
// torn file. The only module of the client that needs node: APIs.

import { open, readFile, rename, unlink } from 'node:fs/promises'
import { copySyncState, emptySyncState, isSyncState, type SeqStore, type SyncState } from './seq-store.js'

export class JsonFileSeqStore implements SeqStore {
  readonly #path: string
  #states: Map<string, SyncState> | null = null
  // Saves run one after another: two interleaved read-modify-write cycles would lose one of them.
  #queue: Promise<void> = Promise.resolve()
  #writes = 0

  constructor (path: string) {
    this.#path = path
  }

  async load (userId: string): Promise<SyncState> {
    const state = (await this.#read()).get(userId)
    return state === undefined ? emptySyncState() : copySyncState(state)
  }

  save (userId: string, state: SyncState): Promise<void> {
    const copy = copySyncState(state)
    const run = this.#queue.then(async () => {
      const states = await this.#read()
      const previous = states.get(userId)
      states.set(userId, copy)
      try {
        await this.#write(states)
      } catch (error) {
        // Keep memory equal to the file, so load never reports a position that was not persisted.
        if (previous === undefined) states.delete(userId)
        else states.set(userId, previous)
        throw error
      }
    })
    this.#queue = run.catch(() => undefined)
    return run
  }

  async #read (): Promise<Map<string, SyncState>> {
    if (this.#states !== null) return this.#states
    let text: string
    try {
      text = await readFile(this.#path, 'utf8')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
      text = '{}'
    }
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch (error) {
      throw new Error(`seq store ${this.#path} is not JSON`, { cause: error })
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new Error(`seq store ${this.#path} does not hold an object`)
    }
    const states = new Map<string, SyncState>()
    for (const [userId, state] of Object.entries(parsed)) {
      if (!isSyncState(state)) throw new Error(`seq store ${this.#path} has a malformed entry for user ${userId}`)
      states.set(userId, state)
    }
    this.#states ??= states
    return this.#states
  }

  async #write (states: Map<string, SyncState>): Promise<void> {
    const temp = `${this.#path}.${process.pid}.${++this.#writes}.tmp`
    const handle = await open(temp, 'w')
    try {
      await handle.writeFile(JSON.stringify(Object.fromEntries(states)))
      await handle.sync()
    } catch (error) {
      await handle.close()
      await unlink(temp).catch(() => undefined)
      throw error
    }
    await handle.close()
    try {
      await rename(temp, this.#path)
    } catch (error) {
      await unlink(temp).catch(() => undefined)
      throw error
    }
  }
}
