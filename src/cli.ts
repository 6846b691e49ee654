#!/usr/bin/env node
// implus: the command line for people. Keeps the session (server, userId, token) in
// $IMPLUS_CLI_HOME/session.json (default ~/.implus) and the positions `tail` has shown in seq.json there.
import { createWriteStream, mkdirSync, openAsBlob, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { basename, dirname, join } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { ImClient, ImHttpClient, ImHttpError, LoginError, SendError, isMsgId, isUserId, mediaContent, messagePreview, privateConversationId, type GroupChange, type ImMessage, type MediaKind, type SendReceipt, type UserProfile } from '@implus/client'
import { JsonFileSeqStore } from '@implus/client/node'

const USAGE = `usage: implus [--server http(s)://host:8080] [--ws ws(s)://host:port/websocket] <command>

commands:
  register <userId> <username> <password>   create an account
  login <userId> <password>                 log in and remember the session
  logout                                    revoke this user's tokens and forget the session
  whoami                                    the remembered session
  send <userId> <text>                      send a private message
  send-group <groupId> <text>               send to a group (groupId or group_{id})
  send-file <userId|group_{id}> <path> [--as image|file|voice|video]
                                            upload a file and send it (default kind: what the server found)
  download <fileId> [path]                  save a file (default: its name, here; - for stdout)
  tail                                      print incoming messages live, until Ctrl-C
  conversations                             list conversations with unread counts
  history <user|group> [count]              the last messages of a conversation (default 20)
  read <user|group>                         mark a conversation read up to its latest message
  recall <msgId>                            recall one of your messages

  friend <user> [message]                   befriend: a friend request where the server asks for consent
  requests                                  pending friend requests, incoming and outgoing
  accept | decline | cancel <requestId>     answer a friend request, or withdraw yours
  friends                                   your friends
  unfriend <user>                           end a friendship
  block | unblock <user>, blacklist         block a user from messaging you; list who is blocked
  profile [user]                            a profile (yours by default)
  profile name <displayName> | avatar <url> change your display name or avatar ('-' clears)
  find <username>                           look a user up by username
  password <old> <new>                      change the password (signs your other sessions out)

  group create <name> <member...>           create a group; prints its conversation id
  group list                                your groups
  group info <group>                        name, notice, owner, admins, size, status
  group members <group>                     members with roles and mutes
  group add <group> <user...>               add members (owner, admins)
  group remove <group> <user> | leave <group>
  group rename <group> <name> | notice <group> <text>
  group admin <group> <user> on|off         appoint or demote an admin (owner)
  group transfer <group> <user>             hand the group over (owner)
  group mute <group> <user> <seconds>       mute a member (0 lifts it)
  group mute-all <group> on|off             only the owner and admins may send
  group dismiss <group>                     dismiss the group (owner)

<user> is a userId or @username; <group> is a groupId or group_{id}.

The WebSocket address is asked from the server (GET /api/server-info); --ws overrides it.
environment: IMPLUS_SERVER (HTTP base URL), IMPLUS_WS_URL (WebSocket URL or port), IMPLUS_CLI_HOME`

/** A failure the user can act on: printed without a stack trace. */
class CliError extends Error {
  readonly exitCode: number

  constructor (message: string, exitCode = 1) {
    super(message)
    this.exitCode = exitCode
  }
}

interface Session {
  server: string
  ws: string
  userId: string
  username: string
  token: string
}

interface Args {
  server: string | undefined
  ws: string | undefined
  /** send-file's --as. */
  as: string | undefined
  rest: string[]
}

function parseArgs (argv: string[]): Args {
  const args: Args = { server: undefined, ws: undefined, as: undefined, rest: [] }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    const take = (name: string): string => {
      const eq = arg.indexOf('=')
      if (eq >= 0) return arg.slice(eq + 1)
      const value = argv[++i]
      if (value === undefined) throw new CliError(`${name} needs a value`, 2)
      return value
    }
    if (arg === '--server' || arg.startsWith('--server=')) args.server = take('--server')
    else if (arg === '--ws' || arg.startsWith('--ws=')) args.ws = take('--ws')
    else if (arg === '--as' || arg.startsWith('--as=')) args.as = take('--as')
    else if (arg === '--help' || arg === '-h') args.rest.unshift('help')
    else if (arg === '--') {
      args.rest.push(...argv.slice(i + 1))
      break
    } else args.rest.push(arg)
  }
  return args
}

function home (): string {
  return process.env.IMPLUS_CLI_HOME !== undefined && process.env.IMPLUS_CLI_HOME !== '' ? process.env.IMPLUS_CLI_HOME : join(homedir(), '.implus')
}

function readSession (): Session | null {
  try {
    const parsed = JSON.parse(readFileSync(join(home(), 'session.json'), 'utf8')) as Partial<Session>
    if (typeof parsed.token !== 'string' || typeof parsed.userId !== 'string' || typeof parsed.server !== 'string') return null
    return { server: parsed.server, ws: parsed.ws ?? '', userId: parsed.userId, username: parsed.username ?? '', token: parsed.token }
  } catch {
    return null
  }
}

function writeSession (session: Session): void {
  mkdirSync(home(), { recursive: true, mode: 0o700 })
  writeFileSync(join(home(), 'session.json'), JSON.stringify(session, null, 2) + '\n', { mode: 0o600 })
}

function normalizeServer (value: string): string {
  const withScheme = /^[a-z]+:\/\//i.test(value) ? value : `http://${value}`
  let url: URL
  try {
    url = new URL(withScheme)
  } catch {
    throw new CliError(`--server: not a URL: ${value}`, 2)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new CliError(`--server must be an http:// or https:// URL, got ${value}`, 2)
  return url.origin
}

/**
 * The WebSocket URL from --ws / IMPLUS_WS_URL: a ws:// or wss:// URL (path default /websocket), host:port or
 * a port on the server's host (wss when the server is https); undefined: the server says (server-info).
 */
function wsUrl (server: string, ws: string | undefined): string | undefined {
  if (ws === undefined || ws === '') return undefined
  const serverUrl = new URL(server)
  const scheme = serverUrl.protocol === 'https:' ? 'wss' : 'ws'
  const text = /^\d+$/.test(ws) ? `${scheme}://${serverUrl.host.replace(/:\d+$/, '')}:${ws}` : /^[a-z]+:\/\//i.test(ws) ? ws : `${scheme}://${ws}`
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw new CliError(`--ws: not a WebSocket address: ${ws}`, 2)
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw new CliError(`--ws must be a ws:// or wss:// URL, got ${ws}`, 2)
  if (url.pathname === '/') url.pathname = '/websocket'
  return url.href
}

interface Context {
  args: Args
  server: string
  ws: string | undefined
}

function context (args: Args): Context {
  const session = readSession()
  const server = normalizeServer(args.server ?? process.env.IMPLUS_SERVER ?? session?.server ?? 'http://127.0.0.1:8080')
  const ws = args.ws ?? process.env.IMPLUS_WS_URL ?? (session !== null && session.server === server && session.ws !== '' ? session.ws : undefined)
  return { args, server, ws }
}

function requireSession (ctx: Context): Session {
  const session = readSession()
  if (session === null) throw new CliError('not logged in: run `implus login <userId> <password>` first')
  if (session.server !== ctx.server) throw new CliError(`the saved session is for ${session.server}, not ${ctx.server}: log in again`)
  return session
}

function authedHttp (ctx: Context): { http: ImHttpClient; session: Session } {
  const session = requireSession(ctx)
  const http = new ImHttpClient(ctx.server)
  http.token = session.token
  return { http, session }
}

function need (rest: string[], count: number, usage: string): void {
  if (rest.length < count) throw new CliError(`usage: implus ${usage}`, 2)
}

function checkUserId (value: string, what = 'userId'): string {
  if (!isUserId(value)) throw new CliError(`${what} must be a decimal number from 1 to 2^63-1, got ${JSON.stringify(value)}`, 2)
  return value
}

async function openClient (ctx: Context, session: Session, opts: { sync: boolean; store?: JsonFileSeqStore }): Promise<ImClient> {
  const url = wsUrl(ctx.server, ctx.ws)
  try {
    return await ImClient.connect({
      httpUrl: ctx.server,
      url,
      transport: 'ws',
      userId: session.userId,
      token: session.token,
      // A long `tail` outlives a token: renew it while it is valid and keep the new one for the next command.
      refreshToken: async (current) => {
        const http = new ImHttpClient(ctx.server)
        http.token = current
        const fresh = await http.refreshToken()
        writeSession({ ...session, token: fresh.token })
        return fresh
      },
      deviceId: 'cli',
      sync: opts.sync,
      store: opts.store,
    })
  } catch (error) {
    if (error instanceof LoginError || (error as { status?: number }).status === 401) throw new CliError('the session is no longer valid: log in again')
    if (error instanceof ImHttpError) throw new CliError(`the server did not say where its WebSocket is (${error.status}: ${error.message}); set --ws or IMPLUS_WS_URL`)
    throw new CliError(`cannot connect to ${url ?? 'the WebSocket the server named'}: ${(error as Error).message} (set --ws or IMPLUS_WS_URL)`)
  }
}

function line (m: ImMessage): string {
  const time = m.createTime.slice(11, 19)
  const where = m.msgType === 2 ? `[${m.conversationId}] ` : ''
  const media = mediaContent(m)
  const body = m.status === 3
    ? '(recalled)'
    : media !== null
      ? `${messagePreview(m)} (${media.size ?? '?'} bytes, ${media.mimeType ?? '?'}): implus download ${media.fileId}`
      : m.content.replace(/\r?\n/g, ' ⏎ ')
  return `${time} ${where}${m.fromUserId}: ${body}`
}

async function sendCommand (ctx: Context, group: boolean): Promise<void> {
  const rest = ctx.args.rest
  need(rest, 3, group ? 'send-group <groupId> <text>' : 'send <userId> <text>')
  const target = rest[1]
  if (!group) checkUserId(target)
  const text = rest.slice(2).join(' ')
  if (text === '') throw new CliError('nothing to send', 2)
  const receipt = await withClient(ctx, client => Promise.race([
    group ? client.sendGroup(target, text) : client.sendPrivate(target, text),
    new Promise<never>((_resolve, reject) => setTimeout(() => reject(new CliError('no answer from the server within 30 s')), 30_000).unref()),
  ]))
  console.log(`sent ${receipt.msgId} to ${receipt.conversationId} (seq ${receipt.conversationSeq})`)
}

/** Opens a one-shot client for `send`, closing it after; a refused send is a CliError saying why. */
async function withClient<T extends { receipt: SendReceipt } | SendReceipt> (ctx: Context, send: (client: ImClient) => Promise<T>): Promise<T> {
  const session = requireSession(ctx)
  const client = await openClient(ctx, session, { sync: false })
  try {
    return await send(client)
  } catch (error) {
    if (error instanceof SendError) throw new CliError(`not sent (${error.errorCode}): ${error.reason}`)
    throw error
  } finally {
    await client.close().catch(() => undefined)
  }
}

const KINDS: readonly string[] = ['image', 'file', 'voice', 'video']

async function sendFile (ctx: Context): Promise<void> {
  const rest = ctx.args.rest
  need(rest, 3, 'send-file <userId|group_{id}> <path> [--as image|file|voice|video]')
  const [, target, path] = rest
  const group = target.startsWith('group_')
  if (!group) checkUserId(target)
  const kind = ctx.args.as
  if (kind !== undefined && !KINDS.includes(kind)) throw new CliError(`--as must be one of ${KINDS.join(', ')}, got ${JSON.stringify(kind)}`, 2)
  let size: number
  try {
    size = statSync(path).size
  } catch (error) {
    throw new CliError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`)
  }
  const body = await openAsBlob(path)
  // A progress line on a terminal only; scripts get the result line alone.
  const progress = process.stderr.isTTY
    ? ({ loaded, total }: { loaded: number, total: number }) => process.stderr.write(`\ruploading ${basename(path)}: ${Math.floor((loaded / Math.max(total, 1)) * 100)}%`)
    : undefined
  const options = { name: basename(path), kind: kind as MediaKind | undefined, onProgress: progress }
  const { file, receipt } = await withClient(ctx, client => group ? client.sendGroupFile(target, body, options) : client.sendPrivateFile(target, body, options))
  if (progress !== undefined) process.stderr.write('\n')
  const image = file.width !== null ? `, ${file.width}×${file.height}` : ''
  console.log(`sent ${receipt.msgId} to ${receipt.conversationId} (seq ${receipt.conversationSeq}): file ${file.fileId} ${file.name} (${size} bytes, ${file.mimeType}${image})`)
}

/** The file name of a download's Content-Disposition (RFC 8187 filename* first), as a bare name. */
function dispositionName (header: string | null): string | null {
  if (header === null) return null
  const extended = /filename\*=UTF-8''([^;]+)/i.exec(header)
  const plain = /filename="([^"]*)"/i.exec(header)
  let name: string | null = null
  try {
    name = extended !== null ? decodeURIComponent(extended[1]) : plain?.[1] ?? null
  } catch {
    name = plain?.[1] ?? null
  }
  // The server refuses path-like names; a name that looks like one anyway is not followed.
  if (name === null) return null
  const bare = basename(name.replace(/\\/g, '/'))
  return bare === '' || bare === '.' || bare === '..' ? null : bare
}

async function download (ctx: Context): Promise<void> {
  const rest = ctx.args.rest
  need(rest, 2, 'download <fileId> [path]')
  const fileId = rest[1]
  if (!isMsgId(fileId)) throw new CliError(`fileId must be a decimal file id, got ${JSON.stringify(fileId)}`, 2)
  const { http } = authedHttp(ctx)
  const response = await http.download(fileId)
  const target = rest[2] ?? dispositionName(response.headers.get('content-disposition')) ?? fileId
  const body = Readable.fromWeb(response.body! as import('node:stream/web').ReadableStream<Uint8Array>)
  if (target === '-') {
    await pipeline(body, process.stdout)
    return
  }
  // Written beside the target under another name, renamed when whole: an interrupted download leaves no half file.
  const partial = join(dirname(target), `.${basename(target)}.${process.pid}.part`)
  try {
    await pipeline(body, createWriteStream(partial, { flags: 'wx' }))
    renameSync(partial, target)
  } catch (error) {
    rmSync(partial, { force: true })
    throw new CliError(`download of ${fileId} to ${target} failed: ${(error as Error).message}`)
  }
  console.log(`saved ${target} (${statSync(target).size} bytes, ${response.headers.get('content-type') ?? 'unknown type'})`)
}

async function tail (ctx: Context): Promise<void> {
  const session = requireSession(ctx)
  const store = new JsonFileSeqStore(join(home(), 'seq.json'))
  const client = await openClient(ctx, session, { sync: true, store })
  // Messages are printed as the SDK delivers them; missed ones (since the last tail) come first.
  client.on('message', (m) => console.log(line(m)))
  client.on('recall', (r) => console.log(`-- ${r.fromUserId} recalled ${r.msgId}`))
  client.on('kicked', (reason) => {
    console.error(`implus: signed out: ${reason}`)
    process.exit(1)
  })
  client.on('disconnected', (e) => {
    if (e.willReconnect) console.error(`-- disconnected (${e.reason}); reconnecting in ${Math.round((e.delayMs ?? 0) / 100) / 10} s`)
  })
  client.on('connected', (e) => {
    if (e.reconnect) console.error('-- reconnected')
  })
  client.on('error', (error) => console.error(`-- ${error.message}`))
  console.error(`-- tailing messages for ${session.userId}; Ctrl-C to stop`)
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
      resolve()
    }
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
  })
  await client.close()
}

/** A userId, or `@username` (also a bare name that is not a number) looked up on the server. */
async function resolveUser (http: ImHttpClient, value: string): Promise<string> {
  const name = value.replace(/^@/, '')
  if (isUserId(value)) return value
  if (name === '') throw new CliError(`not a user: ${JSON.stringify(value)}`, 2)
  return (await http.findByUsername(name)).userId
}

function groupId (value: string | undefined): string {
  const id: string = (value ?? '').replace(/^group_/, '')
  if (!isUserId(id)) throw new CliError(`not a group: ${JSON.stringify(value)} (a groupId or group_{id})`, 2)
  return `group_${id}`
}

/** "Display Name (@username, userId)" for each of these users, fetched at once. */
async function displayNames (http: ImHttpClient, userIds: string[]): Promise<(userId: string) => string> {
  const unique = [...new Set(userIds)]
  const profiles = new Map<string, UserProfile>()
  for (let at = 0; at < unique.length; at += 500) for (const p of await http.profiles(unique.slice(at, at + 500))) profiles.set(p.userId, p)
  return (userId) => {
    const p = profiles.get(userId)
    return p === undefined ? userId : `${p.displayName} (@${p.username}, ${p.userId})`
  }
}

function printProfile (p: UserProfile): void {
  console.log(`${p.displayName} (@${p.username}, ${p.userId})${p.deleted ? ' [deleted]' : ''}${p.avatarUrl !== null ? `\navatar: ${p.avatarUrl}` : ''}`)
}

async function profileCommand (ctx: Context): Promise<void> {
  const rest = ctx.args.rest
  const { http, session } = authedHttp(ctx)
  if (rest[1] === 'name' || rest[1] === 'avatar') {
    need(rest, 3, `profile ${rest[1]} <${rest[1] === 'name' ? 'displayName' : 'url'}>`)
    const value = rest.slice(2).join(' ')
    const cleared = value === '-' ? null : value
    printProfile(await http.updateProfile(rest[1] === 'name' ? { displayName: cleared } : { avatarUrl: cleared }))
    return
  }
  printProfile(await http.profile(rest[1] === undefined ? session.userId : await resolveUser(http, rest[1])))
}

/** The conversation a `<user|group>` argument names, from the caller's side. */
async function conversationOf (http: ImHttpClient, me: string, value: string | undefined): Promise<string> {
  if (value === undefined) throw new CliError('name a user (userId or @username) or a group (group_{id})', 2)
  if (value.startsWith('group_')) return groupId(value)
  return privateConversationId(me, await resolveUser(http, value))
}

/** The conversation's latest conversationSeq, from the caller's conversation list (0 when it has none). */
async function latestSeq (http: ImHttpClient, conversationId: string): Promise<number> {
  const { conversations } = await http.syncConversations(500)
  return conversations.find((c) => c.conversationId === conversationId)?.lastSeq ?? 0
}

async function historyCommand (ctx: Context): Promise<void> {
  const rest = ctx.args.rest
  need(rest, 2, 'history <user|group> [count]')
  const count = rest[2] === undefined ? 20 : Number(rest[2])
  if (!Number.isInteger(count) || count < 1 || count > 500) throw new CliError('count must be from 1 to 500', 2)
  const { http, session } = authedHttp(ctx)
  const conversationId = await conversationOf(http, session.userId, rest[1])
  const last = await latestSeq(http, conversationId)
  if (last === 0) {
    console.log('no messages')
    return
  }
  const { messages } = await http.pull({ conversationId, startSeq: Math.max(1, last - count + 1), endSeq: last, limit: count })
  const names = await displayNames(http, messages.map((m) => m.fromUserId))
  for (const m of messages) {
    const body = m.status === 3 ? '(recalled)' : m.contentType === 99 ? `-- ${systemText(m.content)}` : m.content.replace(/\r?\n/g, ' ⏎ ')
    console.log(`${m.conversationSeq}  ${m.createTime.slice(0, 19).replace('T', ' ')}  ${m.msgId}  ${names(m.fromUserId)}: ${body}`)
  }
}

/** A group's system message (contentType 99) as its readable sentence. */
function systemText (content: string): string {
  try {
    const parsed = JSON.parse(content) as { text?: unknown }
    return typeof parsed.text === 'string' ? parsed.text : content
  } catch {
    return content
  }
}

async function readCommand (ctx: Context): Promise<void> {
  const rest = ctx.args.rest
  need(rest, 2, 'read <user|group>')
  const { http, session } = authedHttp(ctx)
  const conversationId = await conversationOf(http, session.userId, rest[1])
  const last = await latestSeq(http, conversationId)
  if (last === 0) {
    console.log('nothing to read')
    return
  }
  const client = await openClient(ctx, session, { sync: false })
  try {
    if (!client.markRead(conversationId, last)) throw new CliError('the connection closed before the read receipt was sent')
  } finally {
    await client.close().catch(() => undefined)
  }
  console.log(`${conversationId} read up to ${last}`)
}

async function groupCommand (ctx: Context): Promise<void> {
  const rest = ctx.args.rest
  const sub = rest[1]
  const { http, session } = authedHttp(ctx)
  const change = (done: string) => (result: GroupChange): void => console.log(result === null ? 'nothing to change' : `${done} (seq ${result.conversationSeq})`)
  const onOff = (value: string | undefined): boolean => {
    if (value !== 'on' && value !== 'off') throw new CliError(`usage: implus group ${sub} … on|off`, 2)
    return value === 'on'
  }
  switch (sub) {
    case 'create': {
      need(rest, 3, 'group create <name> <member...>')
      const members = await Promise.all(rest.slice(3).map((m) => resolveUser(http, m)))
      console.log(await http.createGroup({ conversationName: rest[2], members }))
      return
    }
    case 'list': {
      const groups = await http.myGroups()
      for (const g of groups) console.log(`${g.conversationId}  ${g.name}  ${g.memberCount} members  ${['member', 'owner', 'admin'][g.role]}${g.status === 2 ? '  [dismissed]' : ''}`)
      if (groups.length === 0) console.log('no groups')
      return
    }
    case 'info': {
      const info = await http.groupInfo(groupId(rest[2]))
      const names = await displayNames(http, [...(info.ownerId === null ? [] : [info.ownerId]), ...info.admins])
      console.log(`${info.conversationId}  ${info.name}${info.status === 2 ? '  [dismissed]' : ''}${info.muteAll ? '  [muted: owner and admins only]' : ''}`)
      if (info.notice !== null) console.log(`notice: ${info.notice}`)
      console.log(`owner: ${info.ownerId === null ? '-' : names(info.ownerId)}`)
      if (info.admins.length > 0) console.log(`admins: ${info.admins.map(names).join(', ')}`)
      console.log(`members: ${info.memberCount} of at most ${info.maxMembers}`)
      return
    }
    case 'members': {
      const roster = await http.roster(groupId(rest[2]))
      const names = await displayNames(http, roster.map((m) => m.userId))
      for (const m of roster) console.log(`${names(m.userId)}  ${['member', 'owner', 'admin'][m.role]}${m.mutedUntil !== null ? `  muted until ${m.mutedUntil}` : ''}`)
      return
    }
    case 'add': {
      need(rest, 4, 'group add <group> <user...>')
      const users = await Promise.all(rest.slice(3).map((u) => resolveUser(http, u)))
      await http.addMembers(groupId(rest[2]), users)
      console.log(`added ${rest.slice(3).join(', ')}`)
      return
    }
    case 'remove':
    case 'leave': {
      need(rest, sub === 'remove' ? 4 : 3, sub === 'remove' ? 'group remove <group> <user>' : 'group leave <group>')
      await http.removeMember(groupId(rest[2]), sub === 'leave' ? session.userId : await resolveUser(http, rest[3]))
      console.log(sub === 'leave' ? `left ${groupId(rest[2])}` : `removed ${rest[3]}`)
      return
    }
    case 'rename':
    case 'notice': {
      need(rest, 4, `group ${sub} <group> <${sub === 'rename' ? 'name' : 'text'}>`)
      const text = rest.slice(3).join(' ')
      change(sub === 'rename' ? 'renamed' : 'notice set')(await http.updateGroup(groupId(rest[2]), sub === 'rename' ? { name: text } : { notice: text === '-' ? null : text }))
      return
    }
    case 'admin':
      need(rest, 5, 'group admin <group> <user> on|off')
      change('done')(await http.setGroupAdmin(groupId(rest[2]), await resolveUser(http, rest[3]), onOff(rest[4])))
      return
    case 'transfer':
      need(rest, 4, 'group transfer <group> <user>')
      change('transferred')(await http.transferGroup(groupId(rest[2]), await resolveUser(http, rest[3])))
      return
    case 'mute': {
      need(rest, 5, 'group mute <group> <user> <seconds>')
      const seconds = Number(rest[4])
      if (!Number.isInteger(seconds) || seconds < 0) throw new CliError('seconds must be a whole number (0 lifts the mute)', 2)
      change(seconds === 0 ? 'unmuted' : 'muted')(await http.muteMember(groupId(rest[2]), await resolveUser(http, rest[3]), seconds))
      return
    }
    case 'mute-all':
      need(rest, 4, 'group mute-all <group> on|off')
      change('done')(await http.muteGroup(groupId(rest[2]), onOff(rest[3])))
      return
    case 'dismiss':
      need(rest, 3, 'group dismiss <group>')
      change('dismissed')(await http.dismissGroup(groupId(rest[2])))
      return
    default:
      throw new CliError(`unknown group command ${JSON.stringify(sub ?? '')}\n${USAGE}`, 2)
  }
}

async function run (argv: string[]): Promise<void> {
  const args = parseArgs(argv)
  const [command] = args.rest
  if (command === undefined || command === 'help') {
    console.log(USAGE)
    if (command === undefined) throw new CliError('no command given', 2)
    return
  }
  const ctx = context(args)
  const rest = args.rest
  switch (command) {
    case 'register': {
      need(rest, 4, 'register <userId> <username> <password>')
      const http = new ImHttpClient(ctx.server)
      const result = await http.register({ userId: checkUserId(rest[1]), username: rest[2], password: rest[3] })
      console.log(`registered ${result.userId} (${result.username})`)
      return
    }
    case 'login': {
      need(rest, 3, 'login <userId> <password>')
      const http = new ImHttpClient(ctx.server)
      const result = await http.login(checkUserId(rest[1]), rest[2])
      writeSession({ server: ctx.server, ws: wsUrl(ctx.server, ctx.ws) ?? '', userId: result.userId, username: result.username, token: result.token })
      console.log(`logged in as ${result.userId} (${result.username}) until ${result.expiresAt}`)
      return
    }
    case 'logout': {
      const { http } = authedHttp(ctx)
      await http.logout()
      rmSync(join(home(), 'session.json'), { force: true })
      console.log('logged out')
      return
    }
    case 'whoami': {
      const session = requireSession(ctx)
      console.log(`${session.userId} (${session.username}) on ${session.server}`)
      return
    }
    case 'send':
      return sendCommand(ctx, false)
    case 'send-group':
      return sendCommand(ctx, true)
    case 'send-file':
      return sendFile(ctx)
    case 'download':
      return download(ctx)
    case 'tail':
      return tail(ctx)
    case 'conversations': {
      const { http } = authedHttp(ctx)
      const result = await http.syncConversations()
      if (result.conversations.length === 0) {
        console.log('no conversations')
        return
      }
      for (const c of result.conversations) {
        const unread = c.unreadCount > 0 ? `(${c.unreadCount} unread)` : ''
        // A media message by kind and name, not its JSON document (a server before lastMsgContentType: as text).
        const preview = messagePreview({ contentType: c.lastMsgContentType ?? null, content: c.lastMsgContent })
        const last = c.lastMsgContent === null ? '' : `${c.lastMsgSender ?? '?'}: ${preview.replace(/\r?\n/g, ' ')}`
        console.log([c.conversationId, c.conversationName, unread, last].filter((s) => s !== '' && s !== null).join('  '))
      }
      console.log(`total unread: ${result.totalUnreadCount}`)
      return
    }
    case 'friend': {
      need(rest, 2, 'friend <user> [message]')
      const { http } = authedHttp(ctx)
      const userId = await resolveUser(http, rest[1])
      try {
        await http.addFriend(userId)
        console.log(`${rest[1]} is now a friend`)
      } catch (error) {
        // The server asks for consent (IMPLUS_DIRECT_FRIENDS=false): send a request instead.
        if (!(error instanceof ImHttpError && error.status === 403)) throw error
        const request = await http.sendFriendRequest(userId, rest.slice(2).join(' '))
        console.log(request.status === 1 ? `${rest[1]} is now a friend (they had asked you)` : `friend request ${request.requestId} sent to ${rest[1]}`)
      }
      return
    }
    case 'requests': {
      const { http } = authedHttp(ctx)
      const { incoming, outgoing } = await http.friendRequests()
      const names = await displayNames(http, [...incoming.map((r) => r.fromId), ...outgoing.map((r) => r.toId)])
      for (const r of incoming) console.log(`${r.requestId}  from ${names(r.fromId)}${r.message !== '' ? `: ${r.message}` : ''}`)
      for (const r of outgoing) console.log(`${r.requestId}  to ${names(r.toId)} (waiting)`)
      if (incoming.length + outgoing.length === 0) console.log('no pending friend requests')
      return
    }
    case 'accept':
    case 'decline':
    case 'cancel': {
      need(rest, 2, `${command} <requestId>`)
      const { http } = authedHttp(ctx)
      const answer = command === 'accept' ? http.acceptFriendRequest(rest[1]) : command === 'decline' ? http.declineFriendRequest(rest[1]) : http.cancelFriendRequest(rest[1])
      const request = await answer
      console.log(`friend request ${request.requestId} ${['pending', 'accepted', 'declined', 'cancelled'][request.status]}`)
      return
    }
    case 'friends':
    case 'blacklist': {
      const { http } = authedHttp(ctx)
      const list = command === 'friends' ? await http.friends() : await http.blacklist()
      const names = await displayNames(http, list.map((f) => f.userId))
      for (const f of list) console.log(names(f.userId))
      if (list.length === 0) console.log(command === 'friends' ? 'no friends yet' : 'nobody is blocked')
      return
    }
    case 'unfriend':
    case 'block':
    case 'unblock': {
      need(rest, 2, `${command} <user>`)
      const { http } = authedHttp(ctx)
      const userId = await resolveUser(http, rest[1])
      if (command === 'unfriend') await http.removeFriend(userId)
      else if (command === 'block') await http.block(userId)
      else await http.unblock(userId)
      console.log(`${command === 'unfriend' ? 'unfriended' : `${command}ed`} ${rest[1]}`)
      return
    }
    case 'profile':
      return profileCommand(ctx)
    case 'find': {
      need(rest, 2, 'find <username>')
      const { http } = authedHttp(ctx)
      printProfile(await http.findByUsername(rest[1].replace(/^@/, '')))
      return
    }
    case 'password': {
      need(rest, 3, 'password <old> <new>')
      const { http, session } = authedHttp(ctx)
      const result = await http.changePassword(rest[1], rest[2])
      writeSession({ ...session, token: result.token })
      console.log('password changed; your other sessions are signed out')
      return
    }
    case 'history':
      return historyCommand(ctx)
    case 'read':
      return readCommand(ctx)
    case 'recall': {
      need(rest, 2, 'recall <msgId>')
      const { http } = authedHttp(ctx)
      await http.recall(rest[1])
      console.log(`recalled ${rest[1]}`)
      return
    }
    case 'group':
      return groupCommand(ctx)
    default:
      throw new CliError(`unknown command ${JSON.stringify(command)}\n${USAGE}`, 2)
  }
}

run(process.argv.slice(2)).then(
  () => process.exit(0),
  (error: unknown) => {
    if (error instanceof CliError) {
      console.error(`implus: ${error.message}`)
      process.exit(error.exitCode)
    }
    if (error instanceof ImHttpError) {
      console.error(`implus: ${error.message} (${error.status})`)
      process.exit(1)
    }
    if (error instanceof TypeError && error.message === 'fetch failed') {
      // undici's network failure; the cause (ECONNREFUSED, ENOTFOUND, ...) says why.
      const cause = (error as { cause?: { code?: string, message?: string } }).cause
      const why = cause?.code ?? (cause?.message !== undefined && cause.message !== '' ? cause.message : 'network error')
      console.error(`implus: cannot reach the server (${why}): check --server or IMPLUS_SERVER`)
      process.exit(1)
    }
    console.error(`implus: ${error instanceof Error ? error.message : String(error)}`)
    process.exit(1)
  }
)
