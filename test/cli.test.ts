// The `implus` command line (dist/cli.js), spawned as a user would run it: register, login, friend, send,
// tail shows the message live, conversations shows it unread, groups, files (send-file, download), and clear
// errors with non-zero exits. The WebSocket address comes from the server (GET /api/server-info: the test
// server's port is random, so a guessed default would fail), or from --ws when given.

import t from 'tap'
import { spawn } from 'node:child_process'
import { runCli } from './helpers/cli.js'
import { randomBytes } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { api, freePort, makeTempDir, registerAndLogin, startServer, uniqueUserId, DEFAULT_PASSWORD, ROOT, type TestServer } from './helpers/server.js'
import { photo } from './helpers/media-suite.js'

const CLI = join(ROOT, 'dist', 'cli.js')
let server: TestServer

const UPLOAD_QUOTA = 8 * 1024 * 1024

t.before(async () => {
  // A small daily quota (the default allows 25 MiB uploads): a file over it is refused before it is read.
  server = await startServer({ env: { IMPLUS_UPLOAD_QUOTA_BYTES: String(UPLOAD_QUOTA) } })
})
t.teardown(async () => {
  await server?.stop()
})

interface Result { code: number | null, stdout: string, stderr: string }

function env (home: string): NodeJS.ProcessEnv {
  const { IMPLUS_WS_URL: _ignored, ...outer } = process.env
  return { ...outer, IMPLUS_CLI_HOME: home, IMPLUS_SERVER: server.httpUrl }
}

function cli (home: string, ...args: string[]): Promise<Result> {
  return cliIn(home, home, ...args)
}

/** Runs the CLI in working directory `cwd`. */
function cliIn (home: string, cwd: string, ...args: string[]): Promise<Result> {
  return runCli(args, { env: env(home), cwd })
}

t.test('register, login, friend, send; tail shows it live; conversations shows it unread', async t => {
  const [aliceHome, bobHome] = [makeTempDir('implus-cli-'), makeTempDir('implus-cli-')]
  const [alice, bob] = [uniqueUserId(), uniqueUserId()]

  let r = await cli(aliceHome, 'register', alice, 'Alice', 'alice-password-1')
  t.equal(r.code, 0, `register alice: ${r.stderr}`)
  t.match(r.stdout, `registered ${alice}`)
  r = await cli(bobHome, 'register', bob, 'Bob', 'bob-password-12')
  t.equal(r.code, 0, 'register bob')
  r = await cli(aliceHome, 'register', alice, 'Alice', 'alice-password-1')
  t.equal(r.code, 1, 'registering a taken id fails')
  t.match(r.stderr, /implus: .*\(409\)/, 'and says why')

  r = await cli(aliceHome, 'login', alice, 'wrong-password-0')
  t.equal(r.code, 1, 'a wrong password fails')
  t.match(r.stderr, /\(401\)/, 'with the server\'s reason')
  r = await cli(aliceHome, 'send', bob, 'too early')
  t.equal(r.code, 1, 'sending without a session fails')
  t.match(r.stderr, /not logged in/, 'and says to log in')

  r = await cli(aliceHome, 'login', alice, 'alice-password-1')
  t.equal(r.code, 0, `login alice: ${r.stderr}`)
  t.match(r.stdout, `logged in as ${alice} (Alice)`)
  r = await cli(bobHome, 'login', bob, 'bob-password-12')
  t.equal(r.code, 0, 'login bob')

  r = await cli(aliceHome, 'send', bob, 'not friends yet')
  t.equal(r.code, 1, 'private chat needs a friendship (the default policy)')
  t.match(r.stderr, /not sent \(403\)/, 'the refusal is shown')
  r = await cli(aliceHome, 'friend', bob)
  t.equal(r.code, 0, `friend: ${r.stderr}`)

  // Bob tails; Alice sends; the line shows up in Bob's terminal.
  const tail = spawn(process.execPath, [CLI, 'tail'], { env: env(bobHome), stdio: ['ignore', 'pipe', 'pipe'] })
  const lines: string[] = []
  const seen = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tail printed nothing matching; got ${JSON.stringify(lines)}`)), 20_000)
    createInterface({ input: tail.stdout }).on('line', line => {
      lines.push(line)
      if (line.includes('hello from the cli')) { clearTimeout(timer); resolve(line) }
    })
  })
  const ready = new Promise<void>(resolve => {
    createInterface({ input: tail.stderr }).on('line', line => { if (line.includes('tailing')) resolve() })
  })
  await ready
  r = await cli(aliceHome, 'send', bob, 'hello', 'from', 'the', 'cli')
  t.equal(r.code, 0, `send: ${r.stderr}`)
  t.match(r.stdout, /^sent \d+ to private_\d+_\d+ \(seq 1\)/, 'send prints the receipt')
  const line = await seen
  t.match(line, new RegExp(`^\\d\\d:\\d\\d:\\d\\d ${alice}: hello from the cli$`), 'one line: time, sender, text')
  const exited = new Promise<number | null>(resolve => tail.on('close', code => resolve(code)))
  tail.kill('SIGINT')
  t.equal(await exited, 0, 'tail stops cleanly on Ctrl-C')

  r = await cli(bobHome, 'conversations')
  t.equal(r.code, 0, `conversations: ${r.stderr}`)
  t.match(r.stdout, /private_\d+_\d+ .*\(1 unread\).*hello from the cli/, 'the conversation with one unread message')
  t.match(r.stdout, 'total unread: 1')

  r = await cli(aliceHome, 'group', 'create', 'Team', bob)
  t.equal(r.code, 0, `group create: ${r.stderr}`)
  const group = r.stdout.trim()
  t.match(group, /^group_\d+$/, 'prints the conversation id')
  r = await cli(aliceHome, '--ws', `ws://127.0.0.1:${server.ports.ws}/websocket`, 'send-group', group, 'hi team')
  t.equal(r.code, 0, `send-group with --ws: ${r.stderr}`)
  const unused = await freePort()
  r = await cli(aliceHome, '--ws', String(unused), 'send-group', group, 'nowhere')
  t.equal(r.code, 1, 'a --ws where nothing listens fails')
  t.match(r.stderr, new RegExp(`cannot connect to ws://127\\.0\\.0\\.1:${unused}/websocket`), 'and names the address tried')
  r = await cli(bobHome, 'conversations')
  t.match(r.stdout, new RegExp(`${group}\\s+Team\\s+\\(1 unread\\)`), 'the group is listed with its unread message')

  r = await cli(bobHome, 'frobnicate')
  t.equal(r.code, 2, 'an unknown command is a usage error')
  t.match(r.stderr, /unknown command/)
})

t.test('send-file uploads and sends; the receiver downloads it; tail names it; strangers and bad input get clear errors', async t => {
  const [alice, bob, carol] = await Promise.all([registerAndLogin(server), registerAndLogin(server), registerAndLogin(server)])
  const [aliceHome, bobHome, carolHome] = [makeTempDir('implus-cli-'), makeTempDir('implus-cli-'), makeTempDir('implus-cli-')]
  for (const [home, user] of [[aliceHome, alice], [bobHome, bob], [carolHome, carol]] as const) {
    const r = await cli(home, 'login', user.userId, DEFAULT_PASSWORD)
    t.equal(r.code, 0, `login: ${r.stderr}`)
  }
  await api(server, 'POST', '/users/friends', { friendId: bob.userId }, alice.token)

  const png = await photo(320, 200)
  writeFileSync(join(aliceHome, 'beach day.png'), png)
  let r = await cli(aliceHome, 'send-file', bob.userId, join(aliceHome, 'beach day.png'))
  t.equal(r.code, 0, `send-file: ${r.stderr}`)
  const sent = /^sent (\d+) to (private_\d+_\d+) \(seq \d+\): file (\d+) beach day\.png \((\d+) bytes, image\/png, 320×200\)$/m.exec(r.stdout)
  t.ok(sent, `prints the receipt and the file: ${r.stdout}`)
  t.equal(Number(sent![4]), png.length, 'with its size')
  const fileId = sent![3]!

  const bytes = randomBytes(200_000)
  writeFileSync(join(aliceHome, 'notes.pdf'), bytes)
  r = await cli(aliceHome, 'send-file', bob.userId, join(aliceHome, 'notes.pdf'), '--as', 'file')
  t.equal(r.code, 0, `send-file --as file: ${r.stderr}`)
  t.match(r.stdout, /file \d+ notes\.pdf \(200000 bytes, application\/octet-stream\)/, 'bytes that are not a PDF are not called one')
  const secondId = /file (\d+) notes\.pdf/.exec(r.stdout)![1]!
  r = await cli(bobHome, 'conversations')
  t.equal(r.code, 0, `conversations: ${r.stderr}`)
  t.match(r.stdout, `${alice.userId}: [file] notes.pdf`, 'conversations shows the last message by kind and name, not its JSON document')
  t.notMatch(r.stdout, /fileId/, 'no JSON document in the list')

  const downloads = makeTempDir('implus-cli-dl-')
  r = await cliIn(bobHome, downloads, 'download', fileId)
  t.equal(r.code, 0, `download: ${r.stderr}`)
  t.match(r.stdout, `saved beach day.png (${png.length} bytes, image/png)`)
  t.same(readFileSync(join(downloads, 'beach day.png')), png, 'under its own name in the working directory, the same bytes')
  r = await cliIn(bobHome, downloads, 'download', secondId, 'copy.bin')
  t.equal(r.code, 0, `download to a path: ${r.stderr}`)
  t.same(readFileSync(join(downloads, 'copy.bin')), bytes, 'to the path given')
  const piped = await cliIn(bobHome, downloads, 'download', secondId, '-')
  t.equal(Buffer.from(piped.stdout, 'latin1').length > 0, true, 'to stdout with -')

  r = await cliIn(carolHome, downloads, 'download', fileId, 'stolen.png')
  t.equal(r.code, 1, 'someone else\'s file: exit 1')
  t.match(r.stderr, /was not sent to you \(403\)/, 'with the server\'s reason')
  t.notOk(existsSync(join(downloads, 'stolen.png')), 'and no file written')
  t.same(readdirSync(downloads).filter(n => n.endsWith('.part')), [], 'no partial file either')
  r = await cliIn(bobHome, downloads, 'download', '1234567890123')
  t.match([r.code, r.stderr], [1, /does not exist \(404\)/], 'an unknown file: 404')
  r = await cli(aliceHome, 'send-file', bob.userId, join(aliceHome, 'no-such-file.txt'))
  t.match([r.code, r.stderr], [1, /cannot read .*no-such-file\.txt: ENOENT/], 'a missing path')
  r = await cli(aliceHome, 'send-file', bob.userId, join(aliceHome, 'notes.pdf'), '--as', 'image')
  t.match([r.code, r.stderr], [1, /not sent \(400\): .*is not an image/], 'sent as an image when it is not one: the server\'s reason')
  r = await cli(aliceHome, 'send-file', carol.userId, join(aliceHome, 'notes.pdf'))
  t.match([r.code, r.stderr], [1, /not sent \(403\)/], 'to a non-friend: refused like a text')
  // Refused on its Content-Length while the CLI is still writing 20 MiB: the server's answer, not "fetch failed".
  writeFileSync(join(bobHome, 'film.mp4'), Buffer.alloc(20 * 1024 * 1024))
  r = await cli(bobHome, 'send-file', alice.userId, join(bobHome, 'film.mp4'))
  t.match([r.code, r.stderr], [1, new RegExp(`daily upload quota reached: 0 of ${UPLOAD_QUOTA} bytes used in the last 24 hours \\(IMPLUS_UPLOAD_QUOTA_BYTES\\) \\(429\\)`)], 'a file over the daily quota: the server\'s reason and 429')

  const tail = spawn(process.execPath, [CLI, 'tail'], { env: env(bobHome), stdio: ['ignore', 'pipe', 'pipe'] })
  const line = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('tail printed no image line')), 20_000)
    createInterface({ input: tail.stdout }).on('line', l => { if (l.includes('[image]')) { clearTimeout(timer); resolve(l) } })
  })
  tail.kill('SIGINT')
  t.match(line, `${alice.userId}: [image] beach day.png (${png.length} bytes, image/png): implus download ${fileId}`, 'tail shows a media message as what it is, with the command to get it')
})

t.test('an unreachable server is a clear error', async t => {
  const home = makeTempDir('implus-cli-')
  const port = await freePort()
  const r = await new Promise<Result>(resolve => {
    const child = spawn(process.execPath, [CLI, 'login', '123', 'whatever-password'], { env: { ...process.env, IMPLUS_CLI_HOME: home, IMPLUS_SERVER: `http://127.0.0.1:${port}` }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', chunk => { stderr += chunk })
    child.on('close', code => resolve({ code, stdout: '', stderr }))
  })
  t.equal(r.code, 1, 'non-zero exit')
  t.match(r.stderr, /cannot reach the server/, 'says the server cannot be reached')
})
