import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { readdir, stat } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { freePort } from '../net.js'
import { ConfigError, dataFolderError } from '../config.js'
import type { Logger } from '../log.js'
import { claimDataFolder } from './folder-owner.js'
import { initialiseCluster, startPostmaster, stopPostmaster, type Owner } from './postmaster.js'

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

const run = promisify(execFile)
/** flock's exit code when the lock stayed taken for its whole wait. */
const LOCK_TIMEOUT_EXIT = 75

/**
 * Runs a real PostgreSQL from the data folder so `node dist/main.js` needs no
 * set-up. A previous process killed with -9 leaves its postmaster running on
 * our data folder; it is shut down first, or the new one could not start. A
 * server still running on the folder is refused instead (see folder-owner.ts).
 */
export async function startEmbeddedPostgres (dataDir: string, password: string, port: number | null, log: Logger): Promise<EmbeddedDatabase> {
  // Absolute: the postmaster's command line names it, and that is how a later start recognises it.
  const databaseDir = resolve(dataDir, 'pg')
  const owner = process.getuid?.() === 0 ? await postgresUser(log) : null
  if (owner !== null) await checkReachableBy(owner, dataDir)
  // Before anything else touches the folder: a PostgreSQL running on it may be another live server's.
  const releaseFolder = await claimDataFolder(dataDir)
  await stopPostmaster(databaseDir, log, 'stopping the embedded PostgreSQL left running by a previous process', 'warn')
  const found = await entries(databaseDir)
  if (!found.includes('PG_VERSION')) {
    // A set-up is renamed into place whole, so anything in `pg` without PG_VERSION is a damaged cluster or
    // not ours: never deleted.
    if (found.length > 0) {
      throw new ConfigError(`${databaseDir} is not empty but holds no PostgreSQL cluster (no PG_VERSION file): a damaged cluster, or ` +
        'files that are not implus\'s. Restore it from a backup, or move it aside to start with an empty database')
    }
    log.info({ databaseDir }, 'initialising embedded PostgreSQL')
    await initialiseCluster(databaseDir, USER, password, owner, log)
  }
  const chosenPort = port ?? await freePort()
  const postmaster = await startPostmaster(databaseDir, chosenPort, POSTGRES_FLAGS, owner, log)
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
      await releaseFolder()
    }
  }
}

/**
 * Run as root, PostgreSQL runs as the system user `postgres` (it refuses root): its ids, creating it (with
 * a group of its own) on first use. Its supplementary groups are left out on purpose: Node drops them when
 * it starts a process as another user.
 */
async function postgresUser (log: Logger): Promise<Owner> {
  const existing = await userIds(USER)
  if (existing !== null) return existing
  log.info({ user: USER }, 'creating the system user the embedded PostgreSQL runs as')
  // Under a lock, and only if still missing: servers starting together on a fresh machine each found it
  // missing, and concurrent useradd runs left users that initdb could not look up. The lock is in a
  // folder only root may write (one in /tmp another user could hold, or replace with a symlink).
  const lock = join(existsSync('/run') ? '/run' : '/etc', 'implus-create-postgres-user.lock')
  const create = `id -u ${USER} >/dev/null 2>&1 || { groupadd --force --system ${USER} && ` +
    `useradd --system --gid ${USER} --no-create-home --shell /usr/sbin/nologin ${USER}; }`
  try {
    // groupadd and useradd live in sbin, which a PATH outside a root login shell often lacks.
    const path = [process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin', '/usr/local/sbin', '/usr/sbin', '/sbin'].join(':')
    await run('flock', ['--wait', '30', '--conflict-exit-code', String(LOCK_TIMEOUT_EXIT), lock, 'sh', '-c', create], { env: { ...process.env, PATH: path } })
  } catch (err) {
    const failure = (err as { code?: unknown }).code === LOCK_TIMEOUT_EXIT ? `${lock} stayed locked for 30 s` : (err as Error).message.trim()
    throw new ConfigError(`implus runs as root, so its embedded PostgreSQL runs as the system user ${USER}, which could not be created ` +
      `(${failure}): create it yourself (useradd --system ${USER}), then start again`)
  }
  const created = await userIds(USER)
  if (created === null) throw new Error(`the system user ${USER} was created but cannot be found`)
  return created
}

async function userIds (name: string): Promise<Owner | null> {
  try {
    const [uid, gid] = await Promise.all([run('id', ['-u', name]), run('id', ['-g', name])])
    return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) }
  } catch {
    return null
  }
}

/**
 * PostgreSQL's user must be able to enter every folder above its data. A folder it cannot enter (`mktemp -d`
 * makes them 0700) would otherwise fail deep inside initdb with a message that does not say what to do.
 */
async function checkReachableBy (owner: Owner, dataDir: string): Promise<void> {
  for (let folder = dataDir; ; folder = dirname(folder)) {
    const info = await stat(folder)
    const bit = info.uid === owner.uid ? 0o100 : info.gid === owner.gid ? 0o010 : 0o001
    if ((info.mode & bit) === 0) {
      throw new ConfigError(`IMPLUS_DATA_DIR ${dataDir}: implus runs as root, so its embedded PostgreSQL runs as user ${USER}, ` +
        `which cannot enter ${folder} (mode ${(info.mode & 0o777).toString(8)}): allow it with \`chmod o+x ${folder}\` or choose another IMPLUS_DATA_DIR`)
    }
    if (folder === dirname(folder)) return
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

/**
 * The names in folder `path`; none when it does not exist. Only "no such file" means none: a folder this
 * process cannot read is a setting to fix, not an absence.
 */
async function entries (path: string): Promise<string[]> {
  try {
    return await readdir(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw dataFolderError(path, err)
  }
}
