// Public client API. TCP and UDP transports stay out of this file's imports (they need node:net and
// node:dgram); ImConnection.open loads them on demand, so browser bundles get WebSocket only.
export { ImConnection, type FramePredicate, type OpenOptions, type TransportKind } from './connection.js'
export { TransportOpenError, type CloseInfo, type Transport, type TransportEvents, type TransportOptions } from './transport.js'
export { openWsTransport, webSocketUrl } from './ws-transport.js'
export {
  MessageType,
  PROTOCOL_VERSION,
  decodeFrame,
  encodeFrame,
  type DecodedFrame,
  type Frame,
  type MessageTypeCode,
  type ReadNotification,
  type ReadReceipt,
} from './wire/codec.js'
export {
  groupConversationId,
  isGroupId,
  isMsgId,
  isUserId,
  parseConversationId,
  peerOf,
  privateConversationId,
  type ParsedConversation,
} from './wire/ids.js'
export {
  ImClient,
  LoginError,
  SendError,
  type ConnectedEvent,
  type DisconnectedEvent,
  type FriendEvent,
  type ImClientEvents,
  type ImClientOptions,
  type ImMessage,
  type ReadEvent,
  type RecallEvent,
  type FileSent,
  type SendFileOptions,
  type SendReceipt,
} from './sdk.js'
export { ContentType, contentTypeOf, mediaContent, mediaKindOf, type MediaContent, type MediaKind, type UploadBody, type UploadProgress } from './media.js'
export { TypedEmitter } from './emitter.js'
export { ImHttpClient, ImHttpError, type ConversationSummary, type FileInfo, type FriendRequest, type FriendRequests, type MessageInfo, type ProfileUpdate, type ServerInfo, type SignedFileUrl, type UploadOptions, type UserProfile } from './http.js'
export { MemorySeqStore, type SeqStore, type SyncState } from './sync/seq-store.js'
