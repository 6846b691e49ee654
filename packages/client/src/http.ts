// Typed client of the HTTP API (docs/protocol.md, "HTTP API"), over the host's fetch: Node 20 and browsers.
// 64-bit ids (userId, msgId, groupId) are strings, seqs are numbers, times are ISO 8601 strings.
import type { ConversationSummary, FileInfo, MessageInfo, ServerInfo } from './wire/api-types.js'
import { postWithProgress, readAnswer, type RawAnswer, type UploadBody, type UploadProgress } from './media.js'
export type { ConversationSummary, FileInfo, MessageInfo, MessageStatus, ServerInfo } from './wire/api-types.js'

export interface RegisterRequest {
  userId: string
  username: string
  /** 8–128 characters. */
  password: string
  displayName?: string
  avatarUrl?: string
}

export interface UserProfile {
  userId: string
  /** Unique (case-insensitively), chosen at registration. */
  username: string
  /** The display name, or the username when none is set; "Deleted user" for a deleted account. */
  displayName: string
  avatarUrl: string | null
  deleted: boolean
}

export interface ProfileUpdate {
  /** 1–64 characters; null or '' clears it (the username is shown instead). */
  displayName?: string | null
  /** An http(s) URL; null or '' clears it. */
  avatarUrl?: string | null
}

export interface RegisterResult {
  userId: string
  username: string
}

export interface LoginResult {
  userId: string
  username: string
  token: string
  expiresAt: string
}

export interface UserInfo {
  userId: string
  username: string
  /** 1 normal, 2 banned. */
  status: number
  createTime: string
  lastLoginTime: string | null
}

export interface UserStatus {
  userId: string
  online: boolean
  /** Open connections. */
  devices: number
}

export interface Friend {
  userId: string
  username: string
}

export interface FriendRequest {
  requestId: string
  fromId: string
  toId: string
  message: string
  /** 0 pending, 1 accepted, 2 declined, 3 cancelled. */
  status: 0 | 1 | 2 | 3
  createTime: string
  updateTime: string
}

export interface FriendRequests {
  /** Pending requests to the caller, oldest first. */
  incoming: FriendRequest[]
  /** Pending requests the caller sent. */
  outgoing: FriendRequest[]
}

export interface CreateGroupRequest {
  conversationName: string
  conversationDesc?: string
  /** Besides the creator, who joins as owner. */
  members: string[]
}

export interface GroupInfo {
  conversationId: string
  name: string
  description: string | null
  notice: string | null
  avatarUrl: string | null
  ownerId: string | null
  /** Admins besides the owner, in join order. */
  admins: string[]
  memberCount: number
  /** The server's size limit (IMPLUS_MAX_GROUP_MEMBERS). */
  maxMembers: number
  /** 1 active, 2 dismissed (sends refused with 410, history readable). */
  status: 1 | 2
  /** Only the owner and admins may send. */
  muteAll: boolean
  createTime: string
}

export interface MyGroup {
  conversationId: string
  name: string
  avatarUrl: string | null
  memberCount: number
  status: 1 | 2
  /** The caller's role: 0 member, 1 owner, 2 admin. */
  role: 0 | 1 | 2
}

export interface GroupMember {
  userId: string
  /** 0 member, 1 owner, 2 admin. */
  role: 0 | 1 | 2
  /** Muted in this group until then; null when not muted. */
  mutedUntil: string | null
  joinTime: string
}

export interface GroupSettings {
  /** 1–64 characters. */
  name?: string
  /** Up to 2000 characters; null or '' clears it. */
  notice?: string | null
  /** An http(s) URL; null or '' clears it. */
  avatarUrl?: string | null
}

/** The system message (contentType 99) a group change was recorded as; null when nothing changed. */
export type GroupChange = { msgId: string, conversationSeq: number } | null

export interface ConversationSync {
  /** Newest first. */
  conversations: ConversationSummary[]
  totalUnreadCount: number
}

export interface SyncCheck {
  syncNeeded: boolean
  /** The caller's latest userSeq. */
  targetSeq: number
  /** The lastSyncSeq sent. */
  currentSeq: number
}

export interface PullBatch {
  messages: MessageInfo[]
  /** True only if a message at or after nextSeq exists. */
  hasMore: boolean
  /** Last returned userSeq + 1, or the fromSeq sent if none. */
  nextSeq: number
}

export interface PullRequest {
  conversationId: string
  startSeq: number
  /** Inclusive. */
  endSeq?: number
  limit?: number
}

export interface ConversationPull {
  conversationId: string
  messages: MessageInfo[]
  hasMore: boolean
}

export interface GroupPull {
  /** Messages after each lastSeq sent, by conversationId. */
  conversations: Record<string, MessageInfo[]>
  latestSeqs: Record<string, number>
  hasMore: boolean
}

export interface LatestSeq {
  conversationId: string
  latestSeq: number
}

export interface ReadCount {
  msgId: string
  readCount: number
}

export interface UserStatusUpdate {
  /** 1 normal, 2 banned (kicks the user's connections). */
  status: 1 | 2
  /** ISO 8601, or null to lift a mute. */
  mutedUntil?: string | null
}

export interface UploadOptions {
  /** Called as the bytes go out. */
  onProgress?: (progress: UploadProgress) => void
  signal?: AbortSignal
}

export interface SignedFileUrl {
  /** Absolute: put it in an `<img src>` or a link; no Authorization header needed. */
  url: string
  /** ISO 8601. */
  expiresAt: string
}

/** A response whose envelope is not 200; `status` is its code (the HTTP status when there is no envelope). */
export class ImHttpError extends Error {
  readonly status: number
  /**
   * Whole seconds to wait before trying again, when the server said (`Retry-After` on a 429 past the
   * per-user request limit or during a login lock-out); null otherwise.
   */
  readonly retryAfterSeconds: number | null

  constructor (status: number, message: string, retryAfterSeconds: number | null = null) {
    super(message)
    this.name = 'ImHttpError'
    this.status = status
    this.retryAfterSeconds = retryAfterSeconds
  }
}

interface Envelope {
  code?: unknown
  message?: unknown
  data?: unknown
}

const segment = encodeURIComponent

export interface ImHttpClientOptions {
  /**
   * Called when the server answers 401 to a request made with `token`: a fresh token to retry that request
   * with once (it becomes `token`), or a rejection to give up. ImClient sets it from its refreshToken option.
   */
  onUnauthorized?: (token: string) => Promise<string>
}

export class ImHttpClient {
  #baseUrl = ''
  /** Bearer token sent with every request; set by login, cleared by logout. */
  token: string | null = null
  readonly #onUnauthorized: ImHttpClientOptions['onUnauthorized']
  /** The upload limit the server at #baseUrl announced (server-info), asked once per server. */
  #uploadLimit: { baseUrl: string, bytes: Promise<number | null> } | null = null

  constructor (baseUrl: string, options: ImHttpClientOptions = {}) {
    this.baseUrl = baseUrl
    this.#onUnauthorized = options.onUnauthorized
  }

  /** Where requests go, `http://host:port` or `https://host` (a path prefix is kept); ImClient moves it to the server it reconnects to. */
  get baseUrl (): string {
    return this.#baseUrl
  }

  set baseUrl (url: string) {
    let parsed: URL
    try {
      parsed = new URL(url)
    } catch {
      throw new TypeError(`ImHttpClient: not a URL: ${JSON.stringify(url)} (expected http://… or https://…)`)
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new TypeError(`ImHttpClient: the base URL must be http:// or https://, got ${url}`)
    this.#baseUrl = url.replace(/\/+$/, '')
  }

  register (request: RegisterRequest): Promise<RegisterResult> {
    return this.#request('POST', '/users/register', request, null)
  }

  async login (userId: string, password: string): Promise<LoginResult> {
    const result = await this.#request<LoginResult>('POST', '/users/login', { userId, password }, null)
    this.token = result.token
    return result
  }

  /** Logs in by username (case-insensitive) instead of user id. */
  async loginByUsername (username: string, password: string): Promise<LoginResult> {
    const result = await this.#request<LoginResult>('POST', '/users/login', { username, password }, null)
    this.token = result.token
    return result
  }

  /** Revokes every token of the user (other devices are signed out); the answered token becomes this client's. */
  async changePassword (oldPassword: string, newPassword: string): Promise<LoginResult> {
    const result = await this.#request<LoginResult>('POST', '/users/password', { oldPassword, newPassword })
    this.token = result.token
    return result
  }

  /** Soft delete: logins and sends refused from now on; the history stays for the other side. */
  async deleteAccount (password: string): Promise<void> {
    await this.#request('POST', '/users/delete', { password })
    this.token = null
  }

  profile (userId: string): Promise<UserProfile> {
    return this.#request('GET', `/users/profile/${segment(userId)}`)
  }

  /** Profiles of up to 500 users, in the order asked; unknown ids are left out. */
  profiles (userIds: string[]): Promise<UserProfile[]> {
    return this.#request('POST', '/users/profiles', { userIds })
  }

  /** The user registered under this username (any case); 404 when none. */
  findByUsername (username: string): Promise<UserProfile> {
    return this.#request('GET', `/users/by-username/${segment(username)}`)
  }

  /** Changes the caller's display name and avatar; returns the profile as it now is. */
  updateProfile (update: ProfileUpdate): Promise<UserProfile> {
    return this.#request('POST', '/users/profile', update)
  }

  /** A fresh token (new expiry) for the current one, which must still be valid; becomes this client's token. */
  async refreshToken (): Promise<LoginResult> {
    const result = await this.#request<LoginResult>('POST', '/users/refresh-token')
    this.token = result.token
    return result
  }

  /** Where to connect (WebSocket, TCP, UDP URLs), the server's limits and versions; no token needed. */
  serverInfo (): Promise<ServerInfo> {
    return this.#request('GET', '/api/server-info', undefined, null)
  }

  /** Revokes every token issued to the caller so far. */
  async logout (): Promise<void> {
    await this.#request('POST', '/users/logout')
    this.token = null
  }

  info (userId: string): Promise<UserInfo> {
    return this.#request('GET', `/users/info/${segment(userId)}`)
  }

  /** The caller's or a friend's presence. */
  status (userId: string): Promise<UserStatus> {
    return this.#request('GET', `/users/status/${segment(userId)}`)
  }

  /** Asks a user to be friends (the target gets 1011); when the target asked first, accepts that request. */
  sendFriendRequest (toId: string, message?: string): Promise<FriendRequest> {
    return this.#request('POST', '/users/friend-requests', { toId, message })
  }

  /** Pending requests to and from the caller: what to show after being offline. */
  friendRequests (): Promise<FriendRequests> {
    return this.#request('GET', '/users/friend-requests')
  }

  /** The target accepts: both become friends, the requester gets 1012. */
  acceptFriendRequest (requestId: string): Promise<FriendRequest> {
    return this.#request('POST', `/users/friend-requests/${segment(requestId)}/accept`)
  }

  declineFriendRequest (requestId: string): Promise<FriendRequest> {
    return this.#request('POST', `/users/friend-requests/${segment(requestId)}/decline`)
  }

  /** The sender withdraws its request. */
  cancelFriendRequest (requestId: string): Promise<FriendRequest> {
    return this.#request('POST', `/users/friend-requests/${segment(requestId)}/cancel`)
  }

  /** Befriends at once, where the server allows it (IMPLUS_DIRECT_FRIENDS); else 403: use sendFriendRequest. */
  async addFriend (friendId: string): Promise<void> {
    await this.#request('POST', '/users/friends', { friendId })
  }

  async removeFriend (friendId: string): Promise<void> {
    await this.#request('DELETE', `/users/friends/${segment(friendId)}`)
  }

  friends (): Promise<Friend[]> {
    return this.#request('GET', '/users/friends')
  }

  async block (userId: string): Promise<void> {
    await this.#request('POST', '/users/blacklist', { userId })
  }

  /** The users the caller blocks. */
  blacklist (): Promise<Friend[]> {
    return this.#request('GET', '/users/blacklist')
  }

  async unblock (userId: string): Promise<void> {
    await this.#request('DELETE', `/users/blacklist/${segment(userId)}`)
  }

  /** Returns the new group's conversationId, `group_{id}`. */
  createGroup (request: CreateGroupRequest): Promise<string> {
    return this.#request('POST', '/api/conversations/create', { ...request, conversationType: 'GROUP' })
  }

  async addMembers (conversationId: string, userIds: string[]): Promise<void> {
    await this.#request('POST', `/api/groups/${segment(conversationId)}/members`, { userIds })
  }

  /** The owner removes a member, or a member leaves. */
  async removeMember (conversationId: string, userId: string): Promise<void> {
    await this.#request('DELETE', `/api/groups/${segment(conversationId)}/members/${segment(userId)}`)
  }

  members (conversationId: string): Promise<string[]> {
    return this.#request('GET', `/api/groups/${segment(conversationId)}/members`)
  }

  /** The caller's groups, most recently active first. */
  myGroups (): Promise<MyGroup[]> {
    return this.#request('GET', '/api/groups')
  }

  groupInfo (conversationId: string): Promise<GroupInfo> {
    return this.#request('GET', `/api/groups/${segment(conversationId)}`)
  }

  /** Members with roles and group mutes, in join order. */
  roster (conversationId: string): Promise<GroupMember[]> {
    return this.#request('GET', `/api/groups/${segment(conversationId)}/roster`)
  }

  /** Name, notice, avatar: the owner and admins. */
  updateGroup (conversationId: string, settings: GroupSettings): Promise<GroupChange> {
    return this.#request('POST', `/api/groups/${segment(conversationId)}/settings`, settings)
  }

  /** The owner appoints or demotes an admin. */
  setGroupAdmin (conversationId: string, userId: string, admin: boolean): Promise<GroupChange> {
    return this.#request('POST', `/api/groups/${segment(conversationId)}/admins`, { userId, admin })
  }

  /** The owner hands the group to another member. */
  transferGroup (conversationId: string, userId: string): Promise<GroupChange> {
    return this.#request('POST', `/api/groups/${segment(conversationId)}/transfer`, { userId })
  }

  /** Mutes a member for `seconds` (up to 30 days); 0 lifts the mute. */
  muteMember (conversationId: string, userId: string, seconds: number): Promise<GroupChange> {
    return this.#request('POST', `/api/groups/${segment(conversationId)}/mute`, { userId, seconds })
  }

  /** While muted, only the owner and admins may send. */
  muteGroup (conversationId: string, muted: boolean): Promise<GroupChange> {
    return this.#request('POST', `/api/groups/${segment(conversationId)}/mute-all`, { muted })
  }

  /** The owner dismisses the group: sends are refused (410) from then on; history stays readable. */
  dismissGroup (conversationId: string): Promise<GroupChange> {
    return this.#request('POST', `/api/groups/${segment(conversationId)}/dismiss`)
  }

  syncConversations (limit?: number): Promise<ConversationSync> {
    return this.#request('POST', '/api/conversations/sync', { limit })
  }

  syncCheck (lastSyncSeq: number): Promise<SyncCheck> {
    return this.#request('POST', '/api/messages/sync-check', { lastSyncSeq })
  }

  /** The caller's messages with userSeq ≥ fromSeq, ascending. */
  pullBatch (fromSeq: number, limit?: number): Promise<PullBatch> {
    return this.#request('POST', '/api/messages/pull-batch', { fromSeq, limit })
  }

  /** One conversation's messages by conversationSeq. */
  pull (request: PullRequest): Promise<ConversationPull> {
    return this.#request('POST', '/api/messages/pull', request)
  }

  /** Group messages after each conversation's lastSeq. */
  groupPull (conversations: Record<string, number>, limit?: number): Promise<GroupPull> {
    return this.#request('POST', '/api/group-messages/pull', { conversations, limit })
  }

  latestSeq (conversationId: string): Promise<LatestSeq> {
    return this.#request('GET', `/api/group-messages/latest-seq/${segment(conversationId)}`)
  }

  readCount (msgId: string): Promise<ReadCount> {
    return this.#request('GET', `/api/messages/${segment(msgId)}/read-count`)
  }

  async recall (msgId: string): Promise<void> {
    await this.#request('POST', `/api/messages/${segment(msgId)}/recall`)
  }

  /**
   * Uploads a file (POST /api/files): the server sniffs its type, hashes it and, for images, reads the
   * size and makes a thumbnail. Refusals (400 bad name or image, 413 too large, 429 quota) are ImHttpErrors.
   */
  async upload (body: UploadBody, name: string, options: UploadOptions = {}): Promise<FileInfo> {
    // A server refuses a body over its limit as soon as it sees Content-Length and closes (other refusals
    // it reads and drops the body after); Node's fetch, still writing then, would report only "fetch
    // failed" (EPIPE), so the limit is checked here first.
    const size = body instanceof Blob ? body.size : body.byteLength
    const limit = await this.#maxUploadBytes()
    if (limit !== null && size > limit) throw new ImHttpError(413, `upload of ${size} bytes is over ${limit} bytes (IMPLUS_MAX_UPLOAD_BYTES)`)
    const headers: Record<string, string> = { accept: 'application/json', 'content-type': 'application/octet-stream' }
    if (this.token !== null) headers.authorization = `Bearer ${this.token}`
    const answer = await postWithProgress({ url: `${this.baseUrl}/api/files?name=${segment(name)}`, headers, body, ...options })
    return unwrap<FileInfo>(answer)
  }

  /** The server's maxUploadBytes, or null when it does not say (then the server alone decides). */
  #maxUploadBytes (): Promise<number | null> {
    if (this.#uploadLimit?.baseUrl !== this.#baseUrl) {
      const bytes = this.serverInfo().then(info => typeof info.limits?.maxUploadBytes === 'number' ? info.limits.maxUploadBytes : null, () => null)
      this.#uploadLimit = { baseUrl: this.#baseUrl, bytes }
    }
    return this.#uploadLimit.bytes
  }

  /** A short-lived URL of a file (or thumbnail) the caller may download, for places that cannot send a token. */
  async fileUrl (fileId: string): Promise<SignedFileUrl> {
    const signed = await this.#request<SignedFileUrl>('POST', `/api/files/${segment(fileId)}/url`)
    return { url: this.baseUrl + signed.url, expiresAt: signed.expiresAt }
  }

  /**
   * Downloads a file or thumbnail: the Response, its body not yet read (stream it, or `arrayBuffer()` it).
   * `headers` may carry `range` or `if-none-match` (then a 206 or 304 comes back); 4xx are ImHttpErrors.
   */
  async download (fileId: string, init: { headers?: Record<string, string>, signal?: AbortSignal } = {}): Promise<Response> {
    const headers: Record<string, string> = { ...init.headers }
    if (this.token !== null) headers.authorization = `Bearer ${this.token}`
    const response = await fetch(`${this.baseUrl}/api/files/${segment(fileId)}`, { headers, signal: init.signal })
    if (response.status >= 400) unwrap(await readAnswer(response))
    return response
  }

  /** Bans, unbans or mutes a user; needs the server's admin token. */
  async adminSetStatus (adminToken: string, userId: string, update: UserStatusUpdate): Promise<void> {
    await this.#request('POST', `/admin/users/${segment(userId)}/status`, update, adminToken)
  }

  async #request<T>(method: string, path: string, body?: unknown, token: string | null = this.token): Promise<T> {
    try {
      return await this.#send<T>(method, path, body, token)
    } catch (error) {
      // The session token was refused: renew it once and retry (never for the renewal itself).
      const renewable = error instanceof ImHttpError && error.status === 401 && token !== null && token === this.token && path !== '/users/refresh-token'
      if (!renewable || this.#onUnauthorized === undefined) throw error
      const fresh = await this.#onUnauthorized(token)
      this.token = fresh
      return await this.#send<T>(method, path, body, fresh)
    }
  }

  async #send<T>(method: string, path: string, body: unknown, token: string | null): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' }
    if (body !== undefined) headers['content-type'] = 'application/json'
    if (token !== null) headers.authorization = `Bearer ${token}`
    const response = await fetch(this.baseUrl + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    return unwrap<T>(await readAnswer(response))
  }
}

/** The data of an answer's envelope; ImHttpError for anything but code 200. */
function unwrap<T> ({ status, statusText, text, retryAfter }: RawAnswer): T {
  const ok = status >= 200 && status < 300
  // Delta-seconds only: the form implus sends (and the only one a client clock cannot get wrong).
  const retryAfterSeconds = retryAfter !== null && /^\d+$/.test(retryAfter) ? Number(retryAfter) : null
  let envelope: Envelope
  try {
    envelope = JSON.parse(text) as Envelope
  } catch {
    // Not ours: a proxy's error page, say.
    throw new ImHttpError(status, text === '' ? statusText : text, retryAfterSeconds)
  }
  if (typeof envelope !== 'object' || envelope === null) throw new ImHttpError(status, 'response is not an envelope', retryAfterSeconds)
  const code = typeof envelope.code === 'number' && ok ? envelope.code : status
  if (code !== 200) {
    throw new ImHttpError(code, typeof envelope.message === 'string' ? envelope.message : statusText, retryAfterSeconds)
  }
  return envelope.data as T
}
