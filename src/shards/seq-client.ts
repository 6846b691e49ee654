import type { SeqReply, SeqRequest } from './thread-messages.js'
import { AppError, Status } from '../errors.js'

const MAX_WARM_KEYS = 200_000

/** The shard's side of sequence allocation: one request per batch to the main thread's SeqEngine. */
export class SeqClient {
  private readonly pending = new Map<number, { resolve: (v: Float64Array) => void, reject: (e: Error) => void }>()
  private nextId = 1
  private readonly warm = new Set<string>()

  constructor (private readonly post: (request: SeqRequest) => void) {}

  allocate (keys: string[]): Promise<Float64Array> {
    if (this.warm.size + keys.length > MAX_WARM_KEYS) this.warm.clear()
    for (const key of keys) this.warm.add(key)
    return this.request(keys, false)
  }

  /**
   * Has segments reserved for these keys (see SeqEngine.prepare), so that allocate answers at once.
   * Keys this shard numbered before have a segment already (one running out is allocate's business):
   * asking only for the others spares a round trip to the main thread on most batches.
   */
  async prepare (keys: string[]): Promise<void> {
    const cold = keys.filter(key => !this.warm.has(key))
    if (cold.length > 0) await this.request(cold, true)
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
