import type { SeqReply, SeqRequest } from './thread-messages.js'
import { AppError, Status } from '../errors.js'

/** The shard's side of sequence allocation: one request per batch to the main thread's SeqEngine. */
export class SeqClient {
  private readonly pending = new Map<number, { resolve: (v: Float64Array) => void, reject: (e: Error) => void }>()
  private nextId = 1

  constructor (private readonly post: (request: SeqRequest) => void) {}

  allocate (keys: string[]): Promise<Float64Array> {
    return this.request(keys, false)
  }

  /** Has segments reserved for these keys (see SeqEngine.prepare), so that allocate answers at once. */
  async prepare (keys: string[]): Promise<void> {
    await this.request(keys, true)
  }

  private request (keys: string[], prepareOnly: boolean): Promise<Float64Array> {
    if (keys.length === 0) return Promise.resolve(new Float64Array(0))
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject })
      this.post({ t: 'seq', id, keys, prepareOnly })
    })
  }

  settle (reply: SeqReply): void {
    const pending = this.pending.get(reply.id)
    if (pending === undefined) return
    this.pending.delete(reply.id)
    if (reply.error !== undefined) pending.reject(new AppError(Status.UNAVAILABLE, `sequence service unavailable: ${reply.error}`))
    else pending.resolve(reply.values)
  }
}
