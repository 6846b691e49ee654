import type { HttpApi } from './server.js'
import { assertCaller } from './server.js'
import { groupIdField, httpUrlOrNull, intField, optionalStringField, stringField, userIdField, userIdList } from './validate.js'
import { badRequest, notFound } from '../errors.js'
import { groupConversationId } from '@implus/client/wire'
import type { Sql } from '../db/connect.js'
import type { ShardPool } from '../io/shard-pool.js'
import { groupMembers, requireMember } from '../messages/queries.js'
import type { UserStore } from '../users/store.js'
import type { GroupSettings } from '../shards/group-admin.js'
import type { CallOp, ShardCalls } from '../shards/thread-messages.js'
import { GroupRole } from '../db/schema.js'

export interface GroupRouteDeps {
  readonly sql: Sql
  readonly users: Pick<UserStore, 'exists'>
  readonly shards: Pick<ShardPool, 'call'>
  /**
   * Membership or settings changed here: other hosts' shards must reload the group (cluster mode). The
   * answer waits until the event is published, so other hosts hear of it before the client does.
   */
  readonly groupChanged: (conversationId: string) => Promise<void>
  /** IMPLUS_MAX_GROUP_MEMBERS. */
  readonly maxMembers: number
}

const MAX_NAME_CHARS = 64
const MAX_DESC_CHARS = 512
const MAX_MEMBERS_PER_REQUEST = 1000
const MAX_NOTICE_CHARS = 2000
const MAX_MUTE_SECONDS = 30 * 24 * 3600

/** What GET /api/groups/{conversationId} answers (docs/protocol.md "Groups"). */
async function groupInfo (sql: Sql, conversationId: string, maxMembers: number): Promise<Record<string, unknown>> {
  const [row] = await sql<{ name: string | null, description: string | null, notice: string | null, avatarUrl: string | null, ownerId: string | null, memberCount: number, status: number, muteAll: boolean, createTime: Date, admins: string[] }[]>`
    select c.name, c.description, c.notice, c.avatar_url as "avatarUrl", c.owner_id as "ownerId", c.member_count as "memberCount",
           c.status, c.mute_all as "muteAll", c.create_time as "createTime",
           array(select m.user_id::text from group_members m where m.conversation_id = c.conversation_id and m.role = ${GroupRole.ADMIN} order by m.join_time) as admins
    from conversation c where c.conversation_id = ${conversationId}`
  return {
    conversationId,
    name: row!.name ?? '',
    description: row!.description,
    notice: row!.notice,
    avatarUrl: row!.avatarUrl,
    ownerId: row!.ownerId,
    admins: row!.admins,
    memberCount: row!.memberCount,
    maxMembers,
    status: row!.status,
    muteAll: row!.muteAll,
    createTime: row!.createTime.toISOString()
  }
}

/** The caller's groups, most recently active first. */
async function myGroups (sql: Sql, userId: string): Promise<Record<string, unknown>[]> {
  const rows = await sql<{ conversationId: string, name: string | null, avatarUrl: string | null, memberCount: number, status: number, role: number }[]>`
    select c.conversation_id as "conversationId", c.name, c.avatar_url as "avatarUrl", c.member_count as "memberCount", c.status, m.role
    from group_members m join conversation c on c.conversation_id = m.conversation_id
    where m.user_id = ${userId} order by coalesce(c.last_msg_time, c.create_time) desc, c.conversation_id`
  return rows.map(r => ({ ...r, name: r.name ?? '' }))
}

/** Members with their roles and group mutes, in join order. */
async function roster (sql: Sql, conversationId: string): Promise<Record<string, unknown>[]> {
  const rows = await sql<{ userId: string, role: number, mutedUntil: Date | null, joinTime: Date }[]>`
    select user_id as "userId", role, muted_until as "mutedUntil", join_time as "joinTime"
    from group_members where conversation_id = ${conversationId} order by join_time, user_id`
  const now = Date.now()
  return rows.map(r => ({
    userId: r.userId,
    role: r.role,
    mutedUntil: r.mutedUntil !== null && r.mutedUntil.getTime() > now ? r.mutedUntil.toISOString() : null,
    joinTime: r.joinTime.toISOString()
  }))
}

/**
 * Group management. Creation writes the new group in one transaction here (nobody can send to it
 * before it exists); every later membership change goes through the group's shard, in order with
 * its messages.
 */
export function groupRoutes (api: HttpApi, { sql, users, shards, groupChanged, maxMembers }: GroupRouteDeps): void {
  /** A change run by the group's shard (GroupAdmin), then announced to other hosts' shards. */
  const change = async <Op extends CallOp>(op: Op, args: ShardCalls[Op]['args'] & { readonly conversationId: string }): Promise<ShardCalls[Op]['result']> => {
    const value = await shards.call(op, args)
    await groupChanged(args.conversationId)
    return value
  }

  api.post('/api/conversations/create', 'user', async req => {
    const { body } = req
    assertCaller(req, body.userId)
    const name = stringField(body.conversationName, 'conversationName', 1, MAX_NAME_CHARS)
    const description = optionalStringField(body.conversationDesc, 'conversationDesc', MAX_DESC_CHARS)
    if (body.conversationType !== undefined && body.conversationType !== 'GROUP') {
      throw badRequest('conversationType must be "GROUP": only groups are created explicitly')
    }
    const listed = body.members === undefined || body.members === null ? [] : userIdList(body.members, 'members', MAX_MEMBERS_PER_REQUEST)
    // The creator first: it is the owner and the longest-standing member.
    const members = [req.userId, ...listed.filter(u => u !== req.userId)]
    if (members.length > maxMembers) throw badRequest(`a group has at most ${maxMembers} members, the creator included`)
    const found = await users.exists(members)
    if (found.size !== members.length) throw notFound(`unknown users: ${members.filter(u => !found.has(u)).join(', ')}`)
    const conversationId = await sql.begin(async tx => {
      const [row] = await tx<{ id: string }[]>`select nextval('group_id_seq') as id`
      const id = groupConversationId(row!.id)
      await tx`
        insert into conversation (conversation_id, type, name, description, owner_id, member_count)
        values (${id}, 1, ${name}, ${description}, ${req.userId}, ${members.length})`
      // Join times one microsecond apart keep the listed order (the owner first) as the join order.
      await tx`
        insert into group_members (conversation_id, user_id, role, join_time)
        select ${id}, u, case when u = ${req.userId}::bigint then 1 else 0 end, now() + (n * interval '1 microsecond')
        from unnest(${tx.array(members)}::text[]::bigint[]) with ordinality as t(u, n)`
      await tx`
        insert into user_conversation_list (user_id, conversation_id, last_read_seq, sync_seq, unread_count, last_update_time)
        select u, ${id}, 0, 0, 0, now() from unnest(${tx.array(members)}::text[]::bigint[]) as u`
      return id
    })
    // A shard, here or on another host, may have cached "no such group" (someone sent to the id early).
    await shards.call('group.forget', { conversationId })
    await groupChanged(conversationId)
    return conversationId
  })

  api.post('/api/groups/:conversationId/members', 'user', async req => {
    assertCaller(req, req.body.userId)
    const conversationId = groupIdField(req.params[0], 'conversationId')
    const userIds = userIdList(req.body.userIds, 'userIds', MAX_MEMBERS_PER_REQUEST)
    if (userIds.length === 0) throw badRequest('userIds must name at least one user')
    await change('members.add', { conversationId, actor: req.userId, userIds })
    return null
  })

  api.del('/api/groups/:conversationId/members/:userId', 'user', async req => {
    const conversationId = groupIdField(req.params[0], 'conversationId')
    const userId = userIdField(req.params[1], 'userId')
    await change('members.remove', { conversationId, actor: req.userId, userId })
    return null
  })

  api.get('/api/groups', 'user', async req => await myGroups(sql, req.userId))

  api.get('/api/groups/:conversationId', 'user', async req => {
    const conversationId = groupIdField(req.params[0], 'conversationId')
    await requireMember(sql, req.userId, conversationId)
    return await groupInfo(sql, conversationId, maxMembers)
  })

  api.get('/api/groups/:conversationId/roster', 'user', async req => {
    const conversationId = groupIdField(req.params[0], 'conversationId')
    await requireMember(sql, req.userId, conversationId)
    return await roster(sql, conversationId)
  })

  api.post('/api/groups/:conversationId/settings', 'user', async req => {
    const conversationId = groupIdField(req.params[0], 'conversationId')
    const { body } = req
    const settings: GroupSettings = {
      ...(body.name !== undefined ? { name: stringField(body.name, 'name', 1, MAX_NAME_CHARS) } : {}),
      ...(body.notice !== undefined ? { notice: optionalStringField(body.notice, 'notice', MAX_NOTICE_CHARS) } : {}),
      ...(body.avatarUrl !== undefined ? { avatarUrl: httpUrlOrNull(body.avatarUrl, 'avatarUrl') } : {})
    }
    if (Object.keys(settings).length === 0) throw badRequest('give name, notice, avatarUrl or several')
    return await change('group.update', { conversationId, actor: req.userId, settings })
  })

  api.post('/api/groups/:conversationId/admins', 'user', async req => {
    const conversationId = groupIdField(req.params[0], 'conversationId')
    const userId = userIdField(req.body.userId, 'userId')
    if (typeof req.body.admin !== 'boolean') throw badRequest('admin must be true or false')
    return await change('group.admin', { conversationId, actor: req.userId, userId, admin: req.body.admin })
  })

  api.post('/api/groups/:conversationId/transfer', 'user', async req => {
    const conversationId = groupIdField(req.params[0], 'conversationId')
    const userId = userIdField(req.body.userId, 'userId')
    return await change('group.transfer', { conversationId, actor: req.userId, userId })
  })

  api.post('/api/groups/:conversationId/mute', 'user', async req => {
    const conversationId = groupIdField(req.params[0], 'conversationId')
    const userId = userIdField(req.body.userId, 'userId')
    const seconds = intField(req.body.seconds, 'seconds', -1, 0, MAX_MUTE_SECONDS)
    if (seconds === -1) throw badRequest('seconds is required: how long the mute lasts, 0 lifts it')
    const until = seconds === 0 ? null : Date.now() + seconds * 1000
    return await change('group.mute', { conversationId, actor: req.userId, userId, until })
  })

  api.post('/api/groups/:conversationId/mute-all', 'user', async req => {
    const conversationId = groupIdField(req.params[0], 'conversationId')
    if (typeof req.body.muted !== 'boolean') throw badRequest('muted must be true or false')
    return await change('group.muteAll', { conversationId, actor: req.userId, muted: req.body.muted })
  })

  api.post('/api/groups/:conversationId/dismiss', 'user', async req => {
    const conversationId = groupIdField(req.params[0], 'conversationId')
    return await change('group.dismiss', { conversationId, actor: req.userId })
  })

  api.get('/api/groups/:conversationId/members', 'user', async req => {
    const conversationId = groupIdField(req.params[0], 'conversationId')
    await requireMember(sql, req.userId, conversationId)
    return await groupMembers(sql, conversationId)
  })
}
