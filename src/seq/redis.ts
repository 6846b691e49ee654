import { readFileSync } from 'node:fs'
import type { Redis } from 'ioredis'
import { reservationFor, type SeqEngine } from './engine.js'
import { reserveSections } from './sections.js'
import type { Sql } from '../db/connect.js'
import { AppError, Status } from '../errors.js'

const ALLOCATE = readFileSync(new URL('./allocate.lua', import.meta.url), 'utf8')
const EXTEND = readFileSync(new URL('./extend.lua', import.meta.url), 'utf8')
const UNLOCK = readFileSync(new URL('./unlock.lua', import.meta.url), 'utf8')
// One hash tag for every key: a script's keys must share a slot on Redis Cluster.
const redisKey = (key: string): string => `implus:{seq}:${key}`
// A call short of a segment another host is reserving waits for it: at most ATTEMPTS × LOCK_WAIT_MS.
const ATTEMPTS = 100
const LOCK_WAIT_MS = 5
const LOCK_TTL_MS = 5000
const lockKey = (key: string): string => `implus:{seq}:lock:${key}`

type AllocateReply = [0, number[]] | [1, number[]]

interface SeqCommands {
  seqAllocate (...args: (string | number)[]): Promise<AllocateReply>
  seqExtend (...args: (string | number)[]): Promise<number>
  seqUnlock (...args: (string | number)[]): Promise<number>
}

/**
 * Cluster engine: segment state lives in Redis, shared by every host, and is
 * changed only by the Lua scripts beside this file (one atomic call each).
 * Segments are still reserved in `sequence_section` first, so Redis losing
 * its data costs skipped numbers, never reused ones.
 */
export class RedisSeqEngine implements SeqEngine {
  private readonly redis: Redis & SeqCommands
  /** This host's reservations in flight: concurrent calls short of one key share one reservation. */
  private readonly reserving = new Map<string, Promise<void>>()

  constructor (redis: Redis, private readonly sql: Sql) {
    redis.defineCommand('seqAllocate', { lua: ALLOCATE })
    redis.defineCommand('seqExtend', { lua: EXTEND })
    redis.defineCommand('seqUnlock', { lua: UNLOCK })
    this.redis = redis as Redis & SeqCommands
  }

  async close (): Promise<void> {
    await Promise.allSettled(this.reserving.values())
  }

  async prepare (): Promise<void> {
    // allocate.lua reports short keys and reserves in the same call: a separate look-ahead would cost
    // a Redis round trip to save one only at segment boundaries.
  }

  async latest (key: string): Promise<number | null> {
    // extend.lua sets `last` to a fresh segment's floor without handing anything out; `used` is not
    // tracked in Redis, so a floor may be reported: a client then pulls an empty range, which is harmless.
    const last = await this.redis.hget(redisKey(key), 'last')
    return last === null ? null : Number(last)
  }

  async allocate (keys: readonly string[]): Promise<Float64Array> {
    const counts = new Map<string, number>()
    for (const key of keys) counts.set(key, (counts.get(key) ?? 0) + 1)
    const unique = [...counts.keys()]
    const amounts = unique.map(k => counts.get(k)!)
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      let reply: AllocateReply
      try {
        reply = await this.redis.seqAllocate(unique.length, ...unique.map(redisKey), ...amounts)
      } catch (err) {
        throw new AppError(Status.UNAVAILABLE, `Redis unavailable: ${(err as Error).message}`)
      }
      if (reply[0] === 1) return spread(keys, unique, reply[1])
      const waits: Promise<void>[] = []
      const short: string[] = []
      const wanted: number[] = []
      for (const i of reply[1]) {
        const key = unique[i - 1]!
        const inFlight = this.reserving.get(key)
        if (inFlight !== undefined) waits.push(inFlight)
        else {
          short.push(key)
          wanted.push(amounts[i - 1]!)
        }
      }
      if (short.length > 0) waits.push(this.reserve(short, wanted))
      await Promise.all(waits)
    }
    throw new AppError(Status.UNAVAILABLE, 'sequence segments kept running out; retry')
  }

  /**
   * Reserves in PostgreSQL, then applies the new bounds in Redis (extend.lua).
   * One host at a time reserves a key's next segment (a short-lived lock in
   * Redis): two hosts reserving at once would get two segments, and whichever
   * extended Redis second would make numbering skip the other's. Keys locked
   * elsewhere are left out; the caller finds them extended when it looks again.
   * A lock won just after another host extended and unlocked finds the key no
   * longer short, and reserves nothing for it.
   */
  private reserve (keys: string[], wanted: number[]): Promise<void> {
    const done = (async () => {
      const token = `${process.pid}:${Math.random()}`
      let replies: [Error | null, unknown][]
      try {
        const pipeline = this.redis.pipeline()
        // Each HMGET runs after its SET NX: once the lock is ours, any earlier holder's extend has landed.
        for (const key of keys) pipeline.set(lockKey(key), token, 'PX', LOCK_TTL_MS, 'NX').hmget(redisKey(key), 'last', 'max')
        replies = (await pipeline.exec())!
      } catch (err) {
        throw new AppError(Status.UNAVAILABLE, `Redis unavailable: ${(err as Error).message}`)
      }
      const locked: string[] = []
      const mine: string[] = []
      const mineAmounts: number[] = []
      for (let i = 0; i < keys.length; i++) {
        const [lockErr, lock] = replies[2 * i]!
        if (lockErr !== null || lock !== 'OK') continue
        locked.push(keys[i]!)
        const [readErr, bounds] = replies[2 * i + 1]!
        const [last, max] = readErr === null ? (bounds as (string | null)[]).map(Number) : [0, 0]
        if (last! + wanted[i]! <= max!) continue
        mine.push(keys[i]!)
        mineAmounts.push(reservationFor(wanted[i]!))
      }
      if (locked.length < keys.length) await new Promise(resolve => setTimeout(resolve, LOCK_WAIT_MS))
      if (locked.length === 0) return
      try {
        if (mine.length === 0) return
        const bounds = await reserveSections(this.sql, mine, mineAmounts)
        const args: number[] = []
        for (let i = 0; i < mine.length; i++) args.push(bounds.get(mine[i]!)!, mineAmounts[i]!)
        await this.redis.seqExtend(mine.length, ...mine.map(redisKey), ...args)
      } catch (err) {
        throw new AppError(Status.UNAVAILABLE, `sequence segment not reserved: ${(err as Error).message}`)
      } finally {
        await this.redis.seqUnlock(locked.length, ...locked.map(lockKey), token).catch(() => {})
      }
    })().finally(() => {
      for (const key of keys) this.reserving.delete(key)
    })
    for (const key of keys) this.reserving.set(key, done)
    return done
  }
}

/** Hands each occurrence of a key the next number of its allocated run, in order. */
function spread (keys: readonly string[], unique: string[], first: number[]): Float64Array {
  const next = new Map<string, number>()
  for (let i = 0; i < unique.length; i++) next.set(unique[i]!, first[i]!)
  const out = new Float64Array(keys.length)
  for (let i = 0; i < keys.length; i++) {
    const n = next.get(keys[i]!)!
    out[i] = n
    next.set(keys[i]!, n + 1)
  }
  return out
}
