/**
 * The values of the schema's enum columns (sql/001_schema.sql), the one place
 * TypeScript names them. Reads and writes, on the main thread and in shards,
 * use these, never the bare numbers.
 */

/** users.status */
export const UserStatus = Object.freeze({ NORMAL: 1, BANNED: 2 })
/** conversation.type; also a conversation summary's conversationType (docs/protocol.md). */
export const ConvType = Object.freeze({ PRIVATE: 0, GROUP: 1 })
/** message.msg_type */
export const MsgType = Object.freeze({ PRIVATE: 1, GROUP: 2 })
/** message.status */
export const MsgStatus = Object.freeze({ SENT: 0, DELIVERED: 1, READ: 2, RECALLED: 3, PUSH_FAILED: 4 })
/** group_members.role */
export const GroupRole = Object.freeze({ MEMBER: 0, OWNER: 1, ADMIN: 2 })
/** conversation.status (groups) */
export const GroupStatus = Object.freeze({ ACTIVE: 1, DISMISSED: 2 })
