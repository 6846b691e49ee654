import type { HttpApi } from './server.js'
import { assertCaller } from './server.js'
import { conversationIdField, groupIdField, intField } from './validate.js'
import { badRequest, forbidden, notFound } from '../errors.js'
import { isMsgId } from '@implus/client/wire'
import type { Sql } from '../db/connect.js'
import type { ShardPool } from '../io/shard-pool.js'
import { latestUserSeq } from '../users/sequences.js'
import {
  conversationSummaries, latestSeqs, memberGroups, membership, messageHeader, pullByConversationSeq, pullByUserSeq, requireMember,
  pullConversations, readCount
} from '../messages/queries.js'

export interface MessageRouteDeps {
  readonly sql: Sql
  readonly shards: Pick<ShardPool, 'call'>
}

const PULL_BATCH_DEFAULT = 200
const PULL_DEFAULT = 100
const PULL_MAX = 500
const SYNC_DEFAULT = 100
const SYNC_MAX = 1000
const GROUP_PULL_MAX_CONVERSATIONS = 500

/** A seq from a body: a non-negative safe integer (JSON number). */
function seqField (value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw badRequest(`${name} must be a non-negative integer`)
  return value
}

function msgIdParam (value: string | undefined): string {
  if (!isMsgId(value)) throw badRequest('msgId must be a decimal 64-bit message id')
  return value
}

export function messageRoutes (api: HttpApi, { sql, shards }: MessageRouteDeps): void {
  api.post('/api/messages/sync-check', 'user', async req => {
    assertCaller(req, req.body.userId)
    const lastSyncSeq = seqField(req.body.lastSyncSeq, 'lastSyncSeq')
    const targetSeq = await latestUserSeq(sql, req.userId)
    return { syncNeeded: targetSeq > lastSyncSeq, targetSeq, currentSeq: lastSyncSeq }
  })

  api.post('/api/messages/pull-batch', 'user', async req => {
    assertCaller(req, req.body.userId)
    const fromSeq = seqField(req.body.fromSeq, 'fromSeq')
    const limit = intField(req.body.limit, 'limit', PULL_BATCH_DEFAULT, 1, PULL_MAX)
    const { messages, more } = await pullByUserSeq(sql, req.userId, fromSeq, limit)
    const last = messages[messages.length - 1]
    return { messages, hasMore: more, nextSeq: last === undefined ? fromSeq : last.seq + 1 }
  })

  api.post('/api/messages/pull', 'user', async req => {
    assertCaller(req, req.body.userId)
    const conversationId = conversationIdField(req.body.conversationId, 'conversationId')
    const startSeq = seqField(req.body.startSeq, 'startSeq')
    const endSeq = req.body.endSeq === undefined || req.body.endSeq === null ? null : seqField(req.body.endSeq, 'endSeq')
    if (endSeq !== null && endSeq < startSeq) throw badRequest('endSeq must not be below startSeq')
    const limit = intField(req.body.limit, 'limit', PULL_DEFAULT, 1, PULL_MAX)
    await requireMember(sql, req.userId, conversationId)
    const { messages, more } = await pullByConversationSeq(sql, conversationId, startSeq, endSeq, limit)
    return { conversationId, messages, hasMore: more }
  })

  api.post('/api/group-messages/pull', 'user', async req => {
    assertCaller(req, req.body.userId)
    const raw = req.body.conversations
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      throw badRequest('conversations must be an object of conversationId: lastSeq')
    }
    const entries = Object.entries(raw as Record<string, unknown>)
    if (entries.length > GROUP_PULL_MAX_CONVERSATIONS) throw badRequest(`conversations may hold at most ${GROUP_PULL_MAX_CONVERSATIONS} entries`)
    const after = new Map<string, number>()
    for (const [id, seq] of entries) after.set(groupIdField(id, 'conversations key'), seqField(seq, `conversations["${id}"]`))
    const limit = intField(req.body.limit, 'limit', PULL_DEFAULT, 1, PULL_MAX)
    const ids = [...after.keys()]
    const mine = await memberGroups(sql, req.userId, ids)
    const outside = ids.filter(id => !mine.has(id))
    if (outside.length > 0) throw forbidden(`not a member of ${outside.join(', ')}`)
    const [{ messages, more }, latest] = await Promise.all([pullConversations(sql, after, limit), latestSeqs(sql, ids)])
    return { conversations: Object.fromEntries(messages), latestSeqs: Object.fromEntries(latest), hasMore: more }
  })

  api.get('/api/group-messages/latest-seq/:conversationId', 'user', async req => {
    const conversationId = groupIdField(req.params[0], 'conversationId')
    await requireMember(sql, req.userId, conversationId)
    const latest = await latestSeqs(sql, [conversationId])
    return { conversationId, latestSeq: latest.get(conversationId) ?? 0 }
  })

  api.get('/api/messages/:msgId/read-count', 'user', async req => {
    const msgId = msgIdParam(req.params[0])
    const msg = await messageHeader(sql, msgId)
    if (msg === null) throw notFound(`message ${msgId} does not exist`)
    const m = await membership(sql, req.userId, msg.conversationId)
    if (m !== 'member') throw forbidden(`not a member of ${msg.conversationId}`)
    return { msgId, readCount: await readCount(sql, msg) }
  })

  api.post('/api/messages/:msgId/recall', 'user', async req => {
    assertCaller(req, req.body.userId)
    const msgId = msgIdParam(req.params[0])
    return await shards.call('recall', { userId: req.userId, msgId })
  })

  api.post('/api/conversations/sync', 'user', async req => {
    assertCaller(req, req.body.userId)
    const limit = intField(req.body.limit, 'limit', SYNC_DEFAULT, 1, SYNC_MAX)
    const { conversations, totalUnread } = await conversationSummaries(sql, req.userId, limit)
    return { conversations, totalUnreadCount: totalUnread }
  })
}
