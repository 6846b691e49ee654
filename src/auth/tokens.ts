import { Jwt } from './jwt.js'
import type { UserAccess, UserStore } from '../users/store.js'
import { UserStatus } from '../db/schema.js'
import { AppError, Status } from '../errors.js'
import { TOKEN_CACHE_ENTRIES, trimOldest } from '../memory-budget.js'

export interface IssuedToken {
  readonly token: string
  readonly expiresAt: Date
}

/**
 * Issues and checks tokens. Each token carries the user's token version; a
 * token is valid only while that version is current, so logout and bans
 * revoke every earlier token at once. Versions are cached (bounded) because
 * every connect and request checks them; this process updates the cache when
 * it changes a version, and `forget` drops an entry another host changed.
 */
export class TokenService {
  private readonly jwt: Jwt
  private readonly access = new Map<string, UserAccess>()

  constructor (secret: string, private readonly ttlSeconds: number, private readonly users: UserStore) {
    this.jwt = new Jwt(secret)
  }

  issue (userId: string, tokenVersion: number): IssuedToken {
    const iat = Math.floor(Date.now() / 1000)
    const exp = iat + this.ttlSeconds
    return { token: this.jwt.sign({ sub: userId, iat, exp, ver: tokenVersion }), expiresAt: new Date(exp * 1000) }
  }

  /** The user id a token stands for, or an AppError(401) saying why not. */
  async authenticate (token: string): Promise<string> {
    const claims = this.jwt.verify(token)
    if (claims === null) throw new AppError(Status.UNAUTHORIZED, 'invalid or expired token')
    const access = await this.lookup(claims.sub)
    if (access === null) throw new AppError(Status.UNAUTHORIZED, 'unknown user')
    if (access.tokenVersion !== claims.ver) throw new AppError(Status.UNAUTHORIZED, 'token revoked')
    if (access.status === UserStatus.BANNED) throw new AppError(Status.FORBIDDEN, 'user is banned')
    return claims.sub
  }

  /** A new token for a user whose current one was just authenticated: same version, a fresh expiry. */
  async refresh (userId: string): Promise<IssuedToken> {
    const access = await this.lookup(userId)
    if (access === null) throw new AppError(Status.UNAUTHORIZED, 'unknown user')
    return this.issue(userId, access.tokenVersion)
  }

  remember (userId: string, access: UserAccess): void {
    this.access.delete(userId)
    this.access.set(userId, access)
    trimOldest(this.access, TOKEN_CACHE_ENTRIES)
  }

  forget (userId: string): void {
    this.access.delete(userId)
  }

  private async lookup (userId: string): Promise<UserAccess | null> {
    const cached = this.access.get(userId)
    if (cached !== undefined) return cached
    const access = await this.users.access(userId)
    if (access !== null) this.remember(userId, access)
    return access
  }
}
