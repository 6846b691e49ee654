import type { Sql } from '../db/connect.js'

/** Each user's latest committed userSeq (0 before any message): the target a client syncs up to. */
export async function latestUserSeqs (sql: Sql, userIds: string[]): Promise<Map<string, number>> {
  // One max() per user, not GROUP BY: each subquery is a single backward step on the primary key,
  // where a GROUP BY would read every list row of every user.
  const rows = await sql<{ userId: string, seq: string | null }[]>`
    select u::text as "userId", (select max(l.seq) from user_msg_list l where l.user_id = u) as seq
    from unnest(${sql.array(userIds)}::text[]::bigint[]) as u`
  return new Map(rows.filter(r => r.seq !== null).map(r => [r.userId, Number(r.seq)]))
}

export async function latestUserSeq (sql: Sql, userId: string): Promise<number> {
  return (await latestUserSeqs(sql, [userId])).get(userId) ?? 0
}
