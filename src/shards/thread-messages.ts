/**
 * What the main thread and shard workers say to each other. Frames cross in
 * batches: one message per shard per event-loop turn, frame bytes packed into
 * one transferred buffer with an index, so the cost per frame is a copy, not
 * a postMessage.
 */
import type { GroupSettings, Recorded } from './group-admin.js'
import type { HistogramCounts } from '../histogram.js'
import type { LogOptions } from '../log.js'
import type { StageCounts } from './send-stages.js'

/**
 * Main → shard: inbound chat frames. index holds [connId, offset, length] per frame; users[i] is frame
 * i's sender; readAt[i] when the main thread read it from its socket (sharedNow(), ms).
 */
export interface InboundBatch {
  readonly t: 'frames'
  readonly data: Uint8Array
  readonly index: Int32Array
  readonly users: string[]
  readonly readAt: Float64Array
}

/**
 * Shard → main: frames to write. Each op is five int32s: [kind, a, b, offset, length].
 *  TO_CONN:      a = connId
 *  TO_USER:      a = index into users; b = connId to skip (the sending device) or -1
 *  TO_USER_TRACKED: as TO_USER for a push waiting on an ACK; a host that delivers it for another host
 *                keeps its resend timer (cluster mode)
 *  TO_MEMBERS:   a = index into memberLists; the frame is sent to each member with its id appended as toId
 */
export interface OutboundBatch {
  readonly t: 'out'
  readonly data: Uint8Array
  readonly ops: Int32Array
  readonly users: string[]
  readonly memberLists: string[][]
  /** sharedNow() (ms) when the batch's first frame was queued: the start of its delivery stage. */
  readonly since: number
}

export const OutKind = Object.freeze({ TO_CONN: 0, TO_USER: 1, TO_MEMBERS: 2, TO_USER_TRACKED: 3 })
export const OP_WIDTH = 5

/** Shard → main: one number per key, in order (a key listed twice gets two consecutive numbers). */
export interface SeqRequest { readonly t: 'seq', readonly id: number, readonly keys: string[], readonly prepareOnly?: boolean }
export interface SeqReply { readonly t: 'seq', readonly id: number, readonly values: Float64Array, readonly error?: string }

/** Main → shard: this host's users that came online or went offline (for resend bookkeeping and fan-out). */
export interface PresenceChange { readonly t: 'presence', readonly online: string[], readonly offline: string[] }

/** Main → shard: a push this host delivered for another host; resend it here until ACKed. */
export interface Track { readonly t: 'track', readonly userId: string, readonly msgId: string, readonly frame: Uint8Array }

/** Main → shard: cached permissions of these users are stale. */
export interface UsersChanged { readonly t: 'users', readonly userIds: string[] }

/**
 * What the main thread may ask of the shard that owns a conversation or message, run in order with its
 * message traffic: each op's arguments and answer.
 */
export interface ShardCalls {
  /** The HTTP recall, on the shard of the message. */
  recall: { args: { readonly userId: string, readonly msgId: string }, result: { msgId: string, conversationId: string } }
  /** The owner or an admin adds members: the ones added (members already in, or ids that are no user ids, are skipped). */
  'members.add': { args: { readonly conversationId: string, readonly actor: string, readonly userIds: string[] }, result: string[] }
  'members.remove': { args: { readonly conversationId: string, readonly actor: string, readonly userId: string }, result: null }
  /** The group changed outside the shard (created, or changed through another host): reload it on next use. */
  'group.forget': { args: { readonly conversationId: string }, result: null }
  // Group management (GroupAdmin): each answers the system message the change was recorded as, or null.
  'group.update': { args: { readonly conversationId: string, readonly actor: string, readonly settings: GroupSettings }, result: Recorded }
  'group.admin': { args: { readonly conversationId: string, readonly actor: string, readonly userId: string, readonly admin: boolean }, result: Recorded }
  'group.transfer': { args: { readonly conversationId: string, readonly actor: string, readonly userId: string }, result: Recorded }
  /** `until`: epoch ms; null lifts the mute. */
  'group.mute': { args: { readonly conversationId: string, readonly actor: string, readonly userId: string, readonly until: number | null }, result: Recorded }
  'group.muteAll': { args: { readonly conversationId: string, readonly actor: string, readonly muted: boolean }, result: Recorded }
  'group.dismiss': { args: { readonly conversationId: string, readonly actor: string }, result: Recorded }
}
export type CallOp = keyof ShardCalls

/** Main → shard request answered by a CallReply with the same id. */
export type Call = { [Op in CallOp]: { readonly t: 'call', readonly id: number, readonly op: Op, readonly args: ShardCalls[Op]['args'] } }[CallOp]
export interface CallReply { readonly t: 'reply', readonly id: number, readonly ok: boolean, readonly value?: unknown, readonly status?: number, readonly message?: string }

/** Shard → main, once a second: work done since the last report (exported on /metrics). */
export interface ShardStats {
  readonly t: 'stats'
  readonly cycles: number
  readonly messages: number
  readonly checkSeconds: number
  readonly seqSeconds: number
  readonly commitSeconds: number
  /** From a send reaching the shard to its receipt. */
  readonly sendLatency: HistogramCounts
  /** The same sends, stage by stage (see send-stages.ts). */
  readonly stages: StageCounts
  /** How late the shard thread's event loop ran. */
  readonly loopDelay: HistogramCounts
  /** Frames turned away because the queue was full. */
  readonly refused: number
  readonly pendingResends: number
  readonly queued: number
  /** Estimated heap bytes of the permission and group caches. */
  readonly cacheBytes: number
  /** Bytes of pushes kept for resending. */
  readonly resendBytes: number
}

export interface Drain { readonly t: 'drain' }
export interface Drained { readonly t: 'drained' }
export interface Ready { readonly t: 'ready' }

export type ToShard = InboundBatch | SeqReply | PresenceChange | UsersChanged | Track | Call | Drain
export type FromShard = OutboundBatch | SeqRequest | CallReply | ShardStats | Drained | Ready

export interface ShardWorkerData {
  readonly index: number
  readonly shards: number
  readonly nodeSlot: number
  readonly databaseUrl: string
  readonly log: LogOptions
  readonly privateChat: 'friends' | 'open'
  readonly recallWindowMs: number
  readonly maxGroupMembers: number
  readonly groupReadReceiptMaxMembers: number
  readonly idempotencyWindowMs: number
  readonly queueLimit: number
  readonly resendMaxPerUser: number
  readonly resendMaxBytes: number
  /** Cluster mode: members on other hosts count too, and repeats are recognised through Redis. */
  readonly redisUrl: string | null
}
