import type { HttpApi } from './server.js'
import { assertCaller } from './server.js'
import { httpUrlOrNull, optionalStringField, stringField, userIdField, userIdList } from './validate.js'
import { Status, conflict, forbidden, notFound, unauthorized, badRequest } from '../errors.js'
import { DELETED_STATUS, UserStatus, type UserRow, type UserStore } from '../users/store.js'
import type { TokenService } from '../auth/tokens.js'
import type { PasswordHasher } from '../auth/passwords.js'
import type { LoginGuard } from '../auth/login-guard.js'
import type { Frame } from '@implus/client/wire'

/** What the user routes need from the connection layer. */
export interface SessionControl {
  /** Number of live connections of a user on this host (cluster mode: all hosts). */
  devices (userId: string): Promise<number>
  /** 1002 to the user's connections on every host; `status` is its errorCode (docs/protocol.md). */
  kick (userId: string, status: number, reason: string): void
  /** A user's relations or status changed: cached permission checks must reload. */
  userChanged (userId: string): void
  /** A frame to every connection of the user, on every host (friend requests and answers). */
  push (userId: string, frame: Frame): void
}

export interface UserRouteDeps {
  readonly users: UserStore
  readonly tokens: TokenService
  readonly passwords: PasswordHasher
  readonly loginGuard: LoginGuard
  readonly sessions: SessionControl
}

const MAX_PROFILES = 500

/** Control characters (C0 and DEL): never part of a name. */
function hasControlCharacters (text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c < 0x20 || c === 0x7f) return true
  }
  return false
}

/** 1–64 characters, no control characters; unique case-insensitively. */
function usernameField (value: unknown): string {
  const username = stringField(value, 'username', 1, 64)
  if (hasControlCharacters(username)) throw badRequest('username may not contain control characters')
  return username
}

/** undefined: not given; null: clear it. */
function optionalDisplayName (value: unknown): string | null | undefined {
  if (value === undefined) return undefined
  const name = optionalStringField(value, 'displayName', 64)
  if (name === null || name === '') return null
  if (hasControlCharacters(name)) throw badRequest('displayName may not contain control characters')
  return name
}

/** An http(s) URL; undefined: not given; null or '': clear it. */
function optionalAvatarUrl (value: unknown): string | null | undefined {
  return value === undefined ? undefined : httpUrlOrNull(value, 'avatarUrl')
}

export function userRoutes (api: HttpApi, { users, tokens, passwords, loginGuard, sessions }: UserRouteDeps): void {
  // A constant-time-ish answer for unknown users: verifying against a real hash costs the same as a wrong password.
  let decoyHash: Promise<string> | null = null
  const decoy = (): Promise<string> => {
    decoyHash ??= passwords.hash('decoy-password').catch(err => {
      decoyHash = null
      throw err
    })
    return decoyHash
  }
  /** The user, if the password is theirs; null for a wrong password or an unknown user alike. */
  const passwordHolder = async (userId: string, password: string): Promise<UserRow | null> => {
    const user = await users.find(userId)
    if (user === null) {
      await passwords.verify(password, await decoy())
      return null
    }
    return await passwords.verify(password, user.passwordHash) ? user : null
  }

  api.post('/users/register', 'none', async ({ body }) => {
    const userId = userIdField(body.userId, 'userId')
    const username = usernameField(body.username)
    const password = stringField(body.password, 'password', 8, 128)
    const displayName = optionalDisplayName(body.displayName) ?? null
    const avatarUrl = optionalAvatarUrl(body.avatarUrl) ?? null
    const hash = await passwords.hash(password)
    const outcome = await users.create(userId, username, hash, displayName, avatarUrl)
    if (outcome === 'userId') throw conflict(`userId ${userId} is already registered`)
    if (outcome === 'username') throw conflict(`username ${username} is taken`)
    return { userId, username }
  })

  api.post('/users/login', 'none', async ({ body }) => {
    const password = stringField(body.password, 'password', 1, 128)
    let userId: string
    if (body.userId === undefined && body.username !== undefined) {
      const id = await users.idOfUsername(usernameField(body.username))
      if (id === null) {
        await passwords.verify(password, await decoy())
        throw unauthorized('wrong username or password')
      }
      userId = id
    } else {
      userId = userIdField(body.userId, 'userId')
    }
    loginGuard.attempt(userId)
    let user: UserRow | null
    try {
      user = await passwordHolder(userId, password)
    } catch (err) {
      loginGuard.notChecked(userId)
      throw err
    }
    if (user === null) throw unauthorized('wrong userId or password')
    loginGuard.succeeded(userId)
    if (user.deletedTime !== null) throw forbidden('the account is deleted')
    if (user.status === UserStatus.BANNED) throw forbidden('user is banned')
    tokens.remember(userId, { status: user.status, tokenVersion: user.tokenVersion })
    const { token, expiresAt } = tokens.issue(userId, user.tokenVersion)
    await users.recordLogin(userId)
    return { userId, username: user.username, token, expiresAt: expiresAt.toISOString() }
  })

  api.post('/users/refresh-token', 'user', async ({ userId }) => {
    const user = await users.find(userId)
    if (user === null) throw unauthorized('unknown user')
    const { token, expiresAt } = await tokens.refresh(userId)
    return { userId, username: user.username, token, expiresAt: expiresAt.toISOString() }
  })

  const logout = async (userId: string): Promise<null> => {
    const version = await users.bumpTokenVersion(userId)
    if (version !== null) tokens.remember(userId, { status: UserStatus.NORMAL, tokenVersion: version })
    tokens.forget(userId) // status may not be NORMAL: reload it on next use
    sessions.kick(userId, Status.UNAUTHORIZED, 'logged out')
    return null
  }
  api.post('/users/logout', 'user', async req => {
    assertCaller(req, req.body.userId)
    return await logout(req.userId)
  })
  api.get('/users/logout/:userId', 'user', async req => {
    const target = userIdField(req.params[0], 'userId')
    assertCaller(req, target)
    return await logout(req.userId)
  })

  api.get('/users/info/:userId', 'user', async ({ params }) => {
    const userId = userIdField(params[0], 'userId')
    const user = await users.find(userId)
    if (user === null) throw notFound(`user ${userId} does not exist`)
    return {
      userId,
      username: user.username,
      status: user.deletedTime !== null ? DELETED_STATUS : user.status,
      createTime: user.createTime.toISOString(),
      lastLoginTime: user.lastLoginTime?.toISOString() ?? null
    }
  })

  api.get('/users/profile/:userId', 'user', async ({ params }) => {
    const userId = userIdField(params[0], 'userId')
    const [profile] = await users.profiles([userId])
    if (profile === undefined) throw notFound(`user ${userId} does not exist`)
    return profile
  })

  api.post('/users/profiles', 'user', async ({ body }) => await users.profiles(userIdList(body.userIds, 'userIds', MAX_PROFILES)))

  api.get('/users/by-username/:username', 'user', async ({ params }) => {
    const username = usernameField(params[0])
    const userId = await users.idOfUsername(username)
    const [profile] = userId === null ? [] : await users.profiles([userId])
    if (profile === undefined) throw notFound(`no user is called ${username}`)
    return profile
  })

  api.post('/users/profile', 'user', async req => {
    const displayName = optionalDisplayName(req.body.displayName)
    const avatarUrl = optionalAvatarUrl(req.body.avatarUrl)
    if (displayName === undefined && avatarUrl === undefined) throw badRequest('give displayName, avatarUrl or both')
    const profile = await users.updateProfile(req.userId, displayName, avatarUrl)
    if (profile === null) throw unauthorized('unknown user')
    return profile
  })

  api.post('/users/password', 'user', async req => {
    const oldPassword = stringField(req.body.oldPassword, 'oldPassword', 1, 128)
    const newPassword = stringField(req.body.newPassword, 'newPassword', 8, 128)
    if (await passwordHolder(req.userId, oldPassword) === null) throw forbidden('oldPassword is wrong')
    const version = await users.setPassword(req.userId, await passwords.hash(newPassword))
    if (version === null) throw unauthorized('unknown user')
    tokens.forget(req.userId)
    // Every session signs in again, on every host; the caller carries on with the token answered here.
    sessions.kick(req.userId, Status.UNAUTHORIZED, 'password changed')
    const user = (await users.find(req.userId))!
    tokens.remember(req.userId, { status: user.status, tokenVersion: version })
    const { token, expiresAt } = tokens.issue(req.userId, version)
    return { userId: req.userId, username: user.username, token, expiresAt: expiresAt.toISOString() }
  })

  api.post('/users/delete', 'user', async req => {
    const password = stringField(req.body.password, 'password', 1, 128)
    if (await passwordHolder(req.userId, password) === null) throw forbidden('password is wrong')
    await users.softDelete(req.userId)
    tokens.forget(req.userId)
    sessions.userChanged(req.userId)
    sessions.kick(req.userId, Status.UNAUTHORIZED, 'account deleted')
    return null
  })

  api.get('/users/status/:userId', 'user', async req => {
    const userId = userIdField(req.params[0], 'userId')
    if (userId !== req.userId && !await users.areFriends(req.userId, userId)) {
      throw forbidden('only the user and its friends may see its status')
    }
    const devices = await sessions.devices(userId)
    return { userId, online: devices > 0, devices }
  })

  api.post('/users/blacklist', 'user', async req => {
    const blockedId = userIdField(req.body.userId, 'userId')
    if (blockedId === req.userId) throw badRequest('a user cannot block itself')
    if ((await users.exists([blockedId])).size === 0) throw notFound(`user ${blockedId} does not exist`)
    await users.block(req.userId, blockedId)
    sessions.userChanged(req.userId)
    return null
  })

  api.del('/users/blacklist/:userId', 'user', async req => {
    const blockedId = userIdField(req.params[0], 'userId')
    if (!await users.unblock(req.userId, blockedId)) throw notFound(`user ${blockedId} is not blocked`)
    sessions.userChanged(req.userId)
    return null
  })
}
