import type { Sql } from '../db/connect.js'
import { AppError, Status } from '../errors.js'
import { isUserId } from '@implus/client/wire'
import type { Group, MemberCache } from './members.js'

/**
 * Membership changes, run by the shard that owns the group, in order with
 * its messages, and written at once (not batched) so the HTTP answer means
 * the change is stored. The shard's member cache is updated in step, so a
 * removed member gets nothing more from the next message on.
 */
export class GroupAdmin {
  constructor (private readonly sql: Sql, private readonly cache: MemberCache) {}

  private require (conversationId: string): Group {
    const group = this.cache.get(conversationId)
    if (group === undefined) throw new AppError(Status.NOT_FOUND, 'unknown group')
    return group
  }

  /** Owner only. Membership changes are written at once (not batched) so the HTTP answer means it is stored. */
  async add (conversationId: string, actor: string, userIds: string[]): Promise<string[]> {
    const group = this.require(conversationId)
    if (group.ownerId !== actor) throw new AppError(Status.FORBIDDEN, 'only the group owner may add members')
    const fresh = userIds.filter(u => isUserId(u) && !group.members.has(u))
    if (fresh.length === 0) return []
    const existing = await this.sql<{ userId: string }[]>`select user_id as "userId" from users where user_id = any(${this.sql.array(fresh)}::text[]::bigint[]) and deleted_time is null`
    if (existing.length !== fresh.length) {
      const known = new Set(existing.map(r => r.userId))
      throw new AppError(Status.NOT_FOUND, `unknown users: ${fresh.filter(u => !known.has(u)).join(', ')}`)
    }
    await this.sql.begin(tx => [
      tx`insert into group_members (conversation_id, user_id) select ${conversationId}, u from unnest(${tx.array(fresh)}::text[]::bigint[]) as u on conflict do nothing`,
      // A new member starts at the group's current seq: history before joining is not unread.
      tx`insert into user_conversation_list (user_id, conversation_id, sync_seq, last_read_seq, last_update_time)
         select u, ${conversationId}, c.last_seq, c.last_seq, now() from unnest(${tx.array(fresh)}::text[]::bigint[]) as u, conversation c
         where c.conversation_id = ${conversationId}
         on conflict (user_id, conversation_id) do update set sync_seq = excluded.sync_seq, last_read_seq = excluded.last_read_seq`,
      tx`update conversation set member_count = (select count(*) from group_members where conversation_id = ${conversationId}), update_time = now()
         where conversation_id = ${conversationId}`
    ])
    for (const u of fresh) group.members.add(u)
    return fresh
  }

  /** The owner removes anyone; a member removes itself (leaves). An owner who leaves hands the group to the longest-standing member. */
  async remove (conversationId: string, actor: string, userId: string): Promise<null> {
    const group = this.require(conversationId)
    if (actor !== userId && group.ownerId !== actor) throw new AppError(Status.FORBIDDEN, 'only the owner may remove other members')
    if (!group.members.has(userId)) throw new AppError(Status.NOT_FOUND, 'not a member')
    group.members.delete(userId)
    const newOwner = group.ownerId === userId ? (group.members.values().next().value ?? '') : group.ownerId
    try {
      await this.sql.begin(tx => [
        tx`delete from group_members where conversation_id = ${conversationId} and user_id = ${userId}`,
        tx`delete from user_conversation_list where conversation_id = ${conversationId} and user_id = ${userId}`,
        tx`update group_members set role = 1 where conversation_id = ${conversationId} and user_id = ${newOwner === '' ? null : newOwner}`,
        tx`update conversation set owner_id = ${newOwner === '' ? null : newOwner}, member_count = member_count - 1, update_time = now()
           where conversation_id = ${conversationId}`
      ])
    } catch (err) {
      group.members.add(userId)
      throw err
    }
    group.ownerId = newOwner
    return null
  }
}
