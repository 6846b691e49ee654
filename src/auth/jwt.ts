import { createHmac, timingSafeEqual } from 'node:crypto'

export interface TokenClaims {
  readonly sub: string
  readonly iat: number
  readonly exp: number
  /** The user's token version when issued; a higher version in the database revokes it. */
  readonly ver: number
}

const HEADER = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url')

/** HS256 JSON Web Tokens with node:crypto: nothing else is accepted, so there is no `alg` confusion. */
export class Jwt {
  private readonly key: Buffer

  constructor (secret: string) {
    this.key = Buffer.from(secret, 'utf8')
  }

  sign (claims: TokenClaims): string {
    const body = `${HEADER}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`
    return `${body}.${this.mac(body).toString('base64url')}`
  }

  /** Returns the claims of a well-formed, correctly signed, unexpired token; null otherwise. */
  verify (token: string, nowSeconds = Math.floor(Date.now() / 1000)): TokenClaims | null {
    const firstDot = token.indexOf('.')
    const lastDot = token.lastIndexOf('.')
    if (firstDot <= 0 || lastDot === firstDot || token.slice(0, firstDot) !== HEADER) return null
    const expected = this.mac(token.slice(0, lastDot))
    const given = Buffer.from(token.slice(lastDot + 1), 'base64url')
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null
    let claims: unknown
    try {
      claims = JSON.parse(Buffer.from(token.slice(firstDot + 1, lastDot), 'base64url').toString('utf8'))
    } catch {
      return null
    }
    if (!isClaims(claims) || claims.exp <= nowSeconds) return null
    return claims
  }

  private mac (data: string): Buffer {
    return createHmac('sha256', this.key).update(data).digest()
  }
}

function isClaims (value: unknown): value is TokenClaims {
  if (typeof value !== 'object' || value === null) return false
  const c = value as Record<string, unknown>
  return typeof c.sub === 'string' && Number.isInteger(c.iat) && Number.isInteger(c.exp) && Number.isInteger(c.ver)
}
