/** Shapes the HTTP API sends (docs/protocol.md): 64-bit ids as strings, seqs as numbers, times ISO 8601. Server and client share them. */

/** 0 sent, 1 delivered, 2 read, 3 recalled (content empty), 4 push failed. */
export type MessageStatus = 0 | 1 | 2 | 3 | 4

export interface MessageInfo {
  msgId: string
  /** The caller's userSeq in pull-batch, the conversationSeq elsewhere. */
  seq: number
  conversationSeq: number
  conversationId: string
  fromUserId: string
  toUserId: string | null
  groupId: string | null
  /** 1 private, 2 group. */
  msgType: 1 | 2
  /** 1 text, 2 image, 3 file, 4 voice, 5 video, 6 location, 99 system. */
  contentType: number
  content: string
  status: MessageStatus
  /** ISO 8601. */
  createTime: string
}

/** One entry of POST /api/conversations/sync. */
export interface ConversationSummary {
  conversationId: string
  /** 0 private, 1 group. */
  conversationType: 0 | 1
  conversationName: string
  unreadCount: number
  lastMsgId: string | null
  /** Empty when the last message was recalled; a media message's JSON document (see lastMsgContentType). */
  lastMsgContent: string | null
  /** The last message's contentType (1 text, 2 image, 3 file, 4 voice, 5 video, …); null when there is none. */
  lastMsgContentType: number | null
  lastMsgSender: string | null
  lastMsgTime: string | null
  lastSeq: number
  lastReadSeq: number
}

/**
 * GET /api/server-info: where a client connects and within which limits, so no client guesses ports.
 * Addresses are as the server is reached from outside (its public URL settings, or the request's host).
 */
export interface ServerInfo {
  server: 'implus'
  versions: {
    /** The server's release. */
    server: string
    /** The wire contract's version (PROTOCOL_VERSION); raised only by an incompatible change. */
    protocol: number
  }
  /** True when this server terminates TLS itself (https, wss and TLS on TCP). */
  tls: boolean
  websocket: {
    /** `ws://…/websocket` or `wss://…/websocket`. */
    url: string
  }
  tcp: {
    /** `tcp://host:port`, or `tls://host:port` when TCP is wrapped in TLS. */
    url: string
  }
  udp: {
    /** `udp://host:port`; UDP is never encrypted. */
    url: string
    maxDatagramBytes: number
  }
  limits: {
    maxFrameBytes: number
    maxContentBytes: number
    maxHttpBodyBytes: number
    /** Frames per second per connection. */
    rateLimitPerSecond: number
    /** Frames a connection may send at once (its token bucket). */
    rateBurst: number
    /** Authenticated HTTP requests per second per user. */
    httpRateLimitPerSecond: number
    /** Connections per user; the oldest is kicked beyond it. */
    maxDevices: number
    loginTimeoutMs: number
    idleTimeoutMs: number
    /** How often a client should send 2003. */
    heartbeatIntervalMs: number
    tokenTtlSeconds: number
    recallWindowMs: number
    /** Largest file POST /api/files takes. */
    maxUploadBytes: number
    /** Bytes a user may upload in any 24 hours; 0: no quota. */
    uploadQuotaBytes: number
  }
}

/** An uploaded file (POST /api/files). Images the server could decode have width, height and a thumbnail. */
export interface FileInfo {
  fileId: string
  /** The name given at upload. */
  name: string
  size: number
  /** Sniffed from the bytes by the server. */
  mimeType: string
  /** Hex; the download's ETag. */
  sha256: string
  width: number | null
  height: number | null
  /** A WebP image of at most 320×320, a file of its own (downloaded like any file). */
  thumbnailId: string | null
  /** ISO 8601. */
  createTime: string
}
