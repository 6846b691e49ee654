// The web chat page: log in, conversation list with unread counts, one conversation at a time, live
// updates over WebSocket through ImClient. No framework: a little state and functions that redraw it.
import {
  ContentType,
  ImClient,
  ImHttpClient,
  ImHttpError,
  mediaContent,
  messagePreview,
  parseConversationId,
  peerOf as peerOfPair,
  privateConversationId,
  type ConversationSummary,
  type MediaContent,
  type MessageInfo
} from '@implus/client'

interface Conversation {
  id: string
  type: 0 | 1
  name: string
  unread: number
  lastSeq: number
  lastContent: string
  lastTime: string | null
  /** By msgId; shown sorted by conversationSeq. */
  messages: Map<string, MessageInfo>
}

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id)
  if (el === null) throw new Error(`#${id} missing`)
  return el as T
}

const http = new ImHttpClient(location.origin)
const conversations = new Map<string, Conversation>()
let client: ImClient | null = null
let me = ''
let active: string | null = null
let totalUnread = 0
let refreshTimer: ReturnType<typeof setTimeout> | null = null

/** The other user of one of my private conversations. */
function peerOf (conversationId: string): string {
  const parsed = parseConversationId(conversationId)
  return parsed?.kind === 'private' ? peerOfPair(parsed, me) ?? '' : ''
}

function color (seed: string): string {
  let h = 0
  for (const ch of seed) h = (h * 31 + ch.charCodeAt(0)) % 360
  return `hsl(${h} 55% 52%)`
}

function timeLabel (iso: string | null): string {
  if (iso === null) return ''
  const d = new Date(iso)
  const sameDay = d.toDateString() === new Date().toDateString()
  return sameDay ? d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) : d.toLocaleDateString()
}

function conversation (id: string): Conversation {
  let c = conversations.get(id)
  if (c === undefined) {
    const isGroup = id.startsWith('group_')
    c = { id, type: isGroup ? 1 : 0, name: isGroup ? id : peerOf(id), unread: 0, lastSeq: 0, lastContent: '', lastTime: null, messages: new Map() }
    conversations.set(id, c)
  }
  return c
}

function el<K extends keyof HTMLElementTagNameMap> (tag: K, cls: string, text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag)
  if (cls !== '') node.className = cls
  if (text !== undefined) node.textContent = text
  return node
}

// ---- files -----------------------------------------------------------------------------------------------

/** Signed URLs by fileId, reused until a minute before they expire: an <img src> cannot send a token. */
const signedUrls = new Map<string, { url: Promise<string>, until: number }>()

function signedUrl (fileId: string): Promise<string> {
  const cached = signedUrls.get(fileId)
  if (cached !== undefined && cached.until > Date.now()) return cached.url
  const url = http.fileUrl(fileId).then((signed) => {
    entry.until = Date.parse(signed.expiresAt) - 60_000
    return signed.url
  })
  const entry = { url, until: Date.now() + 30_000 }
  url.catch(() => signedUrls.delete(fileId))
  signedUrls.set(fileId, entry)
  return url
}

function sizeLabel (bytes: number | undefined): string {
  if (bytes === undefined) return ''
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`
}

/** What a message says in the conversation list: a media message's kind and name, else its text. */
function previewOf (m: MessageInfo): string {
  if (m.status === 3) return 'message recalled'
  return messagePreview(m)
}

/** Seconds as m:ss. */
function durationLabel (seconds: number | undefined): string {
  if (seconds === undefined) return ''
  const whole = Math.round(seconds)
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, '0')}`
}

/** Sizes an image or video to its known dimensions within 320×320, so the list does not jump as it loads. */
function fitInline (node: HTMLImageElement | HTMLVideoElement, media: MediaContent): void {
  if (media.width === undefined || media.height === undefined) return
  const scale = Math.min(1, 320 / Math.max(media.width, media.height))
  node.width = Math.round(media.width * scale)
  node.height = Math.round(media.height * scale)
}

/**
 * An image: its thumbnail first (small, quick), the full image when clicked. Voice and video: a player
 * with the download link under it. Other files: the link alone. Signed URLs are fetched when needed, so
 * expired ones are never used.
 */
function mediaElement (m: MessageInfo, media: MediaContent): HTMLElement {
  if (m.contentType === ContentType.IMAGE) {
    const img = el('img', 'media-image')
    img.alt = media.name ?? 'image'
    fitInline(img, media)
    img.dataset.fileId = media.fileId
    img.dataset.shown = 'thumbnail'
    signedUrl(media.thumbnailId ?? media.fileId).then((url) => { img.src = url }, showToolError)
    img.addEventListener('click', () => {
      if (img.dataset.shown === 'full') return
      signedUrl(media.fileId).then((url) => {
        img.dataset.shown = 'full'
        img.src = url
      }, showToolError)
    })
    return img
  }
  const link = downloadLink(media)
  if (m.contentType !== ContentType.VOICE && m.contentType !== ContentType.VIDEO) return link
  const box = el('div', 'media-player')
  box.append(player(m.contentType === ContentType.VOICE ? 'audio' : 'video', media), link)
  return box
}

/**
 * An <audio> or <video> with controls on a signed URL. The browser fetches it in ranges as it plays, so a
 * URL that expired while the page sat open fails a later range: the player then gets a fresh URL once and
 * carries on from where it was.
 */
function player (tag: 'audio' | 'video', media: MediaContent): HTMLMediaElement {
  const node = el(tag, `media-${tag}`)
  node.controls = true
  node.preload = 'metadata'
  node.dataset.fileId = media.fileId
  if (node instanceof HTMLVideoElement) fitInline(node, media)
  let renewed = false
  node.addEventListener('error', () => {
    if (renewed) return
    renewed = true
    const at = node.currentTime
    signedUrls.delete(media.fileId)
    signedUrl(media.fileId).then((url) => {
      node.src = url
      node.currentTime = at
    }, showToolError)
  })
  signedUrl(media.fileId).then((url) => { node.src = url }, showToolError)
  return node
}

/** A link that downloads the file under its name. */
function downloadLink (media: MediaContent): HTMLAnchorElement {
  const link = el('a', 'media-file')
  link.href = '#'
  link.dataset.fileId = media.fileId
  link.title = 'Download'
  const facts = [durationLabel(media.duration), sizeLabel(media.size), 'download'].filter((s) => s !== '').join(' · ')
  link.append(el('span', 'media-name', media.name ?? 'file'), el('span', 'media-size', facts))
  link.addEventListener('click', (event) => {
    event.preventDefault()
    signedUrl(media.fileId).then((url) => {
      const a = document.createElement('a')
      a.href = url
      a.download = media.name ?? ''
      a.click()
    }, showToolError)
  })
  return link
}

// ---- rendering -------------------------------------------------------------------------------------------

function renderList (): void {
  const list = $('conversations')
  const sorted = [...conversations.values()].sort((a, b) => (b.lastTime ?? '').localeCompare(a.lastTime ?? '') || a.id.localeCompare(b.id))
  list.replaceChildren(
    ...sorted.map((c) => {
      const li = el('li', `conv${c.id === active ? ' active' : ''}`)
      li.dataset.id = c.id
      const avatar = el('div', 'avatar', (c.type === 1 ? '#' : '') + c.name.slice(0, 1).toUpperCase())
      avatar.style.background = color(c.id)
      const text = el('div', 'text')
      text.append(el('div', 'title', c.name), el('div', 'preview', c.lastContent))
      const meta = el('div', 'meta')
      const badge = el('span', `unread${c.unread === 0 ? ' zero' : ''}`, String(c.unread))
      meta.append(el('span', 'time', timeLabel(c.lastTime)), badge)
      li.append(avatar, text, meta)
      li.addEventListener('click', () => open(c.id))
      return li
    })
  )
  $('total-unread').textContent = totalUnread > 0 ? `${totalUnread} unread` : 'All caught up'
}

function renderMessages (): void {
  const box = $('messages')
  if (active === null) return
  const c = conversation(active)
  $('chat-title').textContent = c.name
  $('chat-sub').textContent = c.type === 1 ? c.id : `user ${peerOf(c.id)}`
  const stick = box.scrollTop + box.clientHeight >= box.scrollHeight - 40
  const sorted = [...c.messages.values()].sort((a, b) => a.conversationSeq - b.conversationSeq)
  if (sorted.length === 0) {
    box.replaceChildren(el('div', '', 'No messages yet. Say hello!'))
    ;(box.firstChild as HTMLElement).id = 'empty'
    return
  }
  box.replaceChildren(
    ...sorted.map((m) => {
      const recalled = m.status === 3
      const div = el('div', `msg${m.fromUserId === me ? ' mine' : ''}${recalled ? ' recalled' : ''}`)
      div.dataset.msgId = m.msgId
      const media = recalled ? null : mediaContent(m)
      const body = media !== null ? mediaElement(m, media) : document.createTextNode(recalled ? 'message recalled' : m.content)
      div.append(el('span', 'from', m.fromUserId), body, el('span', 'at', timeLabel(m.createTime)))
      return div
    })
  )
  if (stick) box.scrollTop = box.scrollHeight
}

// ---- state -----------------------------------------------------------------------------------------------

function applySummary (s: ConversationSummary): void {
  const c = conversation(s.conversationId)
  c.type = s.conversationType
  if (s.conversationName !== '' && s.conversationName !== null) c.name = s.conversationName
  c.unread = s.conversationId === active && document.visibilityState === 'visible' ? 0 : s.unreadCount
  c.lastSeq = Math.max(c.lastSeq, s.lastSeq)
  // The message itself when it is here (a recall says so); else the summary: a media message by its kind and name.
  const last = s.lastMsgId === null ? undefined : c.messages.get(s.lastMsgId)
  if (last !== undefined) c.lastContent = previewOf(last)
  else if (s.lastMsgContent !== null) c.lastContent = messagePreview({ contentType: s.lastMsgContentType ?? null, content: s.lastMsgContent })
  if (s.lastMsgTime !== null) c.lastTime = s.lastMsgTime
}

async function refresh (): Promise<void> {
  try {
    const result = await http.syncConversations(500)
    for (const s of result.conversations) applySummary(s)
    totalUnread = [...conversations.values()].reduce((n, c) => n + c.unread, 0)
    renderList()
  } catch (error) {
    showToolError(error)
  }
}

function scheduleRefresh (delay = 150): void {
  if (refreshTimer !== null) return
  refreshTimer = setTimeout(() => {
    refreshTimer = null
    void refresh()
  }, delay)
}

function markActiveRead (): void {
  if (active === null || client === null || document.visibilityState !== 'visible') return
  const c = conversation(active)
  if (c.lastSeq > 0) client.markRead(c.id, c.lastSeq)
  if (c.unread > 0) {
    c.unread = 0
    renderList()
  }
}

function onMessage (m: MessageInfo): void {
  const c = conversation(m.conversationId)
  c.messages.set(m.msgId, m)
  if (m.conversationSeq >= c.lastSeq) {
    c.lastSeq = m.conversationSeq
    c.lastContent = previewOf(m)
    c.lastTime = m.createTime
  }
  if (m.conversationId === active) {
    renderMessages()
    markActiveRead()
  }
  // Unread counts are the server's: ask it once things settle.
  scheduleRefresh()
}

function open (id: string): void {
  active = id
  conversation(id)
  $('composer').classList.remove('hidden')
  renderMessages()
  markActiveRead()
  renderList()
  $<HTMLInputElement>('composer-input').focus()
  // The read receipt moves the server's count; fetch it after the server has had a moment.
  setTimeout(() => void refresh(), 300)
}

function showToolError (error: unknown): void {
  $('tool-error').textContent = error instanceof Error ? error.message : String(error)
}

// ---- actions ---------------------------------------------------------------------------------------------

async function start (userId: string, password: string, registerFirst: boolean): Promise<void> {
  const errorBox = $('login-error')
  errorBox.textContent = ''
  try {
    if (registerFirst) await http.register({ userId, username: `user ${userId}`, password })
    const session = await http.login(userId, password)
    me = session.userId
    // No socket URL: the client asks the server (GET /api/server-info), so ws:// or wss:// follows the page.
    client = await ImClient.connect({
      httpUrl: location.origin,
      userId: session.userId,
      token: session.token,
      tokenExpiresAt: session.expiresAt,
      // Renewed with the still-valid token before it expires; the page's own API calls follow it.
      refreshToken: (current) => {
        const renewer = new ImHttpClient(location.origin)
        renewer.token = current
        return renewer.refreshToken()
      },
      deviceId: 'web',
    })
    client.on('token', (grant) => { http.token = grant.token })
    $('me-name').textContent = `${session.username} (${session.userId})`
    $('me-avatar').textContent = session.username.slice(0, 1).toUpperCase()
    $('me-avatar').style.background = color(session.userId)
    $('login').classList.add('hidden')
    $('app').classList.remove('hidden')
    setStatus(true)
    client.on('message', onMessage)
    client.on('connected', () => {
      setStatus(true)
      scheduleRefresh()
    })
    client.on('disconnected', (e) => setStatus(false, e.willReconnect ? 'reconnecting…' : 'offline'))
    client.on('kicked', (reason) => setStatus(false, `signed out: ${reason}`))
    client.on('recall', (r) => {
      const m = conversations.get(r.conversationId)?.messages.get(r.msgId)
      if (m !== undefined) {
        m.status = 3
        m.content = ''
        if (r.conversationId === active) renderMessages()
      }
    })
    client.on('read', () => scheduleRefresh())
    // History and anything missed arrive as 'message' events; the first ones may have come already.
    await refresh()
  } catch (error) {
    errorBox.textContent = error instanceof ImHttpError ? `${error.message} (${error.status})` : error instanceof Error ? error.message : String(error)
  }
}

function setStatus (online: boolean, text?: string): void {
  const status = $('status')
  status.classList.toggle('online', online)
  status.textContent = text ?? (online ? 'online' : 'offline')
}

async function send (text: string): Promise<void> {
  if (client === null || active === null) return
  const c = conversation(active)
  try {
    if (c.type === 1) await client.sendGroup(c.id, text)
    else await client.sendPrivate(peerOf(c.id), text)
    $('tool-error').textContent = ''
  } catch (error) {
    showToolError(error)
  }
}

async function sendFiles (files: File[]): Promise<void> {
  if (client === null || active === null) return
  const c = conversation(active)
  const bar = $<HTMLProgressElement>('upload-progress')
  const label = $('upload-label')
  $('upload').classList.remove('hidden')
  try {
    for (const file of files) {
      label.textContent = `Uploading ${file.name}…`
      bar.value = 0
      const onProgress = ({ loaded, total }: { loaded: number, total: number }): void => { bar.value = total === 0 ? 1 : loaded / total }
      if (c.type === 1) await client.sendGroupFile(c.id, file, { onProgress })
      else await client.sendPrivateFile(peerOf(c.id), file, { onProgress })
    }
    $('tool-error').textContent = ''
  } catch (error) {
    showToolError(error instanceof ImHttpError ? `${error.message} (${error.status})` : error)
  } finally {
    $('upload').classList.add('hidden')
  }
}

$('attach-button').addEventListener('click', () => $<HTMLInputElement>('attach-input').click())
$('attach-input').addEventListener('change', () => {
  const input = $<HTMLInputElement>('attach-input')
  const files = [...(input.files ?? [])]
  input.value = ''
  if (files.length > 0) void sendFiles(files)
})
$('login').addEventListener('submit', (event) => {
  event.preventDefault()
  void start($<HTMLInputElement>('login-user').value.trim(), $<HTMLInputElement>('login-password').value, false)
})
$('register-button').addEventListener('click', () => {
  void start($<HTMLInputElement>('login-user').value.trim(), $<HTMLInputElement>('login-password').value, true)
})
$('composer').addEventListener('submit', (event) => {
  event.preventDefault()
  const input = $<HTMLInputElement>('composer-input')
  const text = input.value
  if (text.trim() === '') return
  input.value = ''
  void send(text)
})
$('new-chat').addEventListener('submit', (event) => {
  event.preventDefault()
  const input = $<HTMLInputElement>('new-chat-user')
  const peer = input.value.trim()
  if (!/^[1-9]\d*$/.test(peer) || peer === me) {
    showToolError('enter another user id')
    return
  }
  input.value = ''
  $('tool-error').textContent = ''
  open(privateConversationId(me, peer))
})
$('new-group').addEventListener('submit', (event) => {
  event.preventDefault()
  const name = $<HTMLInputElement>('group-name').value.trim()
  const members = $<HTMLInputElement>('group-members').value.split(/[\s,]+/).filter((s) => s !== '')
  if (name === '') {
    showToolError('a group needs a name')
    return
  }
  http.createGroup({ conversationName: name, members }).then(
    (id) => {
      $<HTMLInputElement>('group-name').value = ''
      $<HTMLInputElement>('group-members').value = ''
      $('tool-error').textContent = ''
      const c = conversation(id)
      c.type = 1
      c.name = name
      c.lastTime = new Date().toISOString()
      open(id)
    },
    showToolError
  )
})
document.addEventListener('visibilitychange', markActiveRead)
