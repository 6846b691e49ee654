// OpenAPI source of the message and conversation endpoints (src/http/messages.ts).
import { body, limit, object, ref, seq, type PathSpecs } from './spec.js'

const callerField = { ...ref('UserId'), description: 'optional; if given, must be the caller' }
const messages = { type: 'array', items: ref('MessageInfo') }
const msgIdParam = { ...ref('MsgId'), description: 'the message' }

export const messagePaths: PathSpecs = {
  '/api/messages/sync-check': {
    post: {
      operationId: 'syncCheck',
      summary: 'Is there anything newer than lastSyncSeq in the caller\'s stream?',
      auth: 'user',
      body: body({ lastSyncSeq: seq("the caller's last userSeq"), userId: callerField }, ['userId']),
      data: object({
        syncNeeded: { type: 'boolean', description: 'targetSeq > lastSyncSeq' },
        targetSeq: seq("the caller's latest userSeq"),
        currentSeq: seq('the lastSyncSeq sent')
      }),
      errors: [403]
    }
  },
  '/api/messages/pull-batch': {
    post: {
      operationId: 'pullBatch',
      summary: "The caller's messages with userSeq ≥ fromSeq, ascending",
      auth: 'user',
      body: body({ fromSeq: seq('first userSeq wanted'), limit: limit(200, 500), userId: callerField }, ['limit', 'userId']),
      data: object({
        messages,
        hasMore: { type: 'boolean', description: 'true only if a message ≥ nextSeq exists' },
        nextSeq: seq('last returned + 1 (fromSeq if none)')
      }),
      errors: [403]
    }
  },
  '/api/messages/pull': {
    post: {
      operationId: 'pull',
      summary: "One conversation's messages by conversationSeq, startSeq to endSeq inclusive (members only)",
      auth: 'user',
      body: body({
        conversationId: ref('ConversationId'),
        startSeq: seq('first conversationSeq'),
        endSeq: { type: ['integer', 'null'], minimum: 0, description: 'last conversationSeq, inclusive; none: up to limit' },
        limit: limit(100, 500),
        userId: callerField
      }, ['endSeq', 'limit', 'userId']),
      data: object({ conversationId: ref('ConversationId'), messages, hasMore: { type: 'boolean' } }),
      errors: [403, 404]
    }
  },
  '/api/group-messages/pull': {
    post: {
      operationId: 'groupPull',
      summary: 'Group messages after each lastSeq (members only)',
      auth: 'user',
      body: body({
        conversations: {
          type: 'object',
          description: 'conversationId → lastSeq: messages with a greater conversationSeq come back (at most 500 entries)',
          propertyNames: ref('GroupConversationId'),
          additionalProperties: { type: 'integer', minimum: 0 },
          maxProperties: 500
        },
        limit: limit(100, 500),
        userId: callerField
      }, ['limit', 'userId']),
      data: object({
        conversations: { type: 'object', propertyNames: ref('GroupConversationId'), additionalProperties: messages },
        latestSeqs: { type: 'object', propertyNames: ref('GroupConversationId'), additionalProperties: { type: 'integer', minimum: 0 } },
        hasMore: { type: 'boolean' }
      }),
      errors: [403]
    }
  },
  '/api/group-messages/latest-seq/{conversationId}': {
    get: {
      operationId: 'latestSeq',
      summary: "A group's latest conversationSeq (members only)",
      auth: 'user',
      params: { conversationId: { ...ref('GroupConversationId'), description: 'the group' } },
      data: object({ conversationId: ref('GroupConversationId'), latestSeq: seq('0 when empty') }),
      errors: [403, 404]
    }
  },
  '/api/messages/{msgId}/read-count': {
    get: {
      operationId: 'readCount',
      summary: 'How many members have read a message (members only)',
      auth: 'user',
      params: { msgId: msgIdParam },
      data: object({ msgId: ref('MsgId'), readCount: { type: 'integer', minimum: 0 } }),
      errors: [403, 404]
    }
  },
  '/api/messages/{msgId}/recall': {
    post: {
      operationId: 'recall',
      summary: 'Recall one of the caller\'s messages, as frame 2009 (its sender only, within the recall window)',
      auth: 'user',
      params: { msgId: msgIdParam },
      body: body({ userId: callerField }, ['userId']),
      data: object({ msgId: ref('MsgId'), conversationId: ref('ConversationId') }),
      errors: [403, 404]
    }
  },
  '/api/conversations/sync': {
    post: {
      operationId: 'syncConversations',
      summary: "The caller's conversations, newest first, with unread counts",
      auth: 'user',
      body: body({ limit: limit(100, 1000), userId: callerField }, ['limit', 'userId']),
      data: object({ conversations: { type: 'array', items: ref('ConversationSummary') }, totalUnreadCount: { type: 'integer', minimum: 0 } }),
      errors: [403]
    }
  }
}
