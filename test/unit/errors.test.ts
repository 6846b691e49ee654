// Error codes (src/errors.ts), as fastify's test/internals/errors.test.js: an undocumented code fails here.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { AppError, Status, badRequest, conflict, forbidden, notFound, reasonPhrase, tooLarge, unauthorized, unavailable, type StatusCode } from '../../src/errors.js'

const PROTOCOL = fileURLToPath(new URL('../../docs/protocol.md', import.meta.url))

/** The parenthesised code lists of docs/protocol.md, e.g. "(400, 401, 403, …)": frame errorCode and HTTP code. */
function documentedLists (text: string): number[][] {
  return [...text.matchAll(/\((\d{3}(?:,\s*\d{3})+)\)/g)].map(m => m[1].split(',').map(s => Number(s.trim())))
}

const codes = Object.values(Status).filter(code => code !== Status.OK)

t.test('every Status (except 200) is documented in docs/protocol.md, and nothing else is', async t => {
  const lists = documentedLists(readFileSync(PROTOCOL, 'utf8'))
  t.ok(lists.length >= 2, `found the frame errorCode and HTTP code lists (${lists.length} lists)`)
  const documented = new Set(lists.flat())
  for (const code of codes) t.ok(documented.has(code), `${code} (${reasonPhrase(code)}) is in docs/protocol.md`)
  const known = new Set<number>(codes)
  for (const code of documented) t.ok(known.has(code), `documented ${code} exists in Status`)
  t.end()
})

t.test('Status is frozen and codes are unique', async t => {
  t.plan(2)
  t.ok(Object.isFrozen(Status))
  t.equal(new Set(Object.values(Status)).size, Object.values(Status).length)
})

t.test('every status has a reason phrase', async t => {
  const all = Object.values(Status) as StatusCode[]
  t.plan(all.length + 3)
  for (const code of all) t.ok(typeof reasonPhrase(code) === 'string' && reasonPhrase(code).length > 0, `${code}`)
  t.equal(reasonPhrase(404), 'Not Found')
  t.equal(reasonPhrase(429), 'Too Many Requests')
  t.equal(reasonPhrase(503), 'Service Unavailable')
})

t.test('AppError and the helpers carry their status', async t => {
  const cases: [(m: string) => AppError, number][] = [
    [badRequest, 400], [unauthorized, 401], [forbidden, 403], [notFound, 404], [conflict, 409], [tooLarge, 413], [unavailable, 503]
  ]
  t.plan(cases.length * 4)
  for (const [make, status] of cases) {
    const err = make('why')
    t.ok(err instanceof AppError && err instanceof Error, `${status}: an AppError`)
    t.equal(err.status, status)
    t.equal(err.message, 'why')
    t.equal(err.name, 'AppError')
  }
})
