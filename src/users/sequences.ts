import type { Sql } from '../db/connect.js'

/** Each user's latest committed userSeq (0 before any message): the target a client syncs up to. */
export async function latestUserSeqs (sql: Sql, userIds: string[]): Promise<Map<string, number>> {
  const rows = await sql<{ userId: string, seq: string }[]>`
    select l.user_id as "userId", max(l.seq) as seq from user_msg_list l
    where l.user_id = any(${sql.array(userIds)}::text[]::bigint[]) group by l.user_id`
  return new Map(rows.map(r => [r.userId, Number(r.seq)]))
}

export async function latestUserSeq (sql: Sql, userId: string): Promise<number> {
  return (await latestUserSeqs(sql, [userId])).get(userId) ?? 0
}
