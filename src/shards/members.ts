import type { Sql } from '../db/connect.js'
import { MEMBER_CACHE_BYTES } from '../memory-budget.js'
import { GroupRole } from '../db/schema.js'

export interface Group {
  readonly conversationId: string
  ownerId: string
  /** Members in join order (the first is the longest-standing). */
  readonly members: Set<string>
  /** Members who are admins (not the owner). */
  readonly admins: Set<string>
  /** Members muted in this group: epoch ms until when (entries may have expired). */
  readonly mutes: Map<string, number>
  status: number
  /** Only the owner and admins may send. */
  muteAll: boolean
}

/** Owner or admin: may add, remove and mute members, and edit the group. */
export function isManager (group: Group, userId: string): boolean {
  return group.ownerId === userId || group.admins.has(userId)
}

// Estimates of V8's heap: a Map slot with its id string and a Group with its Set, and one member in a Set.
const GROUP_BYTES = 300
const MEMBER_BYTES = 80

/**
 * Group membership as the owning shard knows it: loaded on first use,
 * bounded in bytes, and changed only by the shard itself (members.add/remove
 * run here, in order with the group's messages), so it is exact, never stale.
 * Only groups that exist are kept: an id naming none costs a query, never memory.
 */
export class MemberCache {
  private readonly groups = new Map<string, Group>()
  /** Estimated bytes of each cached group, as counted when it was loaded. */
  private readonly sizes = new Map<string, number>()
  private size = 0

  constructor (private readonly sql: Sql, private readonly maxBytes = MEMBER_CACHE_BYTES) {}

  /** The group once loaded; undefined when it does not exist (after load) or is not loaded. */
  get (conversationId: string): Group | undefined {
    return this.groups.get(conversationId)
  }

  /** Estimated bytes held. */
  get bytes (): number {
    return this.size
  }

  /**
   * Makes these groups available to get() until the next load. Room is made first, and never by evicting
   * one of these: a batch never loses a group it just named.
   */
  async load (conversationIds: Iterable<string>): Promise<void> {
    const wanted = new Set(conversationIds)
    const missing = [...wanted].filter(c => !this.groups.has(c))
    if (missing.length === 0) return
    this.trim(wanted)
    const [owners, rows] = await Promise.all([
      this.sql<{ conv: string, owner: string | null, status: number, muteAll: boolean }[]>`
        select conversation_id as conv, owner_id as owner, status, mute_all as "muteAll" from conversation
        where conversation_id = any(${this.sql.array(missing)}::text[]) and type = 1`,
      this.sql<{ conv: string, userId: string, role: number, mutedUntil: Date | null }[]>`
        select conversation_id as conv, user_id as "userId", role, muted_until as "mutedUntil" from group_members
        where conversation_id = any(${this.sql.array(missing)}::text[]) order by join_time, user_id`
    ])
    const loaded: Group[] = []
    for (const o of owners) {
      if (this.groups.has(o.conv)) continue
      const group: Group = { conversationId: o.conv, ownerId: o.owner ?? '', members: new Set(), admins: new Set(), mutes: new Map(), status: o.status, muteAll: o.muteAll }
      this.groups.set(o.conv, group)
      loaded.push(group)
    }
    for (const r of rows) {
      const group = this.groups.get(r.conv)
      if (group === undefined) continue
      group.members.add(r.userId)
      if (r.role === GroupRole.ADMIN) group.admins.add(r.userId)
      if (r.mutedUntil !== null) group.mutes.set(r.userId, r.mutedUntil.getTime())
    }
    for (const group of loaded) {
      const bytes = GROUP_BYTES + group.members.size * MEMBER_BYTES
      this.sizes.set(group.conversationId, bytes)
      this.size += bytes
    }
  }

  /** Drops a group so its next use reloads it (created or changed outside this shard). */
  forget (conversationId: string): void {
    this.size -= this.sizes.get(conversationId) ?? 0
    this.sizes.delete(conversationId)
    this.groups.delete(conversationId)
  }

  /** Evicts the oldest groups not in `keep` until the cache is at 90 % of its budget. */
  private trim (keep: ReadonlySet<string>): void {
    if (this.size <= this.maxBytes) return
    const target = this.maxBytes * 0.9
    for (const id of this.groups.keys()) {
      if (this.size <= target) break
      if (!keep.has(id)) this.forget(id)
    }
  }
}
