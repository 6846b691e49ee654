// The vocabulary of the OpenAPI source: one OperationSpec per endpoint, written in the area files beside
// this one (users.ts, groups.ts, …), and the shared schemas they refer to. document.ts turns them into
// the OpenAPI 3.1 document served at /openapi.json. Schemas are JSON Schema 2020-12, as OpenAPI 3.1 takes.
import type { HttpMethod } from '../route-table.js'

export type JsonSchema = Record<string, unknown>

/** 'signed': a user's token, or a signed URL (`?u=&exp=&sig=`, POST /api/files/{fileId}/url). */
export type Auth = 'none' | 'user' | 'admin' | 'signed'

export interface OperationSpec {
  /** Unique, camelCase: the method name a generated client gets. */
  readonly operationId: string
  readonly summary: string
  readonly description?: string
  readonly auth: Auth
  /** Path parameters by name, in path order. */
  readonly params?: Record<string, JsonSchema>
  /** Query parameters, as an `object()` schema (its required list says which must be given). */
  readonly query?: JsonSchema
  /** The JSON body (POST). */
  readonly body?: JsonSchema
  /** A body that is not JSON (a file upload): its content type and what it is. */
  readonly upload?: { readonly contentType: string, readonly description: string }
  /** The envelope's `data` on success (200); `{ type: 'null' }` when there is nothing to say. */
  readonly data?: JsonSchema
  /**
   * Refusals particular to this endpoint. Those every endpoint of its kind may answer are added by
   * document.ts: 401 and 429 with user auth, 401 and 403 with admin auth, 400 and 413 for a body,
   * 400 for path parameters, 500 and 503 everywhere.
   */
  readonly errors?: readonly number[]
  /** A response that is not the JSON envelope (health, metrics, the web page, a file); refusals are envelopes when `errors` is given. */
  readonly raw?: {
    readonly statuses: readonly number[]
    readonly contentType: string
    readonly description: string
    readonly schema?: JsonSchema
  }
}

/** One area's endpoints: OpenAPI path (`/users/info/{userId}`) → method → operation. */
export type PathSpecs = Record<string, Partial<Record<HttpMethod, OperationSpec>>>

export const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` })

/** An object with exactly these properties: every one listed is required, none beyond them is allowed. */
export function object (properties: Record<string, JsonSchema>, optional: readonly string[] = []): JsonSchema {
  return {
    type: 'object',
    properties,
    required: Object.keys(properties).filter(k => !optional.includes(k)),
    additionalProperties: false
  }
}

/** A request body: extra properties are ignored by the server, so the schema allows them. */
export function body (properties: Record<string, JsonSchema>, optional: readonly string[] = []): JsonSchema {
  return { ...object(properties, optional), additionalProperties: true }
}

export const nullable = (schema: JsonSchema): JsonSchema => ({ oneOf: [schema, { type: 'null' }] })
export const NO_DATA: JsonSchema = { type: 'null' }
export const seq = (description: string): JsonSchema => ({ type: 'integer', minimum: 0, description })
export const limit = (fallback: number, max: number): JsonSchema => ({ type: 'integer', minimum: 1, maximum: max, default: fallback, description: `at most this many (default ${fallback}, max ${max})` })

const DECIMAL_ID = '[1-9][0-9]{0,18}'

/** Schemas shared by several endpoints (components.schemas). */
export const SHARED_SCHEMAS: Record<string, JsonSchema> = {
  UserId: { type: 'string', pattern: `^${DECIMAL_ID}$`, description: 'decimal integer from 1 to 2^63−1, no leading zero (a string: JSON numbers lose precision above 2^53)', examples: ['1001'] },
  MsgId: { type: 'string', pattern: `^${DECIMAL_ID}$`, description: '64-bit message id, decimal', examples: ['7012345678901234567'] },
  ConversationId: { type: 'string', pattern: `^(private_${DECIMAL_ID}_${DECIMAL_ID}|group_${DECIMAL_ID})$`, description: '`private_{a}_{b}` with a < b as integers, or `group_{groupId}`', examples: ['private_1001_1002', 'group_1'] },
  GroupConversationId: { type: 'string', pattern: `^group_${DECIMAL_ID}$`, description: '`group_{groupId}`', examples: ['group_1'] },
  Time: { type: 'string', format: 'date-time', description: 'ISO 8601' },
  MessageInfo: object({
    msgId: ref('MsgId'),
    seq: { type: 'integer', minimum: 0, description: "the caller's userSeq in pull-batch, the conversationSeq elsewhere" },
    conversationSeq: { type: 'integer', minimum: 0 },
    conversationId: ref('ConversationId'),
    fromUserId: ref('UserId'),
    toUserId: nullable(ref('UserId')),
    groupId: nullable({ type: 'string' }),
    msgType: { enum: [1, 2], description: '1 private, 2 group' },
    contentType: { type: 'integer', description: '1 text, 2 image, 3 file, 4 voice, 5 video, 6 location, 99 system' },
    content: { type: 'string', description: 'empty when recalled' },
    status: { enum: [0, 1, 2, 3, 4], description: '0 sent, 1 delivered, 2 read, 3 recalled, 4 push failed' },
    createTime: ref('Time')
  }),
  ConversationSummary: object({
    conversationId: ref('ConversationId'),
    conversationType: { enum: [0, 1], description: '0 private, 1 group' },
    conversationName: { type: 'string' },
    unreadCount: { type: 'integer', minimum: 0 },
    lastMsgId: nullable(ref('MsgId')),
    lastMsgContent: nullable({ type: 'string', description: 'empty when recalled; a media message\'s JSON document (see lastMsgContentType)' }),
    lastMsgContentType: nullable({ type: 'integer', description: 'the last message\'s contentType (1 text, 2 image, 3 file, 4 voice, 5 video, 6 location, 99 system); null when there is none' }),
    lastMsgSender: nullable(ref('UserId')),
    lastMsgTime: nullable(ref('Time')),
    lastSeq: { type: 'integer', minimum: 0 },
    lastReadSeq: { type: 'integer', minimum: 0 }
  }),
  UserProfile: object({
    userId: ref('UserId'),
    username: { type: 'string' },
    displayName: { type: 'string', description: 'the username when none is set; "Deleted user" for a deleted account' },
    avatarUrl: nullable({ type: 'string' }),
    deleted: { type: 'boolean' }
  }),
  FriendRequest: object({
    requestId: { type: 'string', pattern: `^${DECIMAL_ID}$`, description: 'decimal id' },
    fromId: ref('UserId'),
    toId: ref('UserId'),
    message: { type: 'string', maxLength: 200 },
    status: { enum: [0, 1, 2, 3], description: '0 pending, 1 accepted, 2 declined, 3 cancelled' },
    createTime: ref('Time'),
    updateTime: ref('Time')
  }),
  Error: {
    type: 'object',
    description: 'The envelope of a refusal: `code` is the HTTP status, `message` says why, `data` is null.',
    properties: {
      code: { enum: [400, 401, 403, 404, 409, 410, 413, 429, 500, 503] },
      message: { type: 'string' },
      data: { type: 'null' }
    },
    required: ['code', 'message', 'data'],
    additionalProperties: false
  }
}
