import type { Sql } from '../db/connect.js'
import { UserStatus } from '../db/schema.js'
import { PERMISSION_RELATION_OWNERS, PERMISSION_USERS, trimOldest } from '../memory-budget.js'

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

const MISSING: UserFacts = Object.freeze({ exists: false, banned: false, deleted: false, mutedUntil: 0 })

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
          from unnest(${this.sql.array(receivers)}::text[]::bigint[], ${this.sql.array(senders)}::text[]::bigint[]) as p(r, s)`
    ])
    for (const u of missingUsers) this.users.set(u, MISSING)
    for (const row of userRows) {
      this.users.set(row.userId, { exists: true, banned: row.status === UserStatus.BANNED, deleted: row.deleted, mutedUntil: row.mutedUntil?.getTime() ?? 0 })
    }
    for (const row of relationRows) {
      let owner = this.relations.get(row.r)
      if (owner === undefined) {
        owner = new Map()
        this.relations.set(row.r, owner)
      }
      owner.set(row.s, { friends: row.friends, blocked: row.blocked })
    }
    trimOldest(this.users, PERMISSION_USERS)
    trimOldest(this.relations, PERMISSION_RELATION_OWNERS)
  }
}
