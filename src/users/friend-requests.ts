import type { Sql } from '../db/connect.js'
import { AppError, Status, conflict, forbidden, notFound } from '../errors.js'

export const RequestStatus = Object.freeze({ PENDING: 0, ACCEPTED: 1, DECLINED: 2, CANCELLED: 3 })

/** Pending requests a user may have sent and not yet had answered (docs/protocol.md "Friends"). */
export const MAX_OUTGOING_PENDING = 100
/** Pending requests a user may have waiting for an answer; beyond it, new ones to that user are refused. */
export const MAX_INCOMING_PENDING = 1000

export interface FriendRequest {
  readonly requestId: string
  readonly fromId: string
  readonly toId: string
  readonly message: string
  readonly status: number
  readonly createTime: Date
  readonly updateTime: Date
}

/** What sending a request did: created (or found pending), or accepted the other side's pending request. */
export interface SendOutcome {
  readonly request: FriendRequest
  /** A new request was stored (the target must be told); false when the same one was already pending. */
  readonly created: boolean
}

const COLUMNS = `request_id as "requestId", from_id as "fromId", to_id as "toId", message, status,
  create_time as "createTime", update_time as "updateTime"`

/** SQL for friend requests; callers validate ids and check that users exist first. */
export class FriendRequests {
  constructor (private readonly sql: Sql) {}

  async find (requestId: string): Promise<FriendRequest | null> {
    const rows = await this.sql<FriendRequest[]>`select ${this.sql.unsafe(COLUMNS)} from friend_requests where request_id = ${requestId}`
    return rows[0] ?? null
  }

  /** The pending requests to and from the user, oldest first. */
  async pending (userId: string): Promise<{ incoming: FriendRequest[], outgoing: FriendRequest[] }> {
    const rows = await this.sql<FriendRequest[]>`
      select ${this.sql.unsafe(COLUMNS)} from friend_requests
      where status = 0 and (to_id = ${userId} or from_id = ${userId}) order by request_id`
    return { incoming: rows.filter(r => r.toId === userId), outgoing: rows.filter(r => r.fromId === userId) }
  }

  /**
   * A new pending request, or the one already pending between the same two users in the same direction.
   * Refused when they are friends (409), when the target blocks the sender (403) or over the limits (429).
   */
  async send (fromId: string, toId: string, message: string): Promise<SendOutcome> {
    return await this.sql.begin(async tx => {
      // Serialises the sender's requests, so the limit holds under concurrent sends.
      await tx`select 1 from users where user_id = ${fromId} for update`
      const [state] = await tx<{ friends: boolean, blocked: boolean, outgoing: number, incoming: number }[]>`
        select exists (select 1 from friendships where user_id = ${fromId} and friend_id = ${toId}) as friends,
               exists (select 1 from blacklist where user_id = ${toId} and blocked_id = ${fromId}) as blocked,
               (select count(*)::int from friend_requests where from_id = ${fromId} and status = 0) as outgoing,
               (select count(*)::int from friend_requests where to_id = ${toId} and status = 0) as incoming`
      if (state!.friends) throw conflict('already friends')
      if (state!.blocked) throw forbidden('this user does not accept your requests')
      const existing = await tx<FriendRequest[]>`
        select ${tx.unsafe(COLUMNS)} from friend_requests where from_id = ${fromId} and to_id = ${toId} and status = 0`
      if (existing.length === 1) return { request: existing[0]!, created: false }
      if (state!.outgoing >= MAX_OUTGOING_PENDING) throw new AppError(Status.RATE_LIMITED, `at most ${MAX_OUTGOING_PENDING} friend requests may wait for an answer: cancel some or wait`)
      if (state!.incoming >= MAX_INCOMING_PENDING) throw new AppError(Status.RATE_LIMITED, 'this user has too many unanswered friend requests')
      const [created] = await tx<FriendRequest[]>`
        insert into friend_requests (from_id, to_id, message) values (${fromId}, ${toId}, ${message})
        returning ${tx.unsafe(COLUMNS)}`
      return { request: created!, created: true }
    })
  }

  /** The pending request from `fromId` to `toId`, if any. */
  async pendingBetween (fromId: string, toId: string): Promise<FriendRequest | null> {
    const rows = await this.sql<FriendRequest[]>`
      select ${this.sql.unsafe(COLUMNS)} from friend_requests where from_id = ${fromId} and to_id = ${toId} and status = 0`
    return rows[0] ?? null
  }

  /**
   * Answers a request: `actor` must be its target (accept, decline) or its sender (cancel). Repeating
   * the same answer is fine (returns it, `changed` false); another answer to a settled request is 409.
   * Accepting makes both users friends, in the same transaction.
   */
  async answer (requestId: string, actor: string, answer: number): Promise<{ request: FriendRequest, changed: boolean }> {
    return await this.sql.begin(async tx => {
      const [request] = await tx<FriendRequest[]>`
        select ${tx.unsafe(COLUMNS)} from friend_requests where request_id = ${requestId} for update`
      if (request === undefined) throw notFound(`friend request ${requestId} does not exist`)
      const party = answer === RequestStatus.CANCELLED ? request.fromId : request.toId
      if (actor !== party) {
        throw forbidden(answer === RequestStatus.CANCELLED ? 'only its sender may cancel a friend request' : 'only its target may answer a friend request')
      }
      if (request.status === answer) return { request, changed: false }
      if (request.status !== RequestStatus.PENDING) throw conflict(`the friend request is already ${STATUS_NAMES[request.status] ?? 'settled'}`)
      const [updated] = await tx<FriendRequest[]>`
        update friend_requests set status = ${answer}, update_time = now() where request_id = ${requestId}
        returning ${tx.unsafe(COLUMNS)}`
      if (answer === RequestStatus.ACCEPTED) {
        await tx`
          insert into friendships (user_id, friend_id) values (${request.fromId}, ${request.toId}), (${request.toId}, ${request.fromId})
          on conflict do nothing`
        // A request the other way is settled by this one.
        await tx`
          update friend_requests set status = ${RequestStatus.ACCEPTED}, update_time = now()
          where from_id = ${request.toId} and to_id = ${request.fromId} and status = 0`
      }
      return { request: updated!, changed: true }
    })
  }
}

export const STATUS_NAMES: Record<number, string> = { 0: 'pending', 1: 'accepted', 2: 'declined', 3: 'cancelled' }
