import { createHmac, timingSafeEqual } from 'node:crypto'

/**
 * Short-lived URLs that stand in for the Authorization header where a client
 * cannot send one (a browser's `<img src>`): `?u=<userId>&exp=<unix s>&sig=…`,
 * an HMAC-SHA256 of the path, the user and the expiry under a key derived from
 * the token secret (the same on every host of a cluster). A signed URL acts
 * for its user, whose rights are checked again on every use.
 */
export class UrlSigner {
  private readonly key: Buffer

  constructor (secret: string, private readonly ttlSeconds: number) {
    // A key of its own: a signature can never be mistaken for a token's, nor the other way round.
    this.key = createHmac('sha256', secret).update('implus signed url v1').digest()
  }

  /** A path (no query) signed for this user; `exp` is when it stops working. */
  sign (path: string, userId: string, nowMs = Date.now()): { url: string, expiresAt: Date } {
    const exp = Math.floor(nowMs / 1000) + this.ttlSeconds
    return { url: `${path}?u=${userId}&exp=${exp}&sig=${this.signature(path, userId, exp)}`, expiresAt: new Date(exp * 1000) }
  }

  /** The user a signed query grants, null when it carries no signature; throws a reason when it is bad or expired. */
  verify (path: string, query: string, nowMs = Date.now()): string | null {
    const params = new URLSearchParams(query)
    const sig = params.get('sig')
    if (sig === null) return null
    const userId = params.get('u') ?? ''
    const exp = Number(params.get('exp'))
    if (!Number.isSafeInteger(exp)) throw new SignatureError('signed URL without a valid exp')
    const expected = Buffer.from(this.signature(path, userId, exp))
    const given = Buffer.from(sig)
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new SignatureError('bad URL signature')
    if (exp * 1000 <= nowMs) throw new SignatureError('signed URL expired: ask for a new one')
    return userId
  }

  private signature (path: string, userId: string, exp: number): string {
    return createHmac('sha256', this.key).update(`${path}\n${userId}\n${exp}`).digest('base64url')
  }
}

export class SignatureError extends Error {
  override name = 'SignatureError'
}
