// Public client API. TCP and UDP transports stay out of this file's imports (they need node:net and
// node:dgram); ImConnection.open loads them on demand, so browser bundles get WebSocket only.
export { ImConnection, type FramePredicate, type OpenOptions } from './connection.js'
export { endpointUrl, parseEndpoint, type Endpoint, type TransportKind } from './endpoint.js'
export { jwtExpiry, type RefreshToken, type TokenGrant } from './token-keeper.js'
export { TransportOpenError, type CloseHandler, type CloseInfo, type FrameHandler, type Transport, type TransportEvents, type TransportOptions } from './transport.js'
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
  type ImServerAddress,
  type ImClientState,
  type ImMessage,
  type ReadEvent,
  type RecallEvent,
  type FileSent,
  type SendFileOptions,
  type SendReceipt,
} from './sdk.js'
export { ContentType, contentTypeOf, mediaContent, mediaKindOf, mediaKindOfType, messagePreview, type MediaContent, type MediaKind, type UploadBody, type UploadProgress } from './media.js'
export { TypedEmitter, type EventMap, type Listener } from './emitter.js'
export {
  ImHttpClient,
  ImHttpError,
  type ConversationPull,
  type ConversationSummary,
  type ConversationSync,
  type CreateGroupRequest,
  type FileInfo,
  type Friend,
  type FriendRequest,
  type FriendRequests,
  type GroupChange,
  type GroupInfo,
  type GroupMember,
  type GroupSettings,
  type GroupPull,
  type ImHttpClientOptions,
  type LatestSeq,
  type LoginResult,
  type MessageInfo,
  type MessageStatus,
  type MyGroup,
  type ProfileUpdate,
  type PullBatch,
  type PullRequest,
  type ReadCount,
  type RegisterRequest,
  type RegisterResult,
  type ServerInfo,
  type SignedFileUrl,
  type SyncCheck,
  type UploadOptions,
  type UserInfo,
  type UserProfile,
  type UserStatus,
  type UserStatusUpdate,
} from './http.js'
export { MemorySeqStore, type SeqStore, type SyncState } from './sync/seq-store.js'
