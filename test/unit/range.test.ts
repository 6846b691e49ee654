// Range and If-None-Match for downloads (src/http/range.ts), RFC 9110.
import t from 'tap'
import { etagMatches, parseRange } from '../../src/http/range.js'

t.test('single byte ranges', async t => {
  t.same(parseRange('bytes=0-9', 100), { start: 0, end: 9 })
  t.same(parseRange('bytes=90-', 100), { start: 90, end: 99 }, 'open end')
  t.same(parseRange('bytes=90-1000', 100), { start: 90, end: 99 }, 'end clipped to the file')
  t.same(parseRange('bytes=-10', 100), { start: 90, end: 99 }, 'suffix')
  t.same(parseRange('bytes=-1000', 100), { start: 0, end: 99 }, 'suffix longer than the file')
  t.same(parseRange(' bytes=5-5 ', 100), { start: 5, end: 5 })
})

t.test('unsatisfiable ranges are 416s', async t => {
  t.equal(parseRange('bytes=100-', 100), 'unsatisfiable', 'starts past the end')
  t.equal(parseRange('bytes=-0', 100), 'unsatisfiable', 'empty suffix')
})

t.test('anything else is ignored: the whole file', async t => {
  for (const header of ['', 'bytes=', 'bytes=-', 'items=0-9', 'bytes=0-9,20-29', 'bytes=9-0', 'bytes=a-b', 'bytes 0-9']) {
    t.equal(parseRange(header, 100), null, JSON.stringify(header))
  }
})

t.test('If-None-Match', async t => {
  t.ok(etagMatches('"abc"', '"abc"'))
  t.ok(etagMatches('"x", W/"abc"', '"abc"'), 'weak comparison, in a list')
  t.ok(etagMatches('*', '"abc"'))
  t.notOk(etagMatches('"abd"', '"abc"'))
})
