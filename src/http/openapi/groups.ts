// OpenAPI source of the group endpoints (src/http/groups.ts).
import { NO_DATA, body, nullable, object, ref, type JsonSchema, type PathSpecs } from './spec.js'

const groupParam = { ...ref('GroupConversationId'), description: 'the group' }
const userIds = (max: number) => ({ type: 'array', items: ref('UserId'), maxItems: max })
const GROUP_STATUS = { enum: [1, 2], description: '1 active, 2 dismissed' }
const ROLE = { enum: [0, 1, 2], description: '0 member, 1 owner, 2 admin' }

export const groupPaths: PathSpecs = {
  '/api/conversations/create': {
    post: {
      operationId: 'createGroup',
      summary: 'Create a group; the caller is its owner and first member',
      auth: 'user',
      body: body({
        conversationName: { type: 'string', minLength: 1, maxLength: 64 },
        conversationDesc: { type: ['string', 'null'], maxLength: 512 },
        conversationType: { const: 'GROUP' },
        members: userIds(1000),
        userId: { ...ref('UserId'), description: 'optional; if given, must be the caller' }
      }, ['conversationDesc', 'conversationType', 'members', 'userId']),
      data: { ...ref('GroupConversationId'), description: 'the new group' },
      errors: [403, 404]
    }
  },
  '/api/groups/{conversationId}/members': {
    post: {
      operationId: 'addMembers',
      summary: 'Add members (the owner and admins); recorded as a system message',
      auth: 'user',
      params: { conversationId: groupParam },
      body: body({ userIds: { ...userIds(1000), minItems: 1 }, userId: { ...ref('UserId'), description: 'optional; if given, must be the caller' } }, ['userId']),
      data: NO_DATA,
      errors: [403, 404, 409, 410]
    },
    get: {
      operationId: 'members',
      summary: "A group's members (members only)",
      auth: 'user',
      params: { conversationId: groupParam },
      data: { type: 'array', items: ref('UserId') },
      errors: [403, 404]
    }
  },
  '/api/groups/{conversationId}/members/{userId}': {
    delete: {
      operationId: 'removeMember',
      summary: 'The owner removes anyone, an admin plain members, or a member leaves; recorded as a system message',
      auth: 'user',
      params: { conversationId: groupParam, userId: { ...ref('UserId'), description: 'the member' } },
      data: NO_DATA,
      errors: [403, 404, 410]
    }
  },
  '/api/groups': {
    get: {
      operationId: 'myGroups',
      summary: "The caller's groups, most recently active first",
      auth: 'user',
      data: {
        type: 'array',
        items: object({
          conversationId: ref('GroupConversationId'),
          name: { type: 'string' },
          avatarUrl: nullable({ type: 'string' }),
          memberCount: { type: 'integer', minimum: 0 },
          status: GROUP_STATUS,
          role: ROLE
        })
      }
    }
  },
  '/api/groups/{conversationId}': {
    get: {
      operationId: 'groupInfo',
      summary: "A group's name, notice, avatar, owner, admins, size and status (members only)",
      auth: 'user',
      params: { conversationId: groupParam },
      data: object({
        conversationId: ref('GroupConversationId'),
        name: { type: 'string' },
        description: nullable({ type: 'string' }),
        notice: nullable({ type: 'string' }),
        avatarUrl: nullable({ type: 'string' }),
        ownerId: nullable(ref('UserId')),
        admins: { type: 'array', items: ref('UserId') },
        memberCount: { type: 'integer', minimum: 0 },
        maxMembers: { type: 'integer', minimum: 2, description: 'IMPLUS_MAX_GROUP_MEMBERS' },
        status: GROUP_STATUS,
        muteAll: { type: 'boolean', description: 'only the owner and admins may send' },
        createTime: ref('Time')
      }),
      errors: [403, 404]
    }
  },
  '/api/groups/{conversationId}/roster': {
    get: {
      operationId: 'roster',
      summary: 'Members with their roles and group mutes, in join order (members only)',
      auth: 'user',
      params: { conversationId: groupParam },
      data: { type: 'array', items: object({ userId: ref('UserId'), role: ROLE, mutedUntil: nullable(ref('Time')), joinTime: ref('Time') }) },
      errors: [403, 404]
    }
  },
  ...change('/settings', 'updateGroup', 'Edit name, notice or avatar (the owner and admins); one system message per field changed',
    body({ name: { type: 'string', minLength: 1, maxLength: 64 }, notice: { type: ['string', 'null'], maxLength: 2000 }, avatarUrl: { type: ['string', 'null'], maxLength: 1024, description: 'an http(s) URL' } }, ['name', 'notice', 'avatarUrl'])),
  ...change('/admins', 'setGroupAdmin', 'Appoint or demote an admin (the owner)', body({ userId: ref('UserId'), admin: { type: 'boolean' } })),
  ...change('/transfer', 'transferGroup', 'Hand the group to another member (the owner, who becomes a plain member)', body({ userId: ref('UserId') })),
  ...change('/mute', 'muteMember', 'Mute a member in this group for `seconds` (0 lifts it): the owner anyone else, admins plain members',
    body({ userId: ref('UserId'), seconds: { type: 'integer', minimum: 0, maximum: 30 * 24 * 3600 } })),
  ...change('/mute-all', 'muteGroup', 'Let only the owner and admins send, or everyone again (the owner and admins)', body({ muted: { type: 'boolean' } })),
  ...change('/dismiss', 'dismissGroup', 'Dismiss the group (the owner): sends refused with 410 from then on, history readable', undefined)
}

/** A group change run by its shard: answered with the system message it was recorded as, or null. */
function change (suffix: string, operationId: string, summary: string, requestBody: JsonSchema | undefined): PathSpecs {
  return {
    [`/api/groups/{conversationId}${suffix}`]: {
      post: {
        operationId,
        summary,
        auth: 'user',
        params: { conversationId: groupParam },
        ...(requestBody === undefined ? {} : { body: requestBody }),
        data: nullable(object({ msgId: ref('MsgId'), conversationSeq: { type: 'integer', minimum: 1 } })),
        errors: [403, 404, 410]
      }
    }
  }
}
