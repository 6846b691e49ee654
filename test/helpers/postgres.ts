// A real PostgreSQL for tests that use the database without a server: the server's embedded PostgreSQL in a temp folder,
// the real schema from sql/, stopped (and its folder removed) on close or, failing that, when the test
// process exits.
import { randomBytes } from 'node:crypto'
import { chmodSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { pino } from 'pino'
import { onExit } from 'signal-exit'
import { startEmbeddedPostgres } from '../../src/db/embedded.js'
import { connect, warmUp, type Sql } from '../../src/db/connect.js'
import { migrate } from '../../src/db/migrate.js'
import { freePort } from '../../src/net.js'
import { runningPostmaster } from './server.js'

const SQL_DIR = join(fileURLToPath(new URL('../../', import.meta.url)), 'sql')

export interface TestDatabase {
  readonly sql: Sql
  /** For a second pool (another host, as far as PostgreSQL can tell). */
  readonly url: string
  /** PostgreSQL's data folder (its postmaster.pid names the server process). */
  readonly databaseDir: string
  close (): Promise<void>
}

export async function startTestDatabase (label: string): Promise<TestDatabase> {
  const silent = pino({ level: 'silent' })
  const dataDir = mkdtempSync(join(tmpdir(), `implus-${label}-`))
  chmodSync(dataDir, 0o755) // the embedded PostgreSQL runs as the `postgres` user and must traverse it
  // Safety net if the test process dies before close(): immediate shutdown of PostgreSQL.
  const removeExitHook = onExit(() => {
    try {
      const pid = runningPostmaster(dataDir)
      if (pid !== null) process.kill(pid, 'SIGQUIT')
    } catch {}
    try { rmSync(dataDir, { recursive: true, force: true }) } catch {}
  })
  const database = await startEmbeddedPostgres(dataDir, randomBytes(12).toString('hex'), await freePort(), silent)
  const sql = connect(database.url, { max: 4, applicationName: `${label}-test` })
  await warmUp(sql)
  await migrate(sql, SQL_DIR, silent)
  return {
    sql,
    url: database.url,
    databaseDir: join(dataDir, 'pg'),
    async close () {
      await sql.end({ timeout: 5 })
      await database.stop()
      removeExitHook()
      rmSync(dataDir, { recursive: true, force: true })
    }
  }
}
