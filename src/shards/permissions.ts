import type { Sql } from '../db/connect.js'
import { UserStatus } from '../db/schema.js'
import { PERMISSION_CACHE_BYTES } from '../memory-budget.js'

export interface UserFacts {
  readonly exists: boolean
  readonly banned: boolean
  /** The account was deleted (soft delete): it neither sends nor receives. */
  readonly deleted: boolean
  /** Epoch ms until which the user may not send; 0 when not muted. */
  readonly mutedUntil: number
}

/** How a receiver relates to a sender: friends (symmetric) and whether the receiver blocks the sender. */
export interface Relation {
  readonly friends: boolean
  readonly blocked: boolean
}

// Estimates of V8's heap: a Map slot with its id string and the facts object; a receiver's inner Map; one relation.
const USER_BYTES = 200
const OWNER_BYTES = 250
const RELATION_BYTES = 150
const MISSING: UserFacts = Object.freeze({ exists: false, banned: false, deleted: false, mutedUntil: 0 })
/** The relation toward a receiver that does not exist (none is cached): nothing granted. */
const STRANGERS: Relation = Object.freeze({ friends: false, blocked: false })

/**
 * The facts permission checks need, cached per shard (bounded in bytes) so a
 * send costs map lookups, not queries. A batch first `load`s what it lacks in
 * one query per table; the main thread invalidates users whose status or
 * relations change (`forget`), so the cache never outlives a change. Only
 * users that exist are kept, and relations only toward them: ids naming no one
 * cost a query, never memory.
 */
export class PermissionCache {
  private readonly users = new Map<string, UserFacts>()
  /** receiver → sender → relation */
  private readonly relations = new Map<string, Map<string, Relation>>()
  private size = 0

  constructor (private readonly sql: Sql, private readonly maxBytes = PERMISSION_CACHE_BYTES) {}

  /** Estimated bytes held. */
  get bytes (): number {
    return this.size
  }

  /** A user's facts once loaded; MISSING for a user that does not exist (or is not loaded). */
  user (userId: string): UserFacts {
    return this.users.get(userId) ?? MISSING
  }

  /** Whether the user's facts are cached (it exists and was loaded). */
  has (userId: string): boolean {
    return this.users.has(userId)
  }

  /** Whether the receiver's relation to the sender is cached. */
  hasRelation (receiver: string, sender: string): boolean {
    return this.relations.get(receiver)?.has(sender) === true
  }

  /** How a receiver relates to a sender once loaded; STRANGERS when the receiver does not exist. */
  relation (receiver: string, sender: string): Relation {
    return this.relations.get(receiver)?.get(sender) ?? STRANGERS
  }

  forget (userId: string): void {
    if (this.users.delete(userId)) this.size -= USER_BYTES
    const owned = this.relations.get(userId)
    if (owned !== undefined) {
      this.size -= OWNER_BYTES + owned.size * RELATION_BYTES
      this.relations.delete(userId)
    }
  }

  /**
   * Fetches whatever of these users and (receiver, sender) pairs is not cached yet. Room is made first,
   * never by evicting what this batch names, so every fact it asked for is there until the next load.
   */
  async load (userIds: Iterable<string>, pairs: Iterable<readonly [string, string]>): Promise<void> {
    const wanted = new Set(userIds)
    const wantedPairs = [...pairs]
    const missingUsers = [...wanted].filter(u => !this.users.has(u))
    const missingPairs = wantedPairs.filter(([r, s]) => this.relations.get(r)?.get(s) === undefined)
    if (missingUsers.length === 0 && missingPairs.length === 0) return
    for (const [r] of wantedPairs) wanted.add(r)
    this.trim(wanted)
    // Relations are cached under the receiver: the receiver's changes (unfriend, block) invalidate them.
    const receivers = missingPairs.map(p => p[0])
    const senders = missingPairs.map(p => p[1])
    const [userRows, relationRows] = await Promise.all([
      missingUsers.length === 0
        ? []
        : this.sql<{ userId: string, status: number, mutedUntil: Date | null, deleted: boolean }[]>`
          select user_id as "userId", status, muted_until as "mutedUntil", deleted_time is not null as deleted from users
          where user_id = any(${this.sql.array(missingUsers)}::text[]::bigint[])`,
      missingPairs.length === 0
        ? []
        : this.sql<{ r: string, s: string, friends: boolean, blocked: boolean }[]>`
          select p.r, p.s,
            exists (select 1 from friendships f where f.user_id = p.r and f.friend_id = p.s) as friends,
            exists (select 1 from blacklist b where b.user_id = p.r and b.blocked_id = p.s) as blocked
          from unnest(${this.sql.array(receivers)}::text[]::bigint[], ${this.sql.array(senders)}::text[]::bigint[]) as p(r, s)
          where exists (select 1 from users u where u.user_id = p.r)`
    ])
    for (const row of userRows) {
      if (!this.users.has(row.userId)) this.size += USER_BYTES
      this.users.set(row.userId, { exists: true, banned: row.status === UserStatus.BANNED, deleted: row.deleted, mutedUntil: row.mutedUntil?.getTime() ?? 0 })
    }
    for (const row of relationRows) {
      let owner = this.relations.get(row.r)
      if (owner === undefined) {
        owner = new Map()
        this.relations.set(row.r, owner)
        this.size += OWNER_BYTES
      }
      if (!owner.has(row.s)) this.size += RELATION_BYTES
      owner.set(row.s, { friends: row.friends, blocked: row.blocked })
    }
  }

  /** Evicts the oldest users (with the relations toward them) not in `keep` until the cache is at 90 % of its budget. */
  private trim (keep: ReadonlySet<string>): void {
    if (this.size <= this.maxBytes) return
    const target = this.maxBytes * 0.9
    for (const id of this.users.keys()) {
      if (this.size <= target) return
      if (!keep.has(id)) this.forget(id)
    }
    for (const id of this.relations.keys()) {
      if (this.size <= target) return
      if (!keep.has(id)) this.forget(id)
    }
  }
}
