import { IDEMPOTENCY_ENTRIES } from '../memory-budget.js'

/**
 * Recent sends by `(sender, clientSeq)` (docs/protocol.md: 5 minutes). A repeat
 * gets the first receipt again and stores nothing. Entries live in insertion
 * order, so expiry trims from the front; the size bound protects memory when
 * a flood outruns the window.
 */
export const IDEMPOTENCY_WINDOW_MS = 5 * 60 * 1000

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
