import type { Sql } from '../db/connect.js'

import { UserStatus } from '../db/schema.js'

// Re-exported for the HTTP routes that read it with the store's rows.
export { UserStatus }
/** What GET /users/info says of a deleted account's status (its stored status is kept as it was). */
export const DELETED_STATUS = 3

const UNIQUE_VIOLATION = '23505'

export interface UserRow {
  readonly userId: string
  readonly username: string
  readonly passwordHash: string
  readonly status: number
  readonly mutedUntil: Date | null
  readonly tokenVersion: number
  readonly createTime: Date
  readonly lastLoginTime: Date | null
  readonly displayName: string | null
  readonly avatarUrl: string | null
  readonly deletedTime: Date | null
}

/** What anyone may see of a user (docs/protocol.md "Profiles and accounts"). */
export interface UserProfile {
  readonly userId: string
  readonly username: string
  /** The display name, or the username when none was set; "Deleted user" for a deleted account. */
  readonly displayName: string
  readonly avatarUrl: string | null
  readonly deleted: boolean
}

export const DELETED_NAME = 'Deleted user'

export function profileOf (row: { userId: string, username: string, displayName: string | null, avatarUrl: string | null, deletedTime: Date | null }): UserProfile {
  const deleted = row.deletedTime !== null
  return {
    userId: row.userId,
    username: row.username,
    displayName: deleted ? DELETED_NAME : row.displayName ?? row.username,
    avatarUrl: deleted ? null : row.avatarUrl,
    deleted
  }
}

const PROFILE_COLUMNS = 'user_id as "userId", username, display_name as "displayName", avatar_url as "avatarUrl", deleted_time as "deletedTime"'

export interface UserAccess {
  readonly status: number
  readonly tokenVersion: number
}

/** SQL for users and their relations; callers validate ids first. */
export class UserStore {
  constructor (private readonly sql: Sql) {}

  /** Returns what is taken instead, when the user id or the username (case-insensitively) is. */
  async create (userId: string, username: string, passwordHash: string, displayName: string | null, avatarUrl: string | null): Promise<'created' | 'userId' | 'username'> {
    try {
      const rows = await this.sql`
        insert into users (user_id, username, password_hash, display_name, avatar_url)
        values (${userId}, ${username}, ${passwordHash}, ${displayName}, ${avatarUrl})
        on conflict (user_id) do nothing returning user_id`
      return rows.length === 1 ? 'created' : 'userId'
    } catch (err) {
      if ((err as { code?: string }).code === UNIQUE_VIOLATION) return 'username'
      throw err
    }
  }

  /** The user id registered under this username (case-insensitive), or null. */
  async idOfUsername (username: string): Promise<string | null> {
    const rows = await this.sql<{ userId: string }[]>`select user_id as "userId" from users where lower(username) = lower(${username})`
    return rows[0]?.userId ?? null
  }

  /** Profiles of these users, in the order asked; unknown ids are left out. */
  async profiles (userIds: readonly string[]): Promise<UserProfile[]> {
    if (userIds.length === 0) return []
    const rows = await this.sql<Parameters<typeof profileOf>[0][]>`
      select ${this.sql.unsafe(PROFILE_COLUMNS)} from users where user_id = any(${this.sql.array(userIds as string[])}::text[]::bigint[])`
    const byId = new Map(rows.map(r => [r.userId, profileOf(r)]))
    return userIds.flatMap(u => byId.get(u) ?? [])
  }

  /** Sets what is given (undefined leaves a field, null clears it); null for an unknown or deleted user. */
  async updateProfile (userId: string, displayName: string | null | undefined, avatarUrl: string | null | undefined): Promise<UserProfile | null> {
    const rows = await this.sql<Parameters<typeof profileOf>[0][]>`
      update users set
        display_name = ${displayName === undefined ? this.sql`display_name` : displayName},
        avatar_url = ${avatarUrl === undefined ? this.sql`avatar_url` : avatarUrl},
        update_time = now()
      where user_id = ${userId} and deleted_time is null returning ${this.sql.unsafe(PROFILE_COLUMNS)}`
    return rows[0] === undefined ? null : profileOf(rows[0])
  }

  /** A new password hash, revoking every token issued so far; returns the new token version. */
  async setPassword (userId: string, passwordHash: string): Promise<number | null> {
    const rows = await this.sql<{ tokenVersion: number }[]>`
      update users set password_hash = ${passwordHash}, token_version = token_version + 1, update_time = now()
      where user_id = ${userId} and deleted_time is null returning token_version as "tokenVersion"`
    return rows[0]?.tokenVersion ?? null
  }

  /**
   * The seed's soft delete: the row stays (messages keep their sender, the username stays taken), every
   * token is revoked, its pending friend requests are cancelled. Returns false if already deleted.
   */
  async softDelete (userId: string): Promise<boolean> {
    return await this.sql.begin(async tx => {
      const rows = await tx`
        update users set deleted_time = now(), token_version = token_version + 1, update_time = now()
        where user_id = ${userId} and deleted_time is null returning user_id`
      if (rows.length === 0) return false
      await tx`update friend_requests set status = 3, update_time = now() where status = 0 and (from_id = ${userId} or to_id = ${userId})`
      return true
    })
  }

  async find (userId: string): Promise<UserRow | null> {
    const rows = await this.sql<UserRow[]>`
      select user_id as "userId", username, password_hash as "passwordHash", status, muted_until as "mutedUntil",
             token_version as "tokenVersion", create_time as "createTime", last_login_time as "lastLoginTime",
             display_name as "displayName", avatar_url as "avatarUrl", deleted_time as "deletedTime"
      from users where user_id = ${userId}`
    return rows[0] ?? null
  }

  async access (userId: string): Promise<UserAccess | null> {
    const rows = await this.sql<UserAccess[]>`
      select status, token_version as "tokenVersion" from users where user_id = ${userId}`
    return rows[0] ?? null
  }

  /** Which of these users exist and are not deleted. */
  async exists (userIds: readonly string[]): Promise<Set<string>> {
    if (userIds.length === 0) return new Set()
    const rows = await this.sql<{ userId: string }[]>`
      select user_id as "userId" from users
      where user_id = any(${this.sql.array(userIds as string[])}::text[]::bigint[]) and deleted_time is null`
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
