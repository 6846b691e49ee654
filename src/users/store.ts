import type { Sql } from '../db/connect.js'

import { UserStatus } from '../db/schema.js'

// Re-exported for the HTTP routes that read it with the store's rows.
export { UserStatus }

export interface UserRow {
  readonly userId: string
  readonly username: string
  readonly passwordHash: string
  readonly status: number
  readonly mutedUntil: Date | null
  readonly tokenVersion: number
  readonly createTime: Date
  readonly lastLoginTime: Date | null
}

export interface UserAccess {
  readonly status: number
  readonly tokenVersion: number
}

/** SQL for users and their relations; callers validate ids first. */
export class UserStore {
  constructor (private readonly sql: Sql) {}

  /** Returns false when the id is taken. */
  async create (userId: string, username: string, passwordHash: string): Promise<boolean> {
    const rows = await this.sql`
      insert into users (user_id, username, password_hash) values (${userId}, ${username}, ${passwordHash})
      on conflict (user_id) do nothing returning user_id`
    return rows.length === 1
  }

  async find (userId: string): Promise<UserRow | null> {
    const rows = await this.sql<UserRow[]>`
      select user_id as "userId", username, password_hash as "passwordHash", status, muted_until as "mutedUntil",
             token_version as "tokenVersion", create_time as "createTime", last_login_time as "lastLoginTime"
      from users where user_id = ${userId}`
    return rows[0] ?? null
  }

  async access (userId: string): Promise<UserAccess | null> {
    const rows = await this.sql<UserAccess[]>`
      select status, token_version as "tokenVersion" from users where user_id = ${userId}`
    return rows[0] ?? null
  }

  async exists (userIds: readonly string[]): Promise<Set<string>> {
    if (userIds.length === 0) return new Set()
    const rows = await this.sql<{ userId: string }[]>`
      select user_id as "userId" from users where user_id = any(${this.sql.array(userIds as string[])}::text[]::bigint[])`
    return new Set(rows.map(r => r.userId))
  }

  async recordLogin (userId: string): Promise<void> {
    await this.sql`update users set last_login_time = now() where user_id = ${userId}`
  }

  /** Revokes every token issued so far; returns the new version, or null for an unknown user. */
  async bumpTokenVersion (userId: string): Promise<number | null> {
    const rows = await this.sql<{ tokenVersion: number }[]>`
      update users set token_version = token_version + 1, update_time = now()
      where user_id = ${userId} returning token_version as "tokenVersion"`
    return rows[0]?.tokenVersion ?? null
  }

  /**
   * Sets status, and the mute unless `mutedUntil` is undefined (null lifts it); a ban also revokes tokens.
   * Returns the new access row with the mute now in force, or null for an unknown user.
   */
  async setStatus (userId: string, status: number, mutedUntil: Date | null | undefined): Promise<(UserAccess & { mutedUntil: Date | null }) | null> {
    const rows = await this.sql<(UserAccess & { mutedUntil: Date | null })[]>`
      update users set status = ${status},
        muted_until = ${mutedUntil === undefined ? this.sql`muted_until` : mutedUntil},
        token_version = token_version + ${status === UserStatus.BANNED ? 1 : 0}, update_time = now()
      where user_id = ${userId} returning status, token_version as "tokenVersion", muted_until as "mutedUntil"`
    return rows[0] ?? null
  }

  async addFriendship (userId: string, friendId: string): Promise<void> {
    await this.sql`
      insert into friendships (user_id, friend_id)
      values (${userId}, ${friendId}), (${friendId}, ${userId})
      on conflict do nothing`
  }

  async removeFriendship (userId: string, friendId: string): Promise<boolean> {
    const rows = await this.sql`
      delete from friendships
      where (user_id = ${userId} and friend_id = ${friendId}) or (user_id = ${friendId} and friend_id = ${userId})
      returning user_id`
    return rows.length > 0
  }

  async friends (userId: string): Promise<{ userId: string, username: string }[]> {
    return await this.sql<{ userId: string, username: string }[]>`
      select u.user_id as "userId", u.username from friendships f join users u on u.user_id = f.friend_id
      where f.user_id = ${userId} order by f.create_time, u.user_id`
  }

  async areFriends (userId: string, otherId: string): Promise<boolean> {
    const rows = await this.sql`select 1 from friendships where user_id = ${userId} and friend_id = ${otherId}`
    return rows.length === 1
  }

  async block (userId: string, blockedId: string): Promise<void> {
    await this.sql`insert into blacklist (user_id, blocked_id) values (${userId}, ${blockedId}) on conflict do nothing`
  }

  /** The users the caller blocks, in the order blocked. */
  async blocked (userId: string): Promise<{ userId: string, username: string }[]> {
    return await this.sql<{ userId: string, username: string }[]>`
      select u.user_id as "userId", u.username from blacklist b join users u on u.user_id = b.blocked_id
      where b.user_id = ${userId} order by b.create_time, u.user_id`
  }

  async unblock (userId: string, blockedId: string): Promise<boolean> {
    const rows = await this.sql`delete from blacklist where user_id = ${userId} and blocked_id = ${blockedId} returning user_id`
    return rows.length === 1
  }
}
