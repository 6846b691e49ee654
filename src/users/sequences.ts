import type { Sql } from '../db/connect.js'

/** The user's latest committed userSeq (0 before any message): the target a client syncs up to. */
export async function latestUserSeq (sql: Sql, userId: string): Promise<number> {
  const rows = await sql<{ seq: string | null }[]>`select max(seq) as seq from user_msg_list where user_id = ${userId}`
  return Number(rows[0]?.seq ?? 0)
}
