import { execFile } from 'node:child_process'
import { access, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { freePort } from '../net.js'
import { ConfigError } from '../config.js'
import type { Logger } from '../log.js'
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

/**
 * Runs a real PostgreSQL from the data folder so `node dist/main.js` needs no
 * set-up. A previous process killed with -9 leaves its postmaster running on
 * our data folder; it is shut down first, or the new one could not start.
 */
export async function startEmbeddedPostgres (dataDir: string, password: string, port: number | null, log: Logger): Promise<EmbeddedDatabase> {
  // Absolute: the postmaster's command line names it, and that is how a later start recognises it.
  const databaseDir = resolve(dataDir, 'pg')
  const owner = process.getuid?.() === 0 ? await postgresUser(log) : null
  if (owner !== null) await checkReachableBy(owner, dataDir)
  await stopPostmaster(databaseDir, log, 'stopping the embedded PostgreSQL left running by a previous process', 'warn')
  if (!await exists(join(databaseDir, 'PG_VERSION'))) {
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
  // missing, and concurrent useradd runs left users that initdb could not look up.
  const create = `id -u ${USER} >/dev/null 2>&1 || { groupadd --force ${USER} && useradd --gid ${USER} --no-create-home ${USER}; }`
  try {
    await run('flock', [join(tmpdir(), 'implus-create-postgres-user.lock'), 'sh', '-c', create])
  } catch (err) {
    throw new Error(`implus runs as root, so its embedded PostgreSQL runs as the system user ${USER}, which could not be created: ${(err as Error).message}`)
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

async function exists (path: string): Promise<boolean> {
  try {
    await access(path)
    return true
  } catch {
    return false
  }
}
