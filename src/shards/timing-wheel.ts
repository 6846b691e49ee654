/**
 * A hashed timing wheel (512 slots, 100 ms tick) for resends: adding and
 * cancelling are O(1) map operations and there is no timer per message. The
 * longest delay (30 s) is shorter than one turn of the wheel (51.2 s), so
 * entries need no round counter.
 */
export const WHEEL_SLOTS = 512
export const TICK_MS = 100

export interface WheelEntry<T> {
  readonly key: string
  value: T
  slot: number
}

export class TimingWheel<T> {
  private readonly slots: Map<string, WheelEntry<T>>[] = Array.from({ length: WHEEL_SLOTS }, () => new Map())
  private readonly index = new Map<string, WheelEntry<T>>()
  private cursor = 0

  get size (): number {
    return this.index.size
  }

  /** Schedules (or reschedules) `key` to fire after delayMs. */
  schedule (key: string, value: T, delayMs: number): void {
    const ticks = Math.min(WHEEL_SLOTS - 1, Math.max(1, Math.ceil(delayMs / TICK_MS)))
    const slot = (this.cursor + ticks) % WHEEL_SLOTS
    let entry = this.index.get(key)
    if (entry !== undefined) {
      this.slots[entry.slot]!.delete(key)
      entry.value = value
      entry.slot = slot
    } else {
      entry = { key, value, slot }
      this.index.set(key, entry)
    }
    this.slots[slot]!.set(key, entry)
  }

  cancel (key: string): T | undefined {
    const entry = this.index.get(key)
    if (entry === undefined) return undefined
    this.index.delete(key)
    this.slots[entry.slot]!.delete(key)
    return entry.value
  }

  /** Advances one tick and hands every entry due now to `fire` (removed first, so fire may reschedule). */
  tick (fire: (key: string, value: T) => void): void {
    this.cursor = (this.cursor + 1) % WHEEL_SLOTS
    const due = this.slots[this.cursor]!
    if (due.size === 0) return
    const entries = [...due.values()]
    due.clear()
    for (const entry of entries) {
      this.index.delete(entry.key)
      fire(entry.key, entry.value)
    }
  }
}
