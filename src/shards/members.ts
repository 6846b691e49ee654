import type { Sql } from '../db/connect.js'

export interface Group {
  readonly conversationId: string
  ownerId: string
  /** Members in join order (the first is the longest-standing). */
  readonly members: Set<string>
}

const MAX_GROUPS = 50_000

/**
 * Group membership as the owning shard knows it: loaded on first use,
 * bounded, and changed only by the shard itself (members.add/remove run
 * here, in order with the group's messages), so it is exact, never stale.
 */
export class MemberCache {
  private readonly groups = new Map<string, Group | null>()

  constructor (private readonly sql: Sql) {}

  /** The group, null when it does not exist, undefined when not loaded yet. */
  get (conversationId: string): Group | null | undefined {
    return this.groups.get(conversationId)
  }

  async load (conversationIds: Iterable<string>): Promise<void> {
    const missing = [...new Set(conversationIds)].filter(c => !this.groups.has(c))
    if (missing.length === 0) return
    const [owners, rows] = await Promise.all([
      this.sql<{ conv: string, owner: string | null }[]>`
        select conversation_id as conv, owner_id as owner from conversation
        where conversation_id = any(${this.sql.array(missing)}::text[]) and type = 1`,
      this.sql<{ conv: string, userId: string }[]>`
        select conversation_id as conv, user_id as "userId" from group_members
        where conversation_id = any(${this.sql.array(missing)}::text[]) order by join_time, user_id`
    ])
    for (const c of missing) this.groups.set(c, null)
    for (const o of owners) this.groups.set(o.conv, { conversationId: o.conv, ownerId: o.owner ?? '', members: new Set() })
    for (const r of rows) this.groups.get(r.conv)?.members.add(r.userId)
    if (this.groups.size > MAX_GROUPS) {
      let excess = this.groups.size - Math.floor(MAX_GROUPS * 0.9)
      for (const key of this.groups.keys()) {
        if (excess-- <= 0) break
        this.groups.delete(key)
      }
    }
  }

  /** Drops a group so its next use reloads it (created or changed outside this shard). */
  forget (conversationId: string): void {
    this.groups.delete(conversationId)
  }
}
