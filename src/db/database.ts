import { fileURLToPath } from 'node:url'
import { connect, type Sql } from './connect.js'
import { migrate } from './migrate.js'
import { startEmbeddedPostgres } from './embedded.js'
import type { Config } from '../config.js'
import type { Logger } from '../log.js'

export interface Database {
  /** The URL shard workers connect to. */
  readonly url: string
  readonly embedded: boolean
  readonly sql: Sql
  close (): Promise<void>
}

const SQL_DIR = fileURLToPath(new URL('../../sql/', import.meta.url))

/** Connects to DATABASE_URL, or starts the embedded PostgreSQL in the data folder, then applies migrations. */
export async function openDatabase (config: Config, embeddedPassword: string, log: Logger): Promise<Database> {
  const embedded = config.databaseUrl === null
    ? await startEmbeddedPostgres(config.dataDir, embeddedPassword, config.embeddedPgPort, log)
    : null
  const url = embedded?.url ?? config.databaseUrl!
  const sql = connect(url, { max: 8, applicationName: 'implus-main', orderedReads: true })
  try {
    await migrate(sql, SQL_DIR, log)
  } catch (err) {
    await sql.end({ timeout: 1 })
    await embedded?.stop()
    throw err
  }
  return {
    url,
    embedded: embedded !== null,
    sql,
    async close () {
      await sql.end({ timeout: 5 })
      await embedded?.stop()
    }
  }
}
