import type { Sql } from '../db/connect.js'
import { AppError, Status } from '../errors.js'
import { isUserId } from '@implus/client/wire'
import { GroupRole, GroupStatus } from '../db/schema.js'
import { isManager, type Group, type MemberCache } from './members.js'

/** A group's system message as stored (contentType 99, docs/protocol.md "Groups"). */
export interface SystemEvent {
  readonly event: string
  readonly actorId: string
  readonly userIds?: readonly string[]
  readonly [field: string]: unknown
}

/** The system message a change was recorded as, or null when the call changed nothing. */
export type Recorded = { readonly msgId: string, readonly conversationSeq: number } | null

/**
 * Stages a system message in the group's own stream with the shard's current batch; after the commit its
 * 1007 goes to the members and to `alsoTell` (members just removed: told once).
 */
export type Announce = (group: Group, event: SystemEvent, text: string, alsoTell: readonly string[]) => Promise<Recorded>

export interface GroupSettings {
  readonly name?: string
  readonly notice?: string | null
  readonly avatarUrl?: string | null
}

const MAX_MUTE_MS = 30 * 24 * 3600 * 1000

/**
 * Group management, run by the shard that owns the group, in order with its messages. Changes are
 * written at once (not batched), so the HTTP answer means the change is stored, and recorded as a
 * system message in the group's stream (committed with the shard's batch, before the answer). The
 * shard's member cache is updated in step, so the next message already obeys the change.
 *
 * Who may do what: the owner everything; admins add members, remove and mute plain members, edit the
 * name, notice and avatar, and mute the whole group; members leave. Checks run in the order unknown
 * group (404), caller not a member (403), dismissed (410), unknown target (404), role (403).
 */
export class GroupAdmin {
  constructor (
    private readonly sql: Sql,
    private readonly cache: MemberCache,
    private readonly maxMembers: number
  ) {}

  /** The group, if the actor is one of its members; a dismissed group only when `dismissedToo`. */
  private require (conversationId: string, actor: string, dismissedToo = false): Group {
    const group = this.cache.get(conversationId)
    if (group === undefined) throw new AppError(Status.NOT_FOUND, 'unknown group')
    if (!group.members.has(actor)) throw new AppError(Status.FORBIDDEN, 'not a member of this group')
    if (!dismissedToo && group.status === GroupStatus.DISMISSED) throw new AppError(Status.GONE, 'the group is dismissed')
    return group
  }

  private target (group: Group, userId: string): void {
    if (!group.members.has(userId)) throw new AppError(Status.NOT_FOUND, `user ${userId} is not a member of this group`)
  }

  /** Owner or admins. */
  async add (conversationId: string, actor: string, userIds: string[], announce: Announce): Promise<string[]> {
    const group = this.require(conversationId, actor)
    const fresh = userIds.filter(u => isUserId(u) && !group.members.has(u))
    if (fresh.length > 0) {
      const existing = await this.sql<{ userId: string }[]>`
        select user_id as "userId" from users where user_id = any(${this.sql.array(fresh)}::text[]::bigint[]) and deleted_time is null`
      if (existing.length !== fresh.length) {
        const known = new Set(existing.map(r => r.userId))
        throw new AppError(Status.NOT_FOUND, `unknown users: ${fresh.filter(u => !known.has(u)).join(', ')}`)
      }
    }
    if (!isManager(group, actor)) throw new AppError(Status.FORBIDDEN, 'only the owner and admins may add members')
    if (fresh.length === 0) return []
    if (group.members.size + fresh.length > this.maxMembers) {
      throw new AppError(Status.CONFLICT, `the group is full: at most ${this.maxMembers} members (it has ${group.members.size})`)
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
    const names = await this.names([actor, ...fresh])
    await announce(group, { event: 'membersAdded', actorId: actor, userIds: fresh }, `${names.get(actor)} added ${fresh.map(u => names.get(u)).join(', ')}`, [])
    return fresh
  }

  /**
   * A member leaves (also a dismissed group); the owner removes anyone, an admin plain members. An
   * owner who leaves hands the group to the longest-standing member. The removed member is told once.
   */
  async remove (conversationId: string, actor: string, userId: string, announce: Announce): Promise<null> {
    const leaving = actor === userId
    const group = this.cache.get(conversationId)
    if (group === null || group === undefined) throw new AppError(Status.NOT_FOUND, 'unknown group')
    if (!leaving) {
      this.require(conversationId, actor)
      this.target(group, userId)
      const allowed = group.ownerId === actor || (group.admins.has(actor) && userId !== group.ownerId && !group.admins.has(userId))
      if (!allowed) throw new AppError(Status.FORBIDDEN, 'only the owner may remove admins, and only the owner and admins may remove members')
    } else if (!group.members.has(userId)) {
      throw new AppError(Status.NOT_FOUND, 'not a member')
    }
    group.members.delete(userId)
    const newOwner = group.ownerId === userId ? (group.members.values().next().value ?? '') : group.ownerId
    try {
      await this.sql.begin(tx => [
        tx`delete from group_members where conversation_id = ${conversationId} and user_id = ${userId}`,
        tx`delete from user_conversation_list where conversation_id = ${conversationId} and user_id = ${userId}`,
        tx`update group_members set role = ${GroupRole.OWNER} where conversation_id = ${conversationId} and user_id = ${newOwner === '' ? null : newOwner}`,
        tx`update conversation set owner_id = ${newOwner === '' ? null : newOwner}, member_count = member_count - 1, update_time = now()
           where conversation_id = ${conversationId}`
      ])
    } catch (err) {
      group.members.add(userId)
      throw err
    }
    const ownerChanged = newOwner !== group.ownerId
    group.ownerId = newOwner
    group.admins.delete(userId)
    group.admins.delete(newOwner)
    group.mutes.delete(userId)
    if (group.status === GroupStatus.DISMISSED || group.members.size === 0) return null
    const names = await this.names([actor, userId, newOwner])
    const text = leaving
      ? `${names.get(userId)} left the group${ownerChanged ? `; ${names.get(newOwner)} is the owner now` : ''}`
      : `${names.get(actor)} removed ${names.get(userId)}`
    const event: SystemEvent = leaving
      ? { event: 'memberLeft', actorId: actor, userIds: [userId], ...(ownerChanged ? { ownerId: newOwner } : {}) }
      : { event: 'memberRemoved', actorId: actor, userIds: [userId] }
    await announce(group, event, text, leaving ? [] : [userId])
    return null
  }

  /** Name, notice, avatar: owner or admins. One system message per field that changed. */
  async update (conversationId: string, actor: string, settings: GroupSettings, announce: Announce): Promise<Recorded> {
    const group = this.require(conversationId, actor)
    if (!isManager(group, actor)) throw new AppError(Status.FORBIDDEN, 'only the owner and admins may edit the group')
    const [before] = await this.sql<{ name: string | null, notice: string | null, avatarUrl: string | null }[]>`
      select name, notice, avatar_url as "avatarUrl" from conversation where conversation_id = ${conversationId}`
    const name = settings.name !== undefined && settings.name !== before!.name ? settings.name : undefined
    const notice = settings.notice !== undefined && settings.notice !== before!.notice ? settings.notice : undefined
    const avatarUrl = settings.avatarUrl !== undefined && settings.avatarUrl !== before!.avatarUrl ? settings.avatarUrl : undefined
    if (name === undefined && notice === undefined && avatarUrl === undefined) return null
    await this.sql`
      update conversation set
        name = ${name === undefined ? this.sql`name` : name},
        notice = ${notice === undefined ? this.sql`notice` : notice},
        avatar_url = ${avatarUrl === undefined ? this.sql`avatar_url` : avatarUrl},
        update_time = now()
      where conversation_id = ${conversationId}`
    const who = (await this.names([actor])).get(actor)!
    let recorded: Recorded = null
    if (name !== undefined) recorded = await announce(group, { event: 'renamed', actorId: actor, name }, `${who} renamed the group to "${name}"`, [])
    if (notice !== undefined) recorded = await announce(group, { event: 'noticeChanged', actorId: actor, notice }, notice === null || notice === '' ? `${who} cleared the notice` : `${who} changed the notice: ${notice}`, [])
    if (avatarUrl !== undefined) recorded = await announce(group, { event: 'avatarChanged', actorId: actor, avatarUrl }, `${who} changed the group's picture`, [])
    return recorded
  }

  /** The owner makes a member an admin, or an admin a plain member again. */
  async setAdmin (conversationId: string, actor: string, userId: string, admin: boolean, announce: Announce): Promise<Recorded> {
    const group = this.require(conversationId, actor)
    this.target(group, userId)
    if (group.ownerId !== actor) throw new AppError(Status.FORBIDDEN, 'only the owner may appoint admins')
    if (userId === group.ownerId) throw new AppError(Status.BAD_REQUEST, 'the owner is not an admin: transfer the group instead')
    if (group.admins.has(userId) === admin) return null
    await this.sql`
      update group_members set role = ${admin ? GroupRole.ADMIN : GroupRole.MEMBER}
      where conversation_id = ${conversationId} and user_id = ${userId}`
    if (admin) group.admins.add(userId)
    else group.admins.delete(userId)
    const names = await this.names([actor, userId])
    return await announce(group, { event: admin ? 'adminAdded' : 'adminRemoved', actorId: actor, userIds: [userId] },
      admin ? `${names.get(actor)} made ${names.get(userId)} an admin` : `${names.get(actor)} made ${names.get(userId)} a member again`, [])
  }

  /** The owner hands the group to another member and becomes a plain member. */
  async transfer (conversationId: string, actor: string, userId: string, announce: Announce): Promise<Recorded> {
    const group = this.require(conversationId, actor)
    this.target(group, userId)
    if (group.ownerId !== actor) throw new AppError(Status.FORBIDDEN, 'only the owner may transfer the group')
    if (userId === actor) return null
    await this.sql.begin(tx => [
      tx`update group_members set role = ${GroupRole.MEMBER} where conversation_id = ${conversationId} and user_id = ${actor}`,
      tx`update group_members set role = ${GroupRole.OWNER} where conversation_id = ${conversationId} and user_id = ${userId}`,
      tx`update conversation set owner_id = ${userId}, update_time = now() where conversation_id = ${conversationId}`
    ])
    group.ownerId = userId
    group.admins.delete(userId)
    const names = await this.names([actor, userId])
    return await announce(group, { event: 'ownerTransferred', actorId: actor, userIds: [userId] }, `${names.get(actor)} made ${names.get(userId)} the owner`, [])
  }

  /** Mutes a member until `until` (epoch ms; null lifts it): the owner anyone else, admins plain members. */
  async mute (conversationId: string, actor: string, userId: string, until: number | null, announce: Announce): Promise<Recorded> {
    const group = this.require(conversationId, actor)
    this.target(group, userId)
    const allowed = userId !== group.ownerId && userId !== actor && (group.ownerId === actor || (group.admins.has(actor) && !group.admins.has(userId)))
    if (!allowed) throw new AppError(Status.FORBIDDEN, 'only the owner may mute admins, only the owner and admins may mute members, and nobody the owner')
    if (until !== null && (until <= Date.now() || until > Date.now() + MAX_MUTE_MS)) throw new AppError(Status.BAD_REQUEST, 'a mute lasts from 1 second to 30 days')
    const current = group.mutes.get(userId) ?? 0
    if (until === null && current <= Date.now()) return null
    await this.sql`
      update group_members set muted_until = ${until === null ? null : new Date(until)}
      where conversation_id = ${conversationId} and user_id = ${userId}`
    if (until === null) group.mutes.delete(userId)
    else group.mutes.set(userId, until)
    const names = await this.names([actor, userId])
    return until === null
      ? await announce(group, { event: 'memberUnmuted', actorId: actor, userIds: [userId] }, `${names.get(actor)} unmuted ${names.get(userId)}`, [])
      : await announce(group, { event: 'memberMuted', actorId: actor, userIds: [userId], mutedUntil: new Date(until).toISOString() },
        `${names.get(actor)} muted ${names.get(userId)} until ${new Date(until).toISOString()}`, [])
  }

  /** Only the owner and admins may send while the whole group is muted. */
  async muteAll (conversationId: string, actor: string, muted: boolean, announce: Announce): Promise<Recorded> {
    const group = this.require(conversationId, actor)
    if (!isManager(group, actor)) throw new AppError(Status.FORBIDDEN, 'only the owner and admins may mute the group')
    if (group.muteAll === muted) return null
    await this.sql`update conversation set mute_all = ${muted}, update_time = now() where conversation_id = ${conversationId}`
    group.muteAll = muted
    const who = (await this.names([actor])).get(actor)!
    return await announce(group, { event: muted ? 'allMuted' : 'allUnmuted', actorId: actor },
      muted ? `${who} muted the group: only the owner and admins may send` : `${who} unmuted the group`, [])
  }

  /**
   * The owner dismisses the group: the last message of its stream says so; then sends are refused (410),
   * history stays readable by its members. Dismissing again changes nothing.
   */
  async dismiss (conversationId: string, actor: string, announce: Announce): Promise<Recorded> {
    const group = this.require(conversationId, actor, true)
    if (group.ownerId !== actor) throw new AppError(Status.FORBIDDEN, 'only the owner may dismiss the group')
    if (group.status === GroupStatus.DISMISSED) return null
    await this.sql`update conversation set status = ${GroupStatus.DISMISSED}, update_time = now() where conversation_id = ${conversationId}`
    group.status = GroupStatus.DISMISSED
    const who = (await this.names([actor])).get(actor)!
    return await announce(group, { event: 'dismissed', actorId: actor }, `${who} dismissed the group`, [])
  }

  /** Display names for system message texts (the username when none is set). */
  private async names (userIds: string[]): Promise<Map<string, string>> {
    const ids = [...new Set(userIds.filter(u => u !== ''))]
    const rows = await this.sql<{ userId: string, name: string }[]>`
      select user_id as "userId", coalesce(display_name, username) as name from users
      where user_id = any(${this.sql.array(ids)}::text[]::bigint[])`
    const names = new Map(rows.map(r => [r.userId, r.name]))
    for (const u of ids) if (!names.has(u)) names.set(u, u)
    return names
  }
}
