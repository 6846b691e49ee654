import { encodeFrame, MessageType } from '@implus/client/wire'

/**
 * The frames that say no (docs/protocol.md), built in one place: 1006 for a
 * send or recall the server will not take, 1009 for a frame that makes no
 * sense here, 1002 for a connection the server closes. errorCode is the
 * HTTP-like status (src/errors.ts); content says why, for people.
 */

/** 1006, naming the send by its clientSeq or the recalled message by its uid. */
export function deliveryFailed (ref: { readonly clientSeq: string } | { readonly uid: string }, status: number, reason: string): Uint8Array {
  return encodeFrame({ type: MessageType.MESSAGE_DELIVERY_FAILED, ...ref, errorCode: status, content: reason, timestamp: Date.now() })
}

/** 1009. */
export function errorFrame (status: number, reason: string): Uint8Array {
  return encodeFrame({ type: MessageType.ERROR, errorCode: status, content: reason, timestamp: Date.now() })
}

/** 1002: its errorCode tells the client whether to come back (docs/protocol.md, 1002). */
export function kickout (status: number, reason: string): Uint8Array {
  return encodeFrame({ type: MessageType.KICKOUT_NOTIFICATION, errorCode: status, content: reason, timestamp: Date.now() })
}
