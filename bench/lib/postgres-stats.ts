import postgres from 'postgres'
import { readSecrets } from '../../test/helpers/server.js'

export interface PostgresSnapshot { walBytes: number, fullPageImages: number, checkpoints: number, autovacuums: number, autoanalyzes: number }

/**
 * What PostgreSQL did, read from its statistics views: WAL written (and how much of it were full-page
 * images after a checkpoint), checkpoints, and autovacuum/autoanalyze runs on our tables. A step's
 * difference says what each message cost PostgreSQL and which of its background jobs ran meanwhile.
 */
export function postgresStats (dataDir: string, port: number): { snapshot: () => Promise<PostgresSnapshot>, end: () => Promise<void> } {
  const sql = postgres({ host: '127.0.0.1', port, user: 'postgres', password: readSecrets(dataDir).embeddedPgPassword, database: 'implus', max: 1, onnotice: () => {} })
  return {
    snapshot: async () => {
      const [wal] = await sql<{ bytes: string, fpi: string }[]>`select wal_bytes::text as bytes, wal_fpi::text as fpi from pg_stat_wal`
      const [checkpoints] = await sql<{ n: string }[]>`select (num_timed + num_requested)::text as n from pg_stat_checkpointer`
      const [tables] = await sql<{ vacuums: string, analyzes: string }[]>`
        select coalesce(sum(autovacuum_count), 0)::text as vacuums, coalesce(sum(autoanalyze_count), 0)::text as analyzes from pg_stat_user_tables`
      return { walBytes: Number(wal!.bytes), fullPageImages: Number(wal!.fpi), checkpoints: Number(checkpoints!.n), autovacuums: Number(tables!.vacuums), autoanalyzes: Number(tables!.analyzes) }
    },
    end: () => sql.end({ timeout: 1 })
  }
}

/** A step's PostgreSQL columns: WAL per message stored, full-page images, and background jobs that ran. */
export function postgresColumns (before: PostgresSnapshot, after: PostgresSnapshot, messages: number): Record<string, string | number> {
  return {
    'WAL B/msg': messages === 0 ? '-' : Math.round((after.walBytes - before.walBytes) / messages),
    'FPI/msg': messages === 0 ? '-' : ((after.fullPageImages - before.fullPageImages) / messages).toFixed(2),
    checkpoints: after.checkpoints - before.checkpoints,
    'autovac/analyze': `${after.autovacuums - before.autovacuums}/${after.autoanalyzes - before.autoanalyzes}`
  }
}
