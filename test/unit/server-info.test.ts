// hostOf (src/http/server-info.ts): the host GET /api/server-info puts in the addresses it tells clients.
import t from 'tap'
import { hostOf } from '../../src/http/server-info.js'

t.test('the host part of a Host header, brackets kept for IPv6', async t => {
  t.equal(hostOf('chat.example.com', 'x'), 'chat.example.com')
  t.equal(hostOf('chat.example.com:8080', 'x'), 'chat.example.com')
  t.equal(hostOf('127.0.0.1:8080', 'x'), '127.0.0.1')
  t.equal(hostOf('[::1]:8080', 'x'), '[::1]')
  t.equal(hostOf('[2001:db8::7]', 'x'), '[2001:db8::7]')
})

t.test('a missing or odd Host header gives the fallback, never text that could bend a URL', async t => {
  t.equal(hostOf('', 'localhost'), 'localhost')
  t.equal(hostOf('evil.com/path?', 'localhost'), 'localhost')
  t.equal(hostOf('user@host', 'localhost'), 'localhost')
  t.equal(hostOf('host:port', 'localhost'), 'localhost')
  t.equal(hostOf('a b', 'localhost'), 'localhost')
})
