// Signed download URLs (src/http/signed-url.ts): bound to the path, the user and the expiry.
import t from 'tap'
import { SignatureError, UrlSigner } from '../../src/http/signed-url.js'

const signer = new UrlSigner('s'.repeat(32), 600)
const now = Date.UTC(2026, 0, 1)

function queryOf (url: string): string {
  return url.slice(url.indexOf('?') + 1)
}

t.test('a signed URL names its user until it expires', async t => {
  const { url, expiresAt } = signer.sign('/api/files/42', '1001', now)
  t.match(url, /^\/api\/files\/42\?u=1001&exp=\d+&sig=[\w-]+$/)
  t.equal(expiresAt.getTime(), now + 600_000)
  t.equal(signer.verify('/api/files/42', queryOf(url), now), '1001')
  t.equal(signer.verify('/api/files/42', queryOf(url), now + 599_000), '1001', 'still good just before')
  t.throws(() => signer.verify('/api/files/42', queryOf(url), now + 600_000), SignatureError, 'expired')
})

t.test('any change breaks it', async t => {
  const q = queryOf(signer.sign('/api/files/42', '1001', now).url)
  t.throws(() => signer.verify('/api/files/43', q, now), /bad URL signature/, 'another file')
  t.throws(() => signer.verify('/api/files/42', q.replace('u=1001', 'u=1002'), now), /bad URL signature/, 'another user')
  t.throws(() => signer.verify('/api/files/42', q.replace(/exp=(\d+)/, (_m, e: string) => `exp=${Number(e) + 3600}`), now), /bad URL signature/, 'a later expiry')
  t.throws(() => signer.verify('/api/files/42', q.replace('exp=', 'exp=x'), now), /without a valid exp/)
  t.throws(() => new UrlSigner('t'.repeat(32), 600).verify('/api/files/42', q, now), /bad URL signature/, 'another server secret')
  t.equal(signer.verify('/api/files/42', 'u=1001', now), null, 'no signature: not a signed URL (bearer auth applies)')
})
