import type { Sql } from '../db/connect.js'

export interface UserFacts {
  readonly exists: boolean
  readonly banned: boolean
  /** Epoch ms until which the user may not send; 0 when not muted. */
  readonly mutedUntil: number
}

/** How a receiver relates to a sender: friends (symmetric) and whether the receiver blocks the sender. */
export interface Relation {
  readonly friends: boolean
  readonly blocked: boolean
}

const MAX_USERS = 500_000
const MAX_RELATION_OWNERS = 200_000
const MISSING: UserFacts = Object.freeze({ exists: false, banned: false, mutedUntil: 0 })

/**
 * The facts permission checks need, cached per shard (bounded) so a send
 * costs map lookups, not queries. A batch first `load`s what it lacks in one
 * query per table; the main thread invalidates users whose status or
 * relations change (`forget`), so the cache never outlives a change.
 */
export class PermissionCache {
  private readonly users = new Map<string, UserFacts>()
  /** receiver → sender → relation */
  private readonly relations = new Map<string, Map<string, Relation>>()

  constructor (private readonly sql: Sql) {}

  user (userId: string): UserFacts {
    return this.users.get(userId) ?? MISSING
  }

  relation (receiver: string, sender: string): Relation | undefined {
    return this.relations.get(receiver)?.get(sender)
  }

  forget (userId: string): void {
    this.users.delete(userId)
    this.relations.delete(userId)
  }

  /** Fetches whatever of these users and (receiver, sender) pairs is not cached yet. */
  async load (userIds: Iterable<string>, pairs: Iterable<readonly [string, string]>): Promise<void> {
    const missingUsers = [...new Set([...userIds].filter(u => !this.users.has(u)))]
    const missingPairs = [...pairs].filter(([r, s]) => this.relation(r, s) === undefined)
    const receivers = missingPairs.map(p => p[0])
    const senders = missingPairs.map(p => p[1])
    const [userRows, friendRows, blockRows] = await Promise.all([
      missingUsers.length === 0
        ? []
        : this.sql<{ userId: string, status: number, mutedUntil: Date | null }[]>`
          select user_id as "userId", status, muted_until as "mutedUntil" from users
          where user_id = any(${this.sql.array(missingUsers)}::text[]::bigint[])`,
      missingPairs.length === 0
        ? []
        : this.sql<{ r: string, s: string }[]>`
          select f.user_id as r, f.friend_id as s from friendships f
          join unnest(${this.sql.array(receivers)}::text[]::bigint[], ${this.sql.array(senders)}::text[]::bigint[]) as p(r, s)
            on f.user_id = p.r and f.friend_id = p.s`,
      missingPairs.length === 0
        ? []
        : this.sql<{ r: string, s: string }[]>`
          select b.user_id as r, b.blocked_id as s from blacklist b
          join unnest(${this.sql.array(receivers)}::text[]::bigint[], ${this.sql.array(senders)}::text[]::bigint[]) as p(r, s)
            on b.user_id = p.r and b.blocked_id = p.s`
    ])
    for (const u of missingUsers) this.users.set(u, MISSING)
    for (const row of userRows) {
      this.users.set(row.userId, { exists: true, banned: row.status === 2, mutedUntil: row.mutedUntil?.getTime() ?? 0 })
    }
    const friends = new Set(friendRows.map(r => `${r.r}:${r.s}`))
    const blocks = new Set(blockRows.map(r => `${r.r}:${r.s}`))
    for (const [r, s] of missingPairs) {
      let owner = this.relations.get(r)
      if (owner === undefined) {
        owner = new Map()
        this.relations.set(r, owner)
      }
      owner.set(s, { friends: friends.has(`${r}:${s}`), blocked: blocks.has(`${r}:${s}`) })
    }
    trim(this.users, MAX_USERS)
    trim(this.relations, MAX_RELATION_OWNERS)
  }
}

function trim<K, V> (map: Map<K, V>, max: number): void {
  if (map.size <= max) return
  let excess = map.size - Math.floor(max * 0.9)
  for (const key of map.keys()) {
    if (excess-- <= 0) break
    map.delete(key)
  }
}
