// ACKs, batched: one frame per tick instead of one per message. The server resends a pushed 3001 until it
// sees its ACK, and moves a member's group sync point (unread count) on a 2006, so both must really be sent
// (the seed's batch ACK was a stub).

import { systemScheduler, type Scheduler, type TimerHandle } from './timing.js'

const MESSAGE_ACK = 2004
const BATCH_MESSAGE_ACK = 2005
const GROUP_CONVERSATION_ACK = 2006
/** Items the server takes in one 2005 or 2006 (docs/protocol.md). */
const MAX_ACK_ITEMS = 100

/** The fields of a ChatMessage an ACK uses. */
export interface AckFrame {
  type: number
  uid?: string
  content?: string
}

export interface AckBatcherOptions {
  readonly sendFrame: (frame: AckFrame) => void
  readonly scheduler?: Scheduler
  /** Wait before sending what has queued; default 50 ms. */
  readonly delayMs?: number
  /** Items per frame; reaching it sends at once. Default and most 100 (the server refuses more). */
  readonly maxBatch?: number
}

export class AckBatcher {
  readonly #sendFrame: (frame: AckFrame) => void
  readonly #scheduler: Scheduler
  readonly #delayMs: number
  readonly #maxBatch: number
  #msgIds = new Set<string>()
  // Highest seq per group: acknowledging seq n acknowledges everything below it.
  #groups = new Map<string, number>()
  #timer: TimerHandle | null = null

  constructor (options: AckBatcherOptions) {
    const delayMs = options.delayMs ?? 50
    if (!(delayMs >= 0)) throw new RangeError(`AckBatcher option delayMs must be non-negative, got ${delayMs}`)
    const maxBatch = options.maxBatch ?? 100
    if (!Number.isSafeInteger(maxBatch) || maxBatch < 1 || maxBatch > MAX_ACK_ITEMS) throw new RangeError(`AckBatcher option maxBatch must be an integer from 1 to ${MAX_ACK_ITEMS}, got ${maxBatch}`)
    this.#sendFrame = options.sendFrame
    this.#scheduler = options.scheduler ?? systemScheduler
    this.#delayMs = delayMs
    this.#maxBatch = maxBatch
  }

  /** Number of ACKs waiting to be sent. */
  get queued (): number {
    return this.#msgIds.size + this.#groups.size
  }

  /** Acknowledges a pushed private message (3001) by its uid. */
  ack (msgId: string): void {
    if (msgId === '') return
    this.#msgIds.add(msgId)
    if (this.#msgIds.size >= this.#maxBatch) this.#sendMessageAcks()
    else this.#arm()
  }

  /** Acknowledges a group conversation up to `seq`. */
  ackGroup (conversationId: string, seq: number): void {
    if (conversationId === '' || !Number.isSafeInteger(seq) || seq < 1) return
    const known = this.#groups.get(conversationId)
    if (known !== undefined && known >= seq) return
    this.#groups.set(conversationId, seq)
    if (this.#groups.size >= this.#maxBatch) this.#sendGroupAcks()
    else this.#arm()
  }

  /** Sends everything queued now, e.g. before a clean logout. */
  flush (): void {
    this.#disarm()
    this.#sendMessageAcks()
    this.#sendGroupAcks()
  }

  /** Drops what is queued: after a disconnect the server resends unacknowledged messages anyway. */
  clear (): void {
    this.#disarm()
    this.#msgIds.clear()
    this.#groups.clear()
  }

  #arm (): void {
    if (this.#timer !== null) return
    this.#timer = this.#scheduler.setTimeout(() => {
      this.#timer = null
      this.flush()
    }, this.#delayMs)
  }

  #disarm (): void {
    if (this.#timer === null) return
    this.#scheduler.clearTimeout(this.#timer)
    this.#timer = null
  }

  #sendMessageAcks (): void {
    const ids = this.#msgIds
    if (ids.size === 0) return
    this.#msgIds = new Set()
    if (ids.size === 1) {
      const [uid] = ids
      this.#sendFrame({ type: MESSAGE_ACK, uid })
    } else {
      this.#sendFrame({ type: BATCH_MESSAGE_ACK, content: [...ids].join(',') })
    }
  }

  #sendGroupAcks (): void {
    const groups = this.#groups
    if (groups.size === 0) return
    this.#groups = new Map()
    const items: string[] = []
    for (const [conversationId, seq] of groups) items.push(`${conversationId}:${seq}`)
    this.#sendFrame({ type: GROUP_CONVERSATION_ACK, content: items.join(',') })
  }
}
