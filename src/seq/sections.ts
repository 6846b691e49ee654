import type { Sql } from '../db/connect.js'

/**
 * Durable segment bounds in `sequence_section`: `reserve` raises each key's
 * committed max_seq by the amount asked and returns the new bounds. Numbers
 * in (newMax - amount, newMax] then belong to the caller. One statement for
 * any number of keys; it commits before returning (autocommit).
 */
export async function reserveSections (sql: Sql, keys: string[], amounts: number[]): Promise<Map<string, number>> {
  const rows = await sql<{ key: string, max: string }[]>`
    insert into sequence_section (section_key, max_seq, step)
    select k, a, a from unnest(${sql.array(keys)}::text[], ${sql.array(amounts)}::text[]::bigint[]) as t(k, a)
    on conflict (section_key) do update
      set max_seq = sequence_section.max_seq + excluded.max_seq, version = sequence_section.version + 1, update_time = now()
    returning section_key as key, max_seq as max`
  return new Map(rows.map(r => [r.key, Number(r.max)]))
}
