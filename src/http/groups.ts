import type { HttpApi } from './server.js'
import { assertCaller } from './server.js'
import { groupIdField, optionalStringField, stringField, userIdField, userIdList } from './validate.js'
import { badRequest, notFound } from '../errors.js'
import { groupConversationId } from '@implus/client/wire'
import type { Sql } from '../db/connect.js'
import type { ShardPool } from '../io/shard-pool.js'
import { groupMembers, requireMember } from '../messages/queries.js'
import type { UserStore } from '../users/store.js'

export interface GroupRouteDeps {
  readonly sql: Sql
  readonly users: Pick<UserStore, 'exists'>
  readonly shards: Pick<ShardPool, 'call'>
  /** Membership changed here: other hosts' shards must reload it (cluster mode). */
  readonly groupChanged: (conversationId: string) => void
}

const MAX_NAME_CHARS = 64
const MAX_DESC_CHARS = 512
const MAX_MEMBERS_PER_REQUEST = 1000

/**
 * Group management. Creation writes the new group in one transaction here (nobody can send to it
 * before it exists); every later membership change goes through the group's shard, in order with
 * its messages.
 */
export function groupRoutes (api: HttpApi, { sql, users, shards, groupChanged }: GroupRouteDeps): void {
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
    groupChanged(conversationId)
    return conversationId
  })

  api.post('/api/groups/:conversationId/members', 'user', async req => {
    assertCaller(req, req.body.userId)
    const conversationId = groupIdField(req.params[0], 'conversationId')
    const userIds = userIdList(req.body.userIds, 'userIds', MAX_MEMBERS_PER_REQUEST)
    if (userIds.length === 0) throw badRequest('userIds must name at least one user')
    await shards.call('members.add', { conversationId, actor: req.userId, userIds })
    groupChanged(conversationId)
    return null
  })

  api.del('/api/groups/:conversationId/members/:userId', 'user', async req => {
    const conversationId = groupIdField(req.params[0], 'conversationId')
    const userId = userIdField(req.params[1], 'userId')
    await shards.call('members.remove', { conversationId, actor: req.userId, userId })
    groupChanged(conversationId)
    return null
  })

  api.get('/api/groups/:conversationId/members', 'user', async req => {
    const conversationId = groupIdField(req.params[0], 'conversationId')
    await requireMember(sql, req.userId, conversationId)
    return await groupMembers(sql, conversationId)
  })
}
