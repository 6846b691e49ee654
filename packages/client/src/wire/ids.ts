/**
 * Identifiers shared by every layer: user ids (decimal 1..2^63-1, no leading
 * zero), conversation ids (`private_{a}_{b}` with a < b as integers,
 * `group_{id}`) and 64-bit message ids, all kept as decimal strings because
 * JavaScript numbers lose precision above 2^53.
 */
const MAX_INT64 = (1n << 63n) - 1n
const DECIMAL = /^[1-9]\d{0,18}$/

export function isUserId (value: unknown): value is string {
  return typeof value === 'string' && DECIMAL.test(value) && BigInt(value) <= MAX_INT64
}

export const isGroupId = isUserId
export const isMsgId = isUserId

export function privateConversationId (a: string, b: string): string {
  return BigInt(a) < BigInt(b) ? `private_${a}_${b}` : `private_${b}_${a}`
}

export function groupConversationId (groupId: string): string {
  return `group_${groupId}`
}

export type ParsedConversation =
  | { kind: 'private', a: string, b: string }
  | { kind: 'group', groupId: string }

/** Parses a conversation id; returns null for anything not in canonical form. */
export function parseConversationId (id: string): ParsedConversation | null {
  if (id.startsWith('group_')) {
    const groupId = id.slice(6)
    return isGroupId(groupId) ? { kind: 'group', groupId } : null
  }
  if (id.startsWith('private_')) {
    const parts = id.slice(8).split('_')
    if (parts.length !== 2) return null
    const [a, b] = parts as [string, string]
    if (!isUserId(a) || !isUserId(b) || BigInt(a) >= BigInt(b)) return null
    return { kind: 'private', a, b }
  }
  return null
}

/** The other participant of a private conversation. */
export function peerOf (conv: { a: string, b: string }, userId: string): string | null {
  if (conv.a === userId) return conv.b
  if (conv.b === userId) return conv.a
  return null
}
