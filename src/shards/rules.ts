import { Status } from '../errors.js'
import type { Relation, UserFacts } from './permissions.js'
import type { PrivateChatPolicy } from '../config.js'
import { GroupStatus } from '../db/schema.js'
import { isManager, type Group } from './members.js'

export interface Refusal {
  readonly status: number
  readonly reason: string
}

/** Whether a private message may go from sender to receiver (docs/protocol.md 1006: unknown target first, then 403s). */
export function privateSendRefusal (sender: UserFacts, receiver: UserFacts, relation: Relation, policy: PrivateChatPolicy, now: number): Refusal | null {
  if (!receiver.exists) return { status: Status.NOT_FOUND, reason: 'unknown user' }
  if (receiver.deleted) return { status: Status.NOT_FOUND, reason: 'the user has deleted its account' }
  return senderRefusal(sender, now) ??
    (relation.blocked ? { status: Status.FORBIDDEN, reason: 'the receiver has blocked you' } : null) ??
    (policy === 'friends' && !relation.friends ? { status: Status.FORBIDDEN, reason: 'not friends' } : null)
}

/**
 * Whether a group message may be sent: the group exists (404), the sender is a member (403), the group
 * is not dismissed (410), the sender may send at all (403), and may speak here: not muted in the group,
 * and the group is not muted for everyone but its owner and admins (403).
 */
export function groupSendRefusal (sender: UserFacts, senderId: string, group: Group | null, now: number): Refusal | null {
  if (group === null) return { status: Status.NOT_FOUND, reason: 'unknown group' }
  if (!group.members.has(senderId)) return { status: Status.FORBIDDEN, reason: 'not a member of this group' }
  if (group.status === GroupStatus.DISMISSED) return { status: Status.GONE, reason: 'the group is dismissed' }
  const refusal = senderRefusal(sender, now)
  if (refusal !== null) return refusal
  if (group.muteAll && !isManager(group, senderId)) return { status: Status.FORBIDDEN, reason: 'the group is muted: only its owner and admins may send' }
  const until = group.mutes.get(senderId) ?? 0
  if (until > now) return { status: Status.FORBIDDEN, reason: `muted in this group until ${new Date(until).toISOString()}` }
  return null
}

function senderRefusal (sender: UserFacts, now: number): Refusal | null {
  if (!sender.exists || sender.banned) return { status: Status.FORBIDDEN, reason: 'sender is banned' }
  if (sender.deleted) return { status: Status.FORBIDDEN, reason: 'the sender\'s account is deleted' }
  if (sender.mutedUntil > now) return { status: Status.FORBIDDEN, reason: `sender is muted until ${new Date(sender.mutedUntil).toISOString()}` }
  return null
}

/** Content checks the gateway cannot make without decoding: PostgreSQL text cannot hold NUL. */
export function contentRefusal (content: string, contentType: number): Refusal | null {
  if (content.length === 0) return { status: Status.BAD_REQUEST, reason: 'content is empty' }
  if (content.includes('\u0000')) return { status: Status.BAD_REQUEST, reason: 'content may not contain NUL characters' }
  if (contentType !== 0 && !VALID_CONTENT_TYPES.has(contentType)) return { status: Status.BAD_REQUEST, reason: `unknown contentType ${contentType}` }
  return null
}

const VALID_CONTENT_TYPES = new Set([1, 2, 3, 4, 5, 6, 99])

const PREVIEW_CHARS = 20
const PREVIEW_CUT = 17

/** The 1007 preview: up to 20 characters as they are, else the first 17 and "..." (characters, not bytes or UTF-16 units). */
export function preview (content: string): string {
  // Fast path: 20 UTF-16 units are at most 20 characters.
  if (content.length <= PREVIEW_CHARS) return content
  const chars = Array.from(content)
  return chars.length <= PREVIEW_CHARS ? content : chars.slice(0, PREVIEW_CUT).join('') + '...'
}

/** Resend waits (docs/protocol.md): 5 s after the first push, then min(2^retry × 5 s, 30 s). */
export function resendDelayMs (retry: number): number {
  return Math.min(5000 * 2 ** retry, 30_000)
}

export const MAX_RESENDS = 3
