// One ordered message stream: the user's private stream (keyed by userSeq) or one group's stream (keyed by
// conversationSeq). Push brings messages fast but maybe out of order or not at all; pull brings the truth.
// This module decides, without any I/O, what may be delivered now and which seq ranges must be pulled.
// The decisions are pure functions (classify, findGaps) in the manner of centrifuge's isStreamRecovered.

/** Seqs from `from` to `to`, both included. */
export interface SeqRange {
  readonly from: number
  readonly to: number
}

/** How an arriving seq relates to the next one expected. */
export type Arrival = 'next' | 'early' | 'duplicate' | 'invalid'

export function classify (expected: number, seq: number): Arrival {
  if (!Number.isSafeInteger(seq) || seq < 1) return 'invalid'
  if (seq === expected) return 'next'
  return seq > expected ? 'early' : 'duplicate'
}

/**
 * Holes in (position, highest] that are neither held (`points`, ascending) nor covered by a span (`spans`,
 * ascending by `from`, may overlap), cut into ranges of at most `maxSize`, at most `maxCount` of them,
 * lowest first so the stream unblocks soonest.
 */
export function findGaps (
  position: number,
  highest: number,
  points: readonly number[],
  spans: readonly SeqRange[],
  maxSize: number,
  maxCount: number
): SeqRange[] {
  const gaps: SeqRange[] = []
  let cursor = position + 1
  let i = 0
  let j = 0
  while (cursor <= highest && gaps.length < maxCount) {
    while (i < points.length && points[i] < cursor) i++
    while (j < spans.length && spans[j].to < cursor) j++
    if (i < points.length && points[i] === cursor) {
      cursor++
      continue
    }
    if (j < spans.length && spans[j].from <= cursor) {
      cursor = spans[j].to + 1
      continue
    }
    const nextPoint = i < points.length ? points[i] : Infinity
    const nextSpan = j < spans.length ? spans[j].from : Infinity
    const to = Math.min(highest, nextPoint - 1, nextSpan - 1, cursor + maxSize - 1)
    gaps.push({ from: cursor, to })
    cursor = to + 1
  }
  return gaps
}

/** What one call produced: messages to hand to the app now, in seq order, and newly claimed gaps to pull. */
export interface StreamStep<M> {
  readonly deliver: M[]
  readonly gaps: readonly SeqRange[]
}

export interface SeqStreamOptions<M> {
  /** The message's seq in this stream (userSeq or conversationSeq); used for pulled messages. */
  readonly seqOf: (message: M) => number
  /** Last seq already delivered, e.g. from a SeqStore; 0 for a new stream. */
  readonly position?: number
  /** Early arrivals held at most; default 1,000. */
  readonly capacity?: number
  /** Gap ranges claimed (being pulled) at once; default 8. */
  readonly maxPulls?: number
  /** Seqs per gap range; default 200, the server's default pull-batch limit. */
  readonly maxPullSize?: number
}

/** A pulled range: seqs in it that the server did not return are empty. */
interface Resolved<M> {
  readonly from: number
  readonly to: number
  readonly messages: M[]
}

const NOTHING: readonly SeqRange[] = []

// Seq ranges recently skipped as empty that are remembered: enough to catch the race below, and bounded.
const SKIPPED_MEMORY = 64

function lowerBound (sorted: readonly number[], value: number): number {
  let lo = 0
  let hi = sorted.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (sorted[mid] < value) lo = mid + 1
    else hi = mid
  }
  return lo
}

function insertByFrom<R extends SeqRange> (ranges: R[], range: R): void {
  let at = ranges.length
  while (at > 0 && ranges[at - 1].from > range.from) at--
  ranges.splice(at, 0, range)
}

function positiveInteger (name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`SeqStream option ${name} must be a positive integer, got ${value}`)
  return value
}

function validPosition (value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`SeqStream position must be a non-negative integer, got ${value}`)
  return value
}

/**
 * Contract: every gap returned in a step is claimed until the caller settles it with `fill` (pulled) or
 * `release` (pull gave up); while claimed it is not reported again. A released gap is reported again by
 * the next `accept` or `noteLatest`.
 */
export class SeqStream<M> {
  readonly #seqOf: (message: M) => number
  readonly #capacity: number
  readonly #maxPulls: number
  readonly #maxPullSize: number
  #position: number
  #highest: number
  #keys: number[] = []
  #early = new Map<number, M>()
  #claims: SeqRange[] = []
  #resolved: Resolved<M>[] = []
  #skipped: SeqRange[] = []

  constructor (options: SeqStreamOptions<M>) {
    this.#seqOf = options.seqOf
    this.#capacity = positiveInteger('capacity', options.capacity ?? 1000)
    this.#maxPulls = positiveInteger('maxPulls', options.maxPulls ?? 8)
    this.#maxPullSize = positiveInteger('maxPullSize', options.maxPullSize ?? 200)
    this.#position = validPosition(options.position ?? 0)
    this.#highest = this.#position
  }

  /** Last seq delivered (or skipped as empty). */
  get position (): number {
    return this.#position
  }

  /** Highest seq known to exist. */
  get highest (): number {
    return this.#highest
  }

  /** Early arrivals held in the out-of-order buffer. */
  get buffered (): number {
    return this.#keys.length
  }

  /** Gap ranges claimed and not yet settled. */
  get pulling (): number {
    return this.#claims.length
  }

  /** A pushed message. */
  accept (seq: number, message: M): StreamStep<M> {
    const deliver: M[] = []
    if (!this.#place(seq, message, deliver)) return { deliver, gaps: NOTHING }
    return { deliver, gaps: this.#claimGaps() }
  }

  /**
   * The server's latest seq (1001's userSeq, a 1007 notification's conversationSeq, latest-seq): what lies
   * between the position and it must be pulled. Also the reconnect trigger for gaps released earlier.
   */
  noteLatest (seq: number): StreamStep<M> {
    if (classify(this.#position + 1, seq) !== 'invalid' && seq > this.#highest) this.#highest = seq
    return { deliver: [], gaps: this.#claimGaps() }
  }

  /**
   * The result of pulling [from, to]; settles the claims inside the range. Seqs in the range that are not in `messages` are empty: a server
   * restart may skip numbers, and a gap that pull cannot fill must not stall the stream. Messages outside
   * the range are taken as if pushed.
   */
  fill (from: number, to: number, messages: readonly M[]): StreamStep<M> {
    this.#unclaim(from, to)
    const deliver: M[] = []
    const lo = Math.max(from, this.#position + 1)
    const inside: M[] = []
    for (const message of messages) {
      const seq = this.#seqOf(message)
      if (seq >= lo && seq <= to) inside.push(message)
      else this.#place(seq, message, deliver)
    }
    if (lo <= to) {
      const seqOf = this.#seqOf
      inside.sort((a, b) => seqOf(a) - seqOf(b))
      const unique = inside.filter((message, i) => i === 0 || seqOf(inside[i - 1]) !== seqOf(message))
      insertByFrom(this.#resolved, { from: lo, to, messages: unique })
      this.#drain(deliver)
    }
    return { deliver, gaps: this.#claimGaps() }
  }

  /** Gives up a claimed gap (and any claim inside it) without filling it; the next trigger reports it again. */
  release (range: SeqRange): void {
    this.#unclaim(range.from, range.to)
  }

  /** Starts over at `position`, forgetting everything held, e.g. after loading a stored position. */
  reset (position: number): void {
    this.#position = validPosition(position)
    this.#highest = position
    this.#keys = []
    this.#early.clear()
    this.#claims = []
    this.#resolved = []
    this.#skipped = []
  }

  /** Files one message; false if its seq is invalid. */
  #place (seq: number, message: M, deliver: M[]): boolean {
    switch (classify(this.#position + 1, seq)) {
      case 'invalid':
        return false
      case 'duplicate':
        // A seq skipped as empty can still turn up: userSeqs of one user come from several shards, so a
        // pull may run before a lower seq's commit. Deliver it late rather than lose it.
        if (this.#takeSkipped(seq)) deliver.push(message)
        return true
      case 'next':
        deliver.push(message)
        this.#position = seq
        this.#drain(deliver)
        break
      case 'early':
        this.#hold(seq, message)
        break
    }
    if (seq > this.#highest) this.#highest = seq
    return true
  }

  #hold (seq: number, message: M): void {
    if (this.#early.has(seq)) return
    if (this.#keys.length >= this.#capacity) {
      // Drop the farthest ahead: it is the last one needed, and `highest` keeps it in a gap to pull.
      const farthest = this.#keys[this.#keys.length - 1]
      if (seq > farthest) return
      this.#keys.pop()
      this.#early.delete(farthest)
    }
    this.#keys.splice(lowerBound(this.#keys, seq), 0, seq)
    this.#early.set(seq, message)
  }

  /** Delivers everything contiguous with the position: held early arrivals and pulled ranges. */
  #drain (deliver: M[]): void {
    const keys = this.#keys
    let head = 0
    for (;;) {
      const next = this.#position + 1
      while (head < keys.length && keys[head] < next) this.#early.delete(keys[head++])
      if (head < keys.length && keys[head] === next) {
        deliver.push(this.#early.get(next) as M)
        this.#early.delete(next)
        head++
        this.#position = next
        continue
      }
      const range = this.#resolved[0]
      if (range === undefined || range.from > next) break
      this.#resolved.shift()
      if (range.to >= next) head = this.#consume(range, next, head, deliver)
    }
    keys.splice(0, head)
    if (this.#highest < this.#position) this.#highest = this.#position
  }

  /** Delivers a pulled range from `next` on, merged with early arrivals inside it; returns the new head. */
  #consume (range: Resolved<M>, next: number, head: number, deliver: M[]): number {
    const keys = this.#keys
    const pulled = range.messages
    let i = 0
    while (i < pulled.length && this.#seqOf(pulled[i]) < next) i++
    let cursor = next
    for (;;) {
      const a = i < pulled.length ? this.#seqOf(pulled[i]) : Infinity
      const b = head < keys.length && keys[head] <= range.to ? keys[head] : Infinity
      const seq = Math.min(a, b)
      if (seq === Infinity) break
      if (seq > cursor) this.#skip(cursor, seq - 1)
      if (a === seq) deliver.push(pulled[i++])
      else deliver.push(this.#early.get(b) as M)
      if (b === seq) this.#early.delete(keys[head++])
      cursor = seq + 1
    }
    if (cursor <= range.to) this.#skip(cursor, range.to)
    this.#position = range.to
    return head
  }

  #skip (from: number, to: number): void {
    this.#skipped.push({ from, to })
    if (this.#skipped.length > SKIPPED_MEMORY) this.#skipped.shift()
  }

  #takeSkipped (seq: number): boolean {
    const at = this.#skipped.findIndex((r) => r.from <= seq && seq <= r.to)
    if (at < 0) return false
    const { from, to } = this.#skipped[at]
    const rest: SeqRange[] = []
    if (from < seq) rest.push({ from, to: seq - 1 })
    if (seq < to) rest.push({ from: seq + 1, to })
    this.#skipped.splice(at, 1, ...rest)
    return true
  }

  #claimGaps (): readonly SeqRange[] {
    // Claims that pushes overtook no longer hold anything up; their late fill finds nothing to settle.
    if (this.#claims.length > 0 && this.#claims[0].to <= this.#position) this.#claims = this.#claims.filter((r) => r.to > this.#position)
    const room = this.#maxPulls - this.#claims.length
    if (room <= 0 || this.#highest <= this.#position) return NOTHING
    const spans: SeqRange[] = [...this.#claims, ...this.#resolved].sort((a, b) => a.from - b.from)
    const gaps = findGaps(this.#position, this.#highest, this.#keys, spans, this.#maxPullSize, room)
    for (const gap of gaps) insertByFrom(this.#claims, gap)
    return gaps
  }

  /** Settles every claim inside [from, to]. */
  #unclaim (from: number, to: number): void {
    this.#claims = this.#claims.filter((r) => r.from < from || r.to > to)
  }
}
