import type { Sql } from '../db/connect.js'
import { AppError, Status } from '../errors.js'
import { MsgStatus } from './write-batch.js'

/** What deciding a recall needs to know about a message. */
export interface RecallTarget {
  readonly msgId: string
  readonly conversationId: string
  readonly senderId: string
  readonly status: number
  /** Epoch ms. */
  readonly sentAt: number
}

export async function loadRecallTargets (sql: Sql, msgIds: string[]): Promise<Map<string, RecallTarget>> {
  const rows = await sql<RecallTarget[]>`
    select msg_id as "msgId", conversation_id as "conversationId", sender_id as "senderId", status,
           extract(epoch from send_time) * 1000 as "sentAt"
    from message where msg_id = any(${sql.array(msgIds)}::text[]::bigint[])`
  return new Map(rows.map(r => [r.msgId, { ...r, sentAt: Number(r.sentAt) }]))
}

/**
 * The message, when this user may recall it now: only its sender, within the
 * window; otherwise throws the AppError to answer with. Recalling a recalled
 * message again is allowed (and changes nothing), so a retried recall gets
 * the same answer.
 */
export function recallable (target: RecallTarget | undefined, userId: string, now: number, windowMs: number): RecallTarget {
  if (target === undefined) throw new AppError(Status.NOT_FOUND, 'unknown message')
  if (target.senderId !== userId) throw new AppError(Status.FORBIDDEN, 'only the sender may recall a message')
  if (target.status !== MsgStatus.RECALLED && now - target.sentAt > windowMs) {
    throw new AppError(Status.FORBIDDEN, `the recall window of ${Math.round(windowMs / 1000)} s has passed`)
  }
  return target
}
