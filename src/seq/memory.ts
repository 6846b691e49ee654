import { reservationFor, type SeqEngine } from './engine.js'
import { reserveSections } from './sections.js'
import type { Sql } from '../db/connect.js'
import { SEQ_SEGMENT_KEYS, trimOldest } from '../memory-budget.js'

interface Segment {
  /** Last number handed out. */
  last: number
  /** Committed upper bound: numbers up to here may be handed out. */
  max: number
  /** Whether `last` was handed out (after a fresh reservation it is only the segment's floor). */
  used: boolean
}

/**
 * Single-host engine: segments held in this process. The first use of a key
 * after start reserves a fresh segment above the committed bound, which is
 * how a restart resumes above every number used before.
 */
export class MemorySeqEngine implements SeqEngine {
  private readonly segments = new Map<string, Segment>()
  /** Reservations in flight, so concurrent calls short of the same key wait for one, not reserve twice. */
  private readonly reserving = new Map<string, Promise<void>>()

  constructor (private readonly sql: Sql) {}

  async prepare (keys: readonly string[]): Promise<void> {
    const need = new Map(keys.map(k => [k, 1]))
    for (let waits = this.reserveShort(need); waits.length > 0; waits = this.reserveShort(need)) await Promise.all(waits)
  }

  async allocate (keys: readonly string[]): Promise<Float64Array> {
    const need = new Map<string, number>()
    for (const key of keys) need.set(key, (need.get(key) ?? 0) + 1)
    // Room is checked and used in one synchronous step: between an await and the next line another
    // call may have taken the room, so a call that waited looks again before it takes numbers.
    for (let waits = this.reserveShort(need); waits.length > 0; waits = this.reserveShort(need)) await Promise.all(waits)
    const out = new Float64Array(keys.length)
    for (let i = 0; i < keys.length; i++) {
      const segment = this.segments.get(keys[i]!)!
      segment.used = true
      out[i] = ++segment.last
    }
    return out
  }

  /** Starts (or joins) reservations for keys without room for `need`; empty when every key has room now. */
  private reserveShort (need: Map<string, number>): Promise<void>[] {
    const short: string[] = []
    const amounts: number[] = []
    const waits: Promise<void>[] = []
    for (const [key, count] of need) {
      const segment = this.segments.get(key)
      if (segment !== undefined && segment.max - segment.last >= count) continue
      const inFlight = this.reserving.get(key)
      if (inFlight !== undefined) waits.push(inFlight)
      else {
        short.push(key)
        amounts.push(reservationFor(count - (segment === undefined ? 0 : segment.max - segment.last)))
      }
    }
    if (short.length > 0) waits.push(this.reserve(short, amounts))
    return waits
  }

  async latest (key: string): Promise<number | null> {
    const segment = this.segments.get(key)
    return segment?.used === true ? segment.last : null
  }

  async close (): Promise<void> {
    await Promise.all(this.reserving.values())
  }

  private reserve (keys: string[], amounts: number[]): Promise<void> {
    const done = reserveSections(this.sql, keys, amounts).then(bounds => {
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i]!
        const max = bounds.get(key)!
        const segment = this.segments.get(key)
        // A segment still holding numbers continues into the new one when they are adjacent; otherwise
        // (evicted key, first use since start) numbering resumes at the new segment: a jump, never a repeat.
        if (segment !== undefined && segment.max === max - amounts[i]!) segment.max = max
        else this.segments.set(key, { last: max - amounts[i]!, max, used: false })
      }
      // Forgotten keys reserve a new segment on their next use: numbers jump, never repeat.
      trimOldest(this.segments, SEQ_SEGMENT_KEYS, key => this.reserving.has(key))
    }).finally(() => {
      for (const key of keys) this.reserving.delete(key)
    })
    for (const key of keys) this.reserving.set(key, done)
    return done
  }
}
