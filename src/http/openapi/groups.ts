// OpenAPI source of the group endpoints (src/http/groups.ts).
import { NO_DATA, body, ref, type PathSpecs } from './spec.js'

const groupParam = { ...ref('GroupConversationId'), description: 'the group' }
const userIds = (max: number) => ({ type: 'array', items: ref('UserId'), maxItems: max })

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
      summary: 'Add members (owner only)',
      auth: 'user',
      params: { conversationId: groupParam },
      body: body({ userIds: { ...userIds(1000), minItems: 1 }, userId: { ...ref('UserId'), description: 'optional; if given, must be the caller' } }, ['userId']),
      data: NO_DATA,
      errors: [403, 404]
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
      summary: 'The owner removes a member, or a member leaves',
      auth: 'user',
      params: { conversationId: groupParam, userId: { ...ref('UserId'), description: 'the member' } },
      data: NO_DATA,
      errors: [403, 404]
    }
  }
}
