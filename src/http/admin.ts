import type { HttpApi } from './server.js'
import { userIdField } from './validate.js'
import { Status, badRequest, notFound } from '../errors.js'
import type { UserStore } from '../users/store.js'
import { UserStatus } from '../db/schema.js'
import type { TokenService } from '../auth/tokens.js'
import type { SessionControl } from './users.js'

export function adminRoutes (api: HttpApi, users: UserStore, tokens: TokenService, sessions: SessionControl): void {
  api.post('/admin/users/:userId/status', 'admin', async ({ params, body }) => {
    const userId = userIdField(params[0], 'userId')
    const status = body.status
    if (status !== UserStatus.NORMAL && status !== UserStatus.BANNED) throw badRequest('status must be 1 (normal) or 2 (banned)')
    // Omitted leaves a mute as it is (unbanning does not unmute); null lifts it.
    let mutedUntil: Date | null | undefined = body.mutedUntil === null ? null : undefined
    if (body.mutedUntil !== undefined && body.mutedUntil !== null) {
      mutedUntil = typeof body.mutedUntil === 'string' ? new Date(body.mutedUntil) : new Date(NaN)
      if (Number.isNaN(mutedUntil.getTime())) throw badRequest('mutedUntil must be an ISO 8601 time or null')
    }
    const access = await users.setStatus(userId, status, mutedUntil)
    if (access === null) throw notFound(`user ${userId} does not exist`)
    tokens.remember(userId, { status: access.status, tokenVersion: access.tokenVersion })
    sessions.userChanged(userId)
    if (status === UserStatus.BANNED) sessions.kick(userId, Status.FORBIDDEN, 'banned')
    return { userId, status, mutedUntil: access.mutedUntil?.toISOString() ?? null }
  })
}
