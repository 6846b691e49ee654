import { IDEMPOTENCY_ENTRIES } from '../memory-budget.js'

/**
 * Recent sends by `(sender, clientSeq)` (docs/protocol.md: 5 minutes). A repeat
 * gets the first receipt again and stores nothing. Entries live in insertion
 * order, so expiry trims from the front; the size bound protects memory when
 * a flood outruns the window.
 */
export const IDEMPOTENCY_WINDOW_MS = 5 * 60 * 1000

/** What a 2007 says about a stored send (also shared between hosts in cluster mode). */
export interface Receipt {
  readonly msgId: string
  readonly conversationId: string
  readonly conversationSeq: number
  /** The sender's userSeq (private messages), 0 for groups. */
  readonly userSeq: number
  readonly time: number
}

/**
 * Receipts seen by every host: a client that resends after reconnecting to another host must still get
 * its first receipt. One `find` per cycle, one `remember` per commit; both may fail (the shard then relies
 * on the database's unique key, which still turns a repeat into its first receipt).
 */
export interface SharedReceipts {
  /** The receipt stored for each (sender, clientSeq), in order; null where none is known. */
  find (keys: readonly (readonly [string, string])[]): Promise<(Receipt | null)[]>
  remember (entries: readonly (readonly [string, string, Receipt])[]): Promise<void>
}

/** Single host: nothing to share. This host's window and database see every copy already. */
export const localReceipts: SharedReceipts = {
  find: async keys => keys.map(() => null),
  remember: async () => {}
}

export interface Remembered<R> {
  readonly at: number
  /** The receipt once committed; null while the first copy is still in flight. */
  receipt: R | null
  /** Connections that sent a repeat while the first copy was in flight: they get the receipt too. */
  waiting: number[] | null
}

export class IdempotencyCache<R> {
  private readonly entries = new Map<string, Remembered<R>>()

  constructor (private readonly windowMs = IDEMPOTENCY_WINDOW_MS) {}

  static key (sender: string, clientSeq: string): string {
    return `${sender}\u0000${clientSeq}`
  }

  get (key: string, now: number): Remembered<R> | undefined {
    const entry = this.entries.get(key)
    if (entry === undefined || now - entry.at > this.windowMs) return undefined
    return entry
  }

  begin (key: string, now: number): Remembered<R> {
    const entry: Remembered<R> = { at: now, receipt: null, waiting: null }
    this.entries.delete(key)
    this.entries.set(key, entry)
    return entry
  }

  forget (key: string): void {
    this.entries.delete(key)
  }

  expire (now: number): void {
    for (const [key, entry] of this.entries) {
      if (now - entry.at <= this.windowMs && this.entries.size <= IDEMPOTENCY_ENTRIES) break
      this.entries.delete(key)
    }
  }
}
