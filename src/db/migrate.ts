import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Sql } from './connect.js'
import type { Logger } from '../log.js'

const MIGRATION_FILE = /^(\d{3})_[\w-]+\.sql$/
// Any constant works; it only has to be the same on every host so concurrent starts take turns.
const MIGRATION_LOCK = 0x1a9e5

/**
 * Applies sql/NNN_name.sql files in order, each in its own transaction, and
 * records them in schema_migrations. Hosts starting together serialise on an
 * advisory lock, so each file runs exactly once.
 */
export async function migrate (sql: Sql, directory: string, log: Logger): Promise<string[]> {
  const files = (await readdir(directory)).filter(f => MIGRATION_FILE.test(f)).sort()
  const applied: string[] = []
  await sql.begin(async tx => {
    await tx`select pg_advisory_xact_lock(${MIGRATION_LOCK})`
    await tx`create table if not exists schema_migrations (
      version integer primary key, name text not null, applied_at timestamptz not null default now())`
    const done = new Set((await tx<{ version: number }[]>`select version from schema_migrations`).map(r => r.version))
    for (const file of files) {
      const version = Number(MIGRATION_FILE.exec(file)![1])
      if (done.has(version)) continue
      const text = await readFile(join(directory, file), 'utf8')
      await tx.unsafe(text)
      await tx`insert into schema_migrations (version, name) values (${version}, ${file})`
      applied.push(file)
    }
  })
  if (applied.length > 0) log.info({ applied }, 'database migrations applied')
  return applied
}
