// The integration-test fixture: spawns the real server (`node dist/main.js`) on a fresh data folder with
// free ports, waits for its "implus listening" log line, and makes sure nothing it started outlives the
// test process. Run `npx tsc -p .` (or `npm run build`) first: this tests dist/, the thing operators run.

import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { createServer, type AddressInfo, type Server } from 'node:net'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { onExit } from 'signal-exit'
import { postmasterPid as postmasterPidOf } from '../../src/db/postmaster.js'

export const ROOT = fileURLToPath(new URL('../../', import.meta.url))
export const MAIN = join(ROOT, 'dist', 'main.js')

/** The admin token every test server gets unless a test overrides IMPLUS_ADMIN_TOKEN. */
export const ADMIN_TOKEN = 'test-admin-token-0123456789'
export const DEFAULT_PASSWORD = 'correct-horse-battery'

const START_TIMEOUT_MS = 60_000
const STOP_TIMEOUT_MS = 40_000

export interface Ports {
  http?: number
  ws?: number
  tcp?: number
  udp?: number
}

/** One parsed pino line from the server's stdout. */
export type LogLine = Record<string, unknown> & { msg?: string, level?: number }

export interface StartOptions {
  /** Merged over the defaults; a value of '' removes the variable (the server treats blank as unset). */
  env?: Record<string, string>
  /** Reuse this data folder (e.g. a restart). A folder given here is never deleted by the helper. */
  dataDir?: string
  /** Keep the temporary data folder after the test process exits. */
  keepDataDir?: boolean
  /** Node options before the script (benchmarks pass --cpu-prof here; NODE_OPTIONS refuses it). */
  nodeArgs?: string[]
}

export interface TestServer {
  readonly httpUrl: string
  readonly ports: Ports
  readonly dataDir: string
  readonly process: ChildProcess
  /** Every stdout line parsed as JSON so far (non-JSON lines are kept as `{ msg: <text>, raw: true }`). */
  readonly logs: LogLine[]
  /** The same stdout lines as text, as written (a duplicate JSON key survives here, not in `logs`). */
  readonly lines: string[]
  /** stderr so far. */
  readonly stderr: () => string
  /** The full environment the process was started with. */
  readonly env: Record<string, string>
  /** The options it was started with (restart reuses them). */
  readonly options: StartOptions
  /** Settles with the exit code (null when killed by a signal) once the process has exited and its output is read. */
  readonly exited: Promise<number | null>
  /** Resolves with the first log line (already seen or future) matching the predicate; rejects if the process exits first. */
  waitForLog (predicate: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>
  /** SIGTERM, then waits for the exit; returns the exit code. */
  stop (): Promise<number | null>
  /** SIGKILL to the node process only (like `kill -9 <pid>`: its embedded PostgreSQL keeps running), then waits. */
  kill9 (): Promise<number | null>
  /** A new process on the same data folder (stops this one first if it is still running). */
  restart (opts?: { env?: Record<string, string> }): Promise<TestServer>
}

interface Tracked {
  child: ChildProcess
  dataDir: string
}

// ---- cleanup: nothing outlives the test process --------------------------------------------------------

const liveChildren = new Set<Tracked>()
const tempDirs = new Set<string>()
const usedDataDirs = new Set<string>()

/** The pid of the postmaster running on `dataDir`, or null (only a `postgres -D <dataDir>/pg` process counts: pids wrap). */
function postmasterPid (dataDir: string): number | null {
  return postmasterPidOf(resolve(dataDir, 'pg'))
}

/**
 * SIGKILLs the process group a child (spawned detached) leads, while the child has not been seen to exit: an
 * unreaped child holds its pid, so the group id is still ours. After its exit the id is free, and signalling
 * it could kill another test file's server that was given the same number. Whether it signalled.
 */
export function killGroup (child: ChildProcess): boolean {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return false
  try {
    process.kill(-child.pid, 'SIGKILL')
    return true
  } catch {
    return false
  }
}

function cleanupEverything (): void {
  // SIGKILL the node processes, then stop each embedded PostgreSQL with an immediate shutdown (SIGQUIT: it
  // also stops its backends and releases shared memory). A server killed with -9 earlier left its
  // PostgreSQL running: the data-folder list catches those too.
  const children = [...liveChildren]
  liveChildren.clear()
  // Through the child process object, which signals only a child that has not exited: its pid may be reused.
  for (const { child } of children) child.kill('SIGKILL')
  const stopped = new Set<string>()
  for (const dir of usedDataDirs) {
    const pid = postmasterPid(dir)
    if (pid === null) continue
    try { process.kill(pid, 'SIGQUIT') } catch {}
    stopped.add(dir)
  }
  // Not seen to exit: the server ran in its own process group, which holds its shard workers and anything
  // else it started there (not PostgreSQL: that runs in a session of its own, and is stopped above by the
  // postmaster.pid it writes as it starts).
  for (const { child, dataDir } of children) {
    if (stopped.has(dataDir)) continue
    killGroup(child)
  }
  for (const dir of tempDirs) {
    try { rmSync(dir, { recursive: true, force: true, maxRetries: 3 }) } catch {}
  }
  tempDirs.clear()
}

onExit(() => { cleanupEverything() })

/** A fresh folder under the OS temp dir, traversable by the `postgres` user the embedded database runs as. */
export function makeTempDir (prefix = 'implus-test-', keep = false): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  chmodSync(dir, 0o755)
  if (!keep) tempDirs.add(dir)
  return dir
}

// ---- starting -----------------------------------------------------------------------------------------

function baseEnv (dataDir: string): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env)) {
    // Tap and the outer environment must not configure the server by accident.
    if (v === undefined || k.startsWith('IMPLUS_') || k === 'DATABASE_URL' || k === 'REDIS_URL' || k === 'LOG_LEVEL' || k === 'UWS_USE_FALLBACK' || k.startsWith('TAP') || k.startsWith('_TAPJS_') || k === 'NODE_OPTIONS') continue
    env[k] = v
  }
  return {
    ...env,
    IMPLUS_DATA_DIR: dataDir,
    IMPLUS_HOST: '127.0.0.1',
    IMPLUS_HTTP_PORT: '0',
    IMPLUS_WS_PORT: '0',
    IMPLUS_TCP_PORT: '0',
    IMPLUS_UDP_PORT: '0',
    IMPLUS_SCRYPT_COST: '10',
    IMPLUS_ADMIN_TOKEN: ADMIN_TOKEN,
    LOG_LEVEL: 'info'
  }
}

function portOf (value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isInteger(value)) return value
  if (typeof value === 'string') {
    if (/^\d+$/.test(value)) return Number(value)
    try {
      const port = new URL(value).port
      if (port !== '') return Number(port)
    } catch {}
  }
  return undefined
}

/** Reads whatever `ports: {http, ws, tcp, udp}` and/or `http`/`ws`/`tcp`/`udp` address fields the start line has. */
function parsePorts (line: LogLine): Ports {
  const ports: Ports = {}
  const nested = typeof line.ports === 'object' && line.ports !== null ? line.ports as Record<string, unknown> : {}
  for (const key of ['http', 'ws', 'tcp', 'udp'] as const) {
    const port = portOf(nested[key]) ?? portOf(line[key])
    if (port !== undefined) ports[key] = port
  }
  return ports
}

/** Spawns the server and hands back the child plus line-level plumbing; used by startServer and runToExit. */
function spawnServer (env: Record<string, string>, dataDir: string, nodeArgs: string[] = []): {
  child: ChildProcess
  logs: LogLine[]
  lines: string[]
  stderr: () => string
  exited: Promise<number | null>
  onLine: Set<(line: LogLine) => void>
  onExitListeners: Set<(code: number | null) => void>
  closed: () => boolean
} {
  const cleanEnv: Record<string, string> = {}
  for (const [k, v] of Object.entries(env)) if (v !== '') cleanEnv[k] = v
  const child = spawn(process.execPath, [...nodeArgs, MAIN], { cwd: ROOT, env: cleanEnv, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
  const tracked = { child, dataDir }
  liveChildren.add(tracked)
  usedDataDirs.add(dataDir)
  const logs: LogLine[] = []
  const lines: string[] = []
  let stderrText = ''
  const onLine = new Set<(line: LogLine) => void>()
  const onExitListeners = new Set<(code: number | null) => void>()
  child.stderr!.setEncoding('utf8')
  child.stderr!.on('data', (chunk: string) => { stderrText += chunk })
  createInterface({ input: child.stdout!, crlfDelay: Infinity }).on('line', text => {
    let line: LogLine
    try {
      const parsed: unknown = JSON.parse(text)
      line = typeof parsed === 'object' && parsed !== null ? parsed as LogLine : { msg: text, raw: true }
    } catch {
      line = { msg: text, raw: true }
    }
    logs.push(line)
    lines.push(text)
    for (const fn of [...onLine]) fn(line)
  })
  let closed = false
  const exited = new Promise<number | null>(resolve => {
    // 'close' comes after 'exit' once stdout and stderr are drained, so logs are complete.
    child.on('close', code => {
      closed = true
      liveChildren.delete(tracked)
      for (const fn of [...onExitListeners]) fn(code)
      resolve(code)
    })
    child.on('error', () => {
      closed = true
      liveChildren.delete(tracked)
      for (const fn of [...onExitListeners]) fn(null)
      resolve(null)
    })
  })
  return { child, logs, lines, stderr: () => stderrText, exited, onLine, onExitListeners, closed: () => closed }
}

export async function startServer (opts: StartOptions = {}): Promise<TestServer> {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npx tsc -p .\` first`)
  const dataDir = opts.dataDir ?? makeTempDir('implus-test-', opts.keepDataDir === true)
  const env = { ...baseEnv(dataDir), ...opts.env }
  const spawned = spawnServer(env, dataDir, opts.nodeArgs)
  const { child, logs, lines, stderr, exited, onLine, onExitListeners } = spawned

  const waitForLog = (predicate: (line: LogLine) => boolean, timeoutMs = START_TIMEOUT_MS): Promise<LogLine> => {
    const seen = logs.find(predicate)
    if (seen !== undefined) return Promise.resolve(seen)
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer)
        onLine.delete(lineListener)
        onExitListeners.delete(exitListener)
      }
      const lineListener = (line: LogLine): void => {
        if (!predicate(line)) return
        done()
        resolve(line)
      }
      const exitListener = (code: number | null): void => {
        done()
        reject(new Error(`server exited (code ${code}) before the awaited log line; stderr:\n${stderr()}\nlast logs:\n${logs.slice(-5).map(l => JSON.stringify(l)).join('\n')}`))
      }
      // A safety net against a hung server, not a wait: the line normally arrives as an event.
      const timer = setTimeout(() => {
        done()
        reject(new Error(`no matching log line within ${timeoutMs} ms; stderr:\n${stderr()}`))
      }, timeoutMs)
      onLine.add(lineListener)
      onExitListeners.add(exitListener)
      if (spawned.closed()) exitListener(child.exitCode)
    })
  }

  let started: LogLine
  try {
    started = await waitForLog(line => line.msg === 'implus listening')
  } catch (err) {
    if (killGroup(child)) await exited
    throw err
  }

  const ports = parsePorts(started)
  if (ports.http === undefined) throw new Error(`start line has no HTTP port: ${JSON.stringify(started)}`)

  const signalAndWait = async (signal: NodeJS.Signals): Promise<number | null> => {
    if (child.exitCode === null && child.signalCode === null) {
      try { process.kill(child.pid!, signal) } catch {}
    }
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`server did not exit within ${STOP_TIMEOUT_MS} ms of ${signal}`)), STOP_TIMEOUT_MS)
    })
    try {
      return await Promise.race([exited, timeout])
    } finally {
      clearTimeout(timer)
    }
  }

  const server: TestServer = {
    httpUrl: `http://127.0.0.1:${ports.http}`,
    ports,
    dataDir,
    process: child,
    logs,
    lines,
    stderr,
    env,
    options: opts,
    exited,
    waitForLog,
    stop: () => signalAndWait('SIGTERM'),
    kill9: () => signalAndWait('SIGKILL'),
    async restart (more = {}) {
      if (child.exitCode === null && child.signalCode === null) await signalAndWait('SIGTERM')
      // The first server's temp folder stays registered for removal; the restarted one must not remove it twice.
      return await startServer({ env: { ...opts.env, ...more.env }, dataDir, keepDataDir: true })
    }
  }
  return server
}

/** Runs the server expecting it to exit on its own (e.g. a bad setting): its exit code and full output. */
export async function runToExit (env: Record<string, string>, timeoutMs = 30_000, onLog?: (line: LogLine) => void): Promise<{ code: number | null, stdout: string, stderr: string }> {
  // The caller's folder when it names one: that is where the server's PostgreSQL runs, for the cleanup to find.
  const dataDir = env.IMPLUS_DATA_DIR ?? makeTempDir()
  const { child, logs, stderr, exited, onLine } = spawnServer({ ...baseEnv(dataDir), ...env }, dataDir)
  if (onLog !== undefined) onLine.add(onLog)
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      killGroup(child)
      // In a session of its own, so not in that group.
      const postmaster = postmasterPid(dataDir)
      if (postmaster !== null) try { process.kill(postmaster, 'SIGQUIT') } catch {}
      reject(new Error(`server did not exit within ${timeoutMs} ms; it was expected to stop by itself`))
    }, timeoutMs)
  })
  try {
    const code = await Promise.race([exited, timeout])
    return { code, stdout: logs.map(l => l.raw === true ? String(l.msg) : JSON.stringify(l)).join('\n'), stderr: stderr() }
  } finally {
    clearTimeout(timer)
  }
}

// ---- HTTP ---------------------------------------------------------------------------------------------

export interface ApiResponse {
  status: number
  /** Parsed JSON, or the raw text when the response is not JSON. */
  body: any
  headers: Headers
}

/**
 * One HTTP request with JSON. `body` objects are sent as JSON; a string is sent as is (for malformed
 * bodies). `token` becomes `Authorization: Bearer <token>`; pass `headers` to send anything else.
 */
export async function api (
  server: { httpUrl: string } | string,
  method: string,
  path: string,
  body?: unknown,
  token?: string,
  headers: Record<string, string> = {}
): Promise<ApiResponse> {
  const base = typeof server === 'string' ? server : server.httpUrl
  const init: RequestInit = { method, headers: { ...headers } }
  const h = init.headers as Record<string, string>
  if (token !== undefined) h.authorization = `Bearer ${token}`
  if (body !== undefined) {
    init.body = typeof body === 'string' || body instanceof Uint8Array ? body as string : JSON.stringify(body)
    h['content-type'] ??= 'application/json'
  }
  const res = await fetch(base + path, init)
  const text = await res.text()
  let parsed: unknown = text
  try { parsed = JSON.parse(text) } catch {}
  return { status: res.status, body: parsed, headers: res.headers }
}

/** A random user id (decimal, 1..2^63-1, no leading zero) so tests can share one server. */
export function uniqueUserId (): string {
  const n = randomBytes(8).readBigUInt64BE() & ((1n << 62n) - 1n)
  return (n + 1_000_000n).toString()
}

export async function register (server: { httpUrl: string }, userId: string, password = DEFAULT_PASSWORD, username = `user-${userId}`): Promise<void> {
  const res = await api(server, 'POST', '/users/register', { userId, username, password })
  if (res.status !== 200) throw new Error(`register ${userId}: ${res.status} ${JSON.stringify(res.body)}`)
}

export async function login (server: { httpUrl: string }, userId: string, password = DEFAULT_PASSWORD): Promise<string> {
  const res = await api(server, 'POST', '/users/login', { userId, password })
  if (res.status !== 200) throw new Error(`login ${userId}: ${res.status} ${JSON.stringify(res.body)}`)
  return res.body.data.token as string
}

/** Registers the user (unless it exists: 409 is fine) and logs in. */
export async function registerAndLogin (server: { httpUrl: string }, userId: string = uniqueUserId(), password = DEFAULT_PASSWORD): Promise<{ userId: string, token: string }> {
  const res = await api(server, 'POST', '/users/register', { userId, username: `user-${userId}`, password })
  if (res.status !== 200 && res.status !== 409) throw new Error(`register ${userId}: ${res.status} ${JSON.stringify(res.body)}`)
  return { userId, token: await login(server, userId, password) }
}

/**
 * Polls `predicate` until it returns a truthy value. ONLY for conditions no event announces (e.g. a
 * token expiring with the wall clock, or another process's state on disk): each caller says why.
 */
export async function waitFor<T> (predicate: () => T | Promise<T>, timeoutMs: number, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let lastError: unknown
  for (;;) {
    try {
      const value = await predicate()
      if (value) return value
    } catch (err) {
      lastError = err
    }
    if (Date.now() >= deadline) {
      throw new Error(`waitFor: condition not met within ${timeoutMs} ms${lastError !== undefined ? `: ${String(lastError)}` : ''}`)
    }
    await new Promise(resolve => setTimeout(resolve, intervalMs))
  }
}

/** Reads the server's generated secrets (IMPLUS_DATA_DIR/secrets.json). */
export function readSecrets (dataDir: string): { jwtSecret: string, embeddedPgPassword: string } {
  return JSON.parse(readFileSync(join(dataDir, 'secrets.json'), 'utf8'))
}

/** The pid of the embedded PostgreSQL running on a data folder, if any. */
export function runningPostmaster (dataDir: string): number | null {
  return postmasterPid(dataDir)
}

/** A TCP port free on loopback right now (for settings that need a fixed port, e.g. IMPLUS_EMBEDDED_PG_PORT). */
export { freePort } from '../../src/net.js'

/**
 * Settings for four fixed listening ports (HTTP, WebSocket, TCP, UDP), free right now: a server restarted
 * with them comes back at the addresses its clients know, as a real deployment does (port 0 would move it).
 * The ports are taken together, so no two are the same.
 */
export async function fixedPorts (): Promise<Record<string, string>> {
  const holders = await Promise.all([0, 1, 2, 3].map(() => new Promise<Server>((resolve, reject) => {
    const holder = createServer()
    holder.on('error', reject)
    holder.listen(0, '127.0.0.1', () => resolve(holder))
  })))
  const [http, ws, tcp, udp] = holders.map(h => (h.address() as AddressInfo).port)
  await Promise.all(holders.map(h => new Promise(resolve => h.close(resolve))))
  return { IMPLUS_HTTP_PORT: String(http), IMPLUS_WS_PORT: String(ws), IMPLUS_TCP_PORT: String(tcp), IMPLUS_UDP_PORT: String(udp) }
}

/** The promise, or a rejection naming `what` after `ms` (a safety net around an awaited event). */
export async function within<T> (p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([p, new Promise<never>((_resolve, reject) => { timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms) })])
  } finally {
    clearTimeout(timer)
  }
}
