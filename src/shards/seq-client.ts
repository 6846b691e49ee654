import type { SeqReply, SeqRequest } from './thread-messages.js'
import { isConversationSeqKey, type SeqEngine } from '../seq/engine.js'
import { AppError, Status } from '../errors.js'
import { WARM_SEQ_KEYS } from '../memory-budget.js'
import { PendingReplies } from './pending-replies.js'

/**
 * The shard's side of sequence allocation, one request per batch. Users'
 * keys are shared by every shard, so the main thread's SeqEngine numbers
 * them. On a single host a conversation's key belongs to this shard alone
 * (it owns the conversation), so `local` numbers it here, without a round
 * trip through the main thread, which is busiest exactly when a group's
 * fan-out is being written. In cluster mode `local` is null: every host may
 * number a conversation, so Redis does.
 */
export class SeqClient {
  private readonly pending = new PendingReplies<Float64Array>()
  private readonly warm = new Set<string>()

  constructor (private readonly post: (request: SeqRequest) => void, private readonly local: SeqEngine | null) {}

  async allocate (keys: string[]): Promise<Float64Array> {
    if (this.local === null) return await this.request(keys, false)
    if (this.warm.size + keys.length > WARM_SEQ_KEYS) this.warm.clear()
    for (const key of keys) this.warm.add(key)
    const [localKeys, remoteKeys] = this.split(keys)
    const [localValues, remoteValues] = await Promise.all([this.local.allocate(localKeys), this.request(remoteKeys, false)])
    const out = new Float64Array(keys.length)
    for (let i = 0, l = 0, r = 0; i < keys.length; i++) out[i] = isConversationSeqKey(keys[i]!) ? localValues[l++]! : remoteValues[r++]!
    return out
  }

  /**
   * Has segments reserved for these keys (see SeqEngine.prepare), so that allocate answers at once.
   * Keys this shard numbered before have a segment already (one running out is allocate's business):
   * asking only for the others spares a round trip to the main thread on most batches.
   */
  async prepare (keys: string[]): Promise<void> {
    // Cluster mode: the Redis engine reserves while it allocates (its prepare does nothing).
    if (this.local === null) return
    const cold = keys.filter(key => !this.warm.has(key))
    if (cold.length === 0) return
    const [localKeys, remoteKeys] = this.split(cold)
    await Promise.all([this.local.prepare(localKeys), this.request(remoteKeys, true)])
  }

  settle (reply: SeqReply): void {
    if (reply.error !== undefined) this.pending.reject(reply.id, new AppError(Status.UNAVAILABLE, `sequence service unavailable: ${reply.error}`))
    else this.pending.resolve(reply.id, reply.values)
  }

  private split (keys: string[]): [string[], string[]] {
    const local: string[] = []
    const remote: string[] = []
    for (const key of keys) (isConversationSeqKey(key) ? local : remote).push(key)
    return [local, remote]
  }

  private request (keys: string[], prepareOnly: boolean): Promise<Float64Array> {
    if (keys.length === 0) return Promise.resolve(new Float64Array(0))
    return this.pending.ask(id => this.post({ t: 'seq', id, keys, prepareOnly }))
  }
}
