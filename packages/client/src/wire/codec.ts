// Typed face of the generated codec (chat_message.js, made by scripts/gen-proto.mjs).
import $protobuf from 'protobufjs/minimal.js'
import { implus } from './chat_message.js'

// int64 fields (seqs, timestamps) stay below 2^53, so plain numbers are exact. Without this, protobufjs
// decodes them to Long objects whenever the `long` package is loadable, which it is in Node.
$protobuf.util.Long = undefined as unknown as typeof $protobuf.util.Long
$protobuf.configure()

/** The wire contract's version (docs/protocol.md); raised only by an incompatible change. */
export const PROTOCOL_VERSION = 1

export const MessageType = {
  LOGIN: 2001,
  LOGIN_RESPONSE: 1001,
  LOGOUT: 2002,
  HEARTBEAT: 2003,
  HEARTBEAT_RESPONSE: 1003,
  PRIVATE_CHAT: 3001,
  GROUP_CHAT: 3002,
  GROUP_MESSAGE_NOTIFICATION: 1007,
  MESSAGE_SEND_RECEIPT: 2007,
  MESSAGE_DELIVERY_FAILED: 1006,
  MESSAGE_ACK: 2004,
  BATCH_MESSAGE_ACK: 2005,
  GROUP_CONVERSATION_ACK: 2006,
  MESSAGE_READ_RECEIPT: 2008,
  MESSAGE_READ_NOTIFICATION: 1008,
  MESSAGE_RECALL: 2009,
  RECALL_NOTIFICATION: 1010,
  FRIEND_REQUEST_NOTIFICATION: 1011,
  FRIEND_ACCEPTED_NOTIFICATION: 1012,
  KICKOUT_NOTIFICATION: 1002,
  ERROR: 1009,
} as const

export type MessageTypeCode = (typeof MessageType)[keyof typeof MessageType]

export interface ReadReceipt {
  conversationId?: string
  lastReadSeq?: number
}

export interface ReadNotification {
  conversationId?: string
  lastReadSeq?: number
  msgId?: string
  readCount?: number
}

/** One ChatMessage (docs/protocol.md, "Frames"); absent fields are sent as nothing. */
export interface Frame {
  type?: number
  content?: string
  fromId?: string
  toId?: string
  uid?: string
  seq?: string
  timestamp?: number
  retry?: number
  token?: string
  conversationId?: string
  clientSeq?: string
  userSeq?: number
  conversationSeq?: number
  expectedSeq?: number
  readReceipt?: ReadReceipt | null
  readNotification?: ReadNotification | null
  errorCode?: number
  contentType?: number
  deviceId?: string
  rateLimit?: number
  rateBurst?: number
}

/** A frame as decoded: proto3 defaults ('' and 0) for every absent scalar, null for absent messages. */
export interface DecodedFrame extends Frame {
  type: number
  content: string
  fromId: string
  toId: string
  uid: string
  seq: string
  timestamp: number
  retry: number
  token: string
  conversationId: string
  clientSeq: string
  userSeq: number
  conversationSeq: number
  expectedSeq: number
  readReceipt: Required<ReadReceipt> | null
  readNotification: Required<ReadNotification> | null
  errorCode: number
  contentType: number
  deviceId: string
  rateLimit: number
  rateBurst: number
}

export function encodeFrame (frame: Frame): Uint8Array {
  return implus.ChatMessage.encode(frame).finish()
}

/** Throws on malformed input. Defaults live on the prototype (protobufjs), so spreads omit them. */
export function decodeFrame (bytes: Uint8Array): DecodedFrame {
  return implus.ChatMessage.decode(bytes) as unknown as DecodedFrame
}
