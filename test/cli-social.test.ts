// Issue 14 item 5: the `implus` command line (dist/cli.js) covers friends with consent, profiles, group
// management, history, mark read and recall — spawned as a user would run it, against a real server that
// asks for consent (IMPLUS_DIRECT_FRIENDS=false).
import t from 'tap'
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { runCli, type CliResult } from './helpers/cli.js'
import { api, makeTempDir, startServer, uniqueUserId, waitFor, type TestServer } from './helpers/server.js'

let server: TestServer

t.before(async () => {
  server = await startServer({ env: { IMPLUS_DIRECT_FRIENDS: 'false' } })
})
t.teardown(async () => {
  await server?.stop()
})

type Result = CliResult

function cli (home: string, ...args: string[]): Promise<Result> {
  return runCli(args, { env: { ...process.env, IMPLUS_CLI_HOME: home, IMPLUS_SERVER: server.httpUrl, IMPLUS_WS_URL: String(server.ports.ws) } })
}

interface Person { home: string, userId: string, name: string }

async function person (t: Tap): Promise<Person> {
  const p = { home: makeTempDir('implus-cli-'), userId: uniqueUserId(), name: `u${randomUUID().slice(0, 8)}` }
  t.equal((await cli(p.home, 'register', p.userId, p.name, 'a-good-password')).code, 0, `register ${p.name}`)
  t.equal((await cli(p.home, 'login', p.userId, 'a-good-password')).code, 0, `login ${p.name}`)
  return p
}

type Tap = typeof t

/** Runs the command, expects exit 0, returns stdout. */
async function ok (t: Tap, p: Person, ...args: string[]): Promise<string> {
  const r = await cli(p.home, ...args)
  t.equal(r.code, 0, `implus ${args.join(' ')}: ${r.stderr.trim()}`)
  return r.stdout
}

t.test('friends with consent, profiles, history, read, recall', async t => {
  const [alice, bob] = [await person(t), await person(t)]
  const sent = await ok(t, alice, 'friend', `@${bob.name}`, 'hi', 'bob')
  const requestId = /friend request (\d+) sent/.exec(sent)?.[1]
  t.ok(requestId, `a request was sent: ${sent}`)
  t.match(await ok(t, bob, 'requests'), new RegExp(`${requestId}\\s+from .*@${alice.name}.*: hi bob`), 'bob sees it, with its message')
  t.match(await ok(t, bob, 'accept', requestId!), 'accepted')
  t.match(await ok(t, alice, 'friends'), `@${bob.name}, ${bob.userId}`, 'alice lists bob')

  t.match(await ok(t, alice, 'profile', 'name', 'Alice', 'Liddell'), 'Alice Liddell', 'display name set')
  t.match(await ok(t, bob, 'profile', `@${alice.name}`), `Alice Liddell (@${alice.name}, ${alice.userId})`, 'bob sees it')
  t.match(await ok(t, bob, 'find', alice.name), alice.userId, 'find by username')

  const message = /sent (\d+)/.exec(await ok(t, alice, 'send', bob.userId, 'hello', 'there'))![1]!
  t.match(await ok(t, bob, 'history', alice.userId), new RegExp(`${message}\\s+Alice Liddell .*: hello there`), 'history shows it with the sender\'s name')
  t.match(await ok(t, bob, 'read', `@${alice.name}`), 'read up to', 'mark read')
  // The read receipt travels over the socket the command opened and closed; the shard commits it on its
  // own, and no event tells this process: polled.
  await waitFor(async () => {
    const res = await api(server, 'POST', '/api/conversations/sync', {}, JSON.parse(readFileSync(join(bob.home, 'session.json'), 'utf8')).token)
    return res.body.data.conversations.find((c: { lastMsgSender: string }) => c.lastMsgSender === alice.userId)?.unreadCount === 0
  }, 10_000)
  t.pass('unread is 0 after read')
  t.match(await ok(t, alice, 'recall', message), 'recalled')
  t.match(await ok(t, bob, 'history', alice.userId), '(recalled)', 'the recall shows in history')

  t.match(await ok(t, alice, 'unfriend', bob.userId), 'unfriended')
  t.match(await ok(t, alice, 'password', 'a-good-password', 'a-better-password'), 'password changed')
  t.match(await ok(t, alice, 'whoami'), alice.userId, 'the session carries on with the new token')
  t.equal((await cli(alice.home, 'friends')).code, 0, 'and works')
  const refused = await cli(alice.home, 'accept', '99999999')
  t.equal(refused.code, 1, 'an unknown request: exit 1')
  t.match(refused.stderr, '404', 'saying why')
})

t.test('group management', async t => {
  const [owner, bob, carol] = [await person(t), await person(t), await person(t)]
  const group = (await ok(t, owner, 'group', 'create', 'team', `@${bob.name}`, carol.userId)).trim()
  t.match(group, /^group_\d+$/, 'created')
  t.match(await ok(t, owner, 'group', 'admin', group, `@${bob.name}`, 'on'), 'done (seq 1)', 'bob is an admin: the first system message')
  t.match(await ok(t, bob, 'group', 'rename', group, 'The', 'Team'), 'renamed')
  t.match(await ok(t, bob, 'group', 'notice', group, 'be kind'), 'notice set')
  const info = await ok(t, carol, 'group', 'info', group)
  t.match(info, 'The Team', 'info: name')
  t.match(info, 'notice: be kind', 'info: notice')
  t.match(info, `admins: ${bob.name} (@${bob.name}`, 'info: admins by name')
  t.match(await ok(t, carol, 'group', 'members', group), new RegExp(`@${bob.name}.*admin`), 'members with roles')
  t.match(await ok(t, bob, 'group', 'mute', group, carol.userId, '600'), 'muted')
  const refused = await cli(carol.home, 'send-group', group, 'may I?')
  t.equal(refused.code, 1, 'a muted member cannot send')
  t.match(refused.stderr, '403')
  t.match(await ok(t, bob, 'group', 'mute', group, carol.userId, '0'), 'unmuted')
  t.match(await ok(t, owner, 'group', 'mute-all', group, 'on'), 'done')
  t.match(await ok(t, owner, 'group', 'mute-all', group, 'off'), 'done')
  t.match(await ok(t, owner, 'group', 'list'), new RegExp(`${group}\\s+The Team\\s+3 members\\s+owner`), 'my groups')
  const history = await ok(t, carol, 'history', group)
  t.match(history, `-- ${owner.name} made ${bob.name} an admin`, 'history shows the system messages as sentences')
  t.match(history, `-- ${bob.name} renamed the group to "The Team"`)
  t.match(await ok(t, owner, 'group', 'transfer', group, bob.userId), 'transferred')
  t.match(await ok(t, bob, 'group', 'remove', group, owner.userId), 'removed')
  t.match(await ok(t, carol, 'group', 'leave', group), 'left')
  t.match(await ok(t, bob, 'group', 'dismiss', group), 'dismissed')
  t.match(await ok(t, bob, 'group', 'list'), '[dismissed]', 'listed as dismissed')
  const usage = await cli(bob.home, 'group', 'admin', group, bob.userId, 'maybe')
  t.equal(usage.code, 2, 'a usage error: exit 2')
})
