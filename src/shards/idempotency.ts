import { encodeFrame, MessageType, type Frame } from '@implus/client/wire'
import type { Sql } from '../db/connect.js'
import { IDEMPOTENCY_ENTRIES } from '../memory-budget.js'

/**
 * Recent sends by `(sender, clientSeq)` (docs/protocol.md: 5 minutes). A repeat
 * gets the first receipt again and stores nothing. Entries live in insertion
 * order, so expiry trims from the front; the size bound protects memory when
 * a flood outruns the window.
 */
export const IDEMPOTENCY_WINDOW_MS = 5 * 60 * 1000

/** What a 2007 says about a stored send (also shared between hosts in cluster mode). */
export interface Receipt {
  readonly msgId: string
  readonly conversationId: string
  readonly conversationSeq: number
  /** The sender's userSeq (private messages), 0 for groups. */
  readonly userSeq: number
  readonly time: number
}

/**
 * Receipts seen by every host: a client that resends after reconnecting to another host must still get
 * its first receipt. One `find` per cycle, one `remember` per commit; both may fail (the shard then relies
 * on the database's unique key, which still turns a repeat into its first receipt).
 */
export interface SharedReceipts {
  /** The receipt stored for each (sender, clientSeq), in order; null where none is known. */
  find (keys: readonly (readonly [string, string])[]): Promise<(Receipt | null)[]>
  remember (entries: readonly (readonly [string, string, Receipt])[]): Promise<void>
}

/** Single host: nothing to share. This host's window and database see every copy already. */
export const localReceipts: SharedReceipts = {
  find: async keys => keys.map(() => null),
  remember: async () => {}
}

/** The 2007 for a stored send: the same bytes for its first answer and every repeat's. */
export function receiptFrame (clientSeq: string, r: Receipt): Uint8Array {
  const receipt: Frame = { type: MessageType.MESSAGE_SEND_RECEIPT, clientSeq, uid: r.msgId, conversationId: r.conversationId, conversationSeq: r.conversationSeq, timestamp: r.time }
  if (r.userSeq !== 0) receipt.userSeq = r.userSeq
  return encodeFrame(receipt)
}

/**
 * Sends already stored (before a restart, or through another host), by IdempotencyCache.key: their receipts
 * from the database; null when there is nothing to look up.
 */
export async function storedReceipts (sql: Sql, sends: readonly { readonly senderId: string, readonly frame: { readonly clientSeq: string } }[]): Promise<Map<string, Receipt> | null> {
  if (sends.length === 0) return null
  const rows = await sql<{ msgId: string, conv: string, seq: string, sender: string, clientSeq: string, ms: number, userSeq: string | null }[]>`
    select m.msg_id as "msgId", m.conversation_id as conv, m.conversation_seq as seq, m.sender_id as sender,
           m.client_seq as "clientSeq", extract(epoch from m.send_time) * 1000 as ms,
           (select l.seq from user_msg_list l where l.user_id = m.sender_id and l.msg_id = m.msg_id) as "userSeq"
    from message m join unnest(${sql.array(sends.map(s => s.senderId))}::text[]::bigint[], ${sql.array(sends.map(s => s.frame.clientSeq))}::text[]) as k(sender, cseq)
      on m.sender_id = k.sender and m.client_seq = k.cseq`
  return new Map(rows.map(r => [IdempotencyCache.key(r.sender, r.clientSeq), {
    msgId: r.msgId, conversationId: r.conv, conversationSeq: Number(r.seq), userSeq: Number(r.userSeq ?? 0), time: Math.round(Number(r.ms))
  }]))
}

export interface Remembered<R> {
  readonly at: number
  /** The receipt once committed; null while the first copy is still in flight. */
  receipt: R | null
  /** Connections that sent a repeat while the first copy was in flight: they get the receipt too. */
  waiting: number[] | null
}

export class IdempotencyCache<R> {
  private readonly entries = new Map<string, Remembered<R>>()

  constructor (private readonly windowMs = IDEMPOTENCY_WINDOW_MS) {}

  static key (sender: string, clientSeq: string): string {
    return `${sender}\u0000${clientSeq}`
  }

  get (key: string, now: number): Remembered<R> | undefined {
    const entry = this.entries.get(key)
    if (entry === undefined || now - entry.at > this.windowMs) return undefined
    return entry
  }

  begin (key: string, now: number): Remembered<R> {
    const entry: Remembered<R> = { at: now, receipt: null, waiting: null }
    this.entries.delete(key)
    this.entries.set(key, entry)
    return entry
  }

  forget (key: string): void {
    this.entries.delete(key)
  }

  expire (now: number): void {
    for (const [key, entry] of this.entries) {
      if (now - entry.at <= this.windowMs && this.entries.size <= IDEMPOTENCY_ENTRIES) break
      this.entries.delete(key)
    }
  }
}
