// The operator contract (docs/protocol.md "Running"): health endpoints, metrics, configuration errors,
// graceful SIGTERM, restarts (also after kill -9) and an external DATABASE_URL.

import http from 'node:http'
import net from 'node:net'
import { spawn } from 'node:child_process'
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { ImConnection, MessageType } from '@implus/client'
import { startTestDatabase } from './helpers/postgres.js'
import {
  DEFAULT_PASSWORD, api, freePort, login, makeTempDir, readSecrets, register, registerAndLogin, runToExit, runningPostmaster,
  startServer, uniqueUserId, waitFor, within
} from './helpers/server.js'

/** GET over a given agent (a keep-alive agent reuses a connection opened earlier). */
function get (url: string, agent: http.Agent | false): Promise<{ status: number, body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent }, res => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', chunk => { body += chunk })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('error', reject)
  })
}

t.test('health, readiness, metrics, then SIGTERM and a restart that keeps users', async t => {
  const server = await startServer()
  t.teardown(() => server.stop())

  const started = server.logs.find(l => l.msg === 'implus listening')!
  t.equal(started.uwsNative, true, 'start line: uwsNative true')
  t.type(server.ports.http, 'number', 'start line has the HTTP port')

  const health = await fetch(`${server.httpUrl}/healthz`)
  t.equal(health.status, 200, '/healthz 200')
  await health.text()
  const ready = await fetch(`${server.httpUrl}/readyz`)
  t.equal(ready.status, 200, '/readyz 200 when ready')
  await ready.text()

  // http_requests_total counts API requests: make one first.
  t.equal((await api(server, 'GET', '/users/friends')).status, 401, 'an API request to count')
  const metrics = await fetch(`${server.httpUrl}/metrics`)
  t.equal(metrics.status, 200, '/metrics 200')
  t.match(metrics.headers.get('content-type'), /^text\/plain/, '/metrics is text/plain')
  const text = await metrics.text()
  t.match(text, /^# TYPE process_resident_memory_bytes gauge$/m, 'process_resident_memory_bytes declared')
  const rss = /^process_resident_memory_bytes (\d+(?:\.\d+)?(?:e\+\d+)?)$/m.exec(text)
  t.ok(rss !== null && Number(rss[1]) > 1_000_000, 'process_resident_memory_bytes has a plausible value')
  t.match(text, /^# TYPE http_requests_total counter$/m, 'http_requests_total declared as a counter')
  t.match(text, /^http_requests_total\{[^}]*status="401"[^}]*\} [1-9]\d*$/m, 'http_requests_total counted the 401')
  t.match(text, /^# TYPE http_request_duration_seconds histogram$/m, 'http_request_duration_seconds declared as a histogram')
  const friendsRoute = 'route="GET /users/friends"'
  const inf = new RegExp(`^http_request_duration_seconds_bucket\\{${friendsRoute},le="\\+Inf"\\} (\\d+)$`, 'm').exec(text)
  const count = new RegExp(`^http_request_duration_seconds_count\\{${friendsRoute}\\} (\\d+)$`, 'm').exec(text)
  t.ok(inf !== null && Number(inf[1]) >= 1, 'the request is in the +Inf bucket of its route')
  t.equal(inf?.[1], count?.[1], 'the +Inf bucket equals _count')
  t.match(text, new RegExp(`^http_request_duration_seconds_bucket\\{${friendsRoute},le="0.001"\\} \\d+$`, 'm'), 'a 1 ms bucket')
  for (const line of text.split('\n').filter(l => l !== '' && !l.startsWith('#'))) {
    if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? -?[0-9.e+-]+$|^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? (NaN|[+-]Inf)$/.test(line)) {
      t.fail(`not a Prometheus sample line: ${line}`)
    }
  }

  const userId = uniqueUserId()
  await register(server, userId)
  const connected = await registerAndLogin(server)
  const conn = await ImConnection.open({ transport: 'ws', host: '127.0.0.1', port: server.ports.ws! })
  t.teardown(() => conn.close())
  t.equal((await conn.login(connected.userId, connected.token)).errorCode, 0, 'a client is online when the drain starts')
  const goodbye = conn.next(f => f.type === MessageType.KICKOUT_NOTIFICATION, 30_000)

  // SIGTERM: readiness turns 503 while draining. A connection opened before the signal is reused to
  // ask /readyz as soon as the server logs 'draining' (the event we wait for; no sleeping).
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  t.teardown(() => agent.destroy())
  t.equal((await get(`${server.httpUrl}/readyz`, agent)).status, 200, '/readyz on the kept-alive connection')
  const draining = server.waitForLog(l => l.msg === 'draining')
  server.process.kill('SIGTERM')
  await draining
  // Asked again while draining (a supervisor repeating itself): the drain goes on, the exit code stays 0.
  server.process.kill('SIGTERM')
  const whileDraining = await get(`${server.httpUrl}/readyz`, agent).catch((err: Error) => ({ status: -1, body: err.message }))
  t.equal(whileDraining.status, 503, `/readyz 503 while draining (got ${whileDraining.status} ${whileDraining.body.trim()})`)
  const kick = await goodbye
  t.equal(kick.errorCode, 503, `the drain says goodbye with 1002 errorCode 503: come back (${kick.content})`)
  const code = await server.exited
  t.equal(code, 0, `SIGTERM: exit code 0 (got ${code}; last log: ${JSON.stringify(server.logs.at(-1))})`)
  const drainingAt = server.logs.findIndex(l => l.msg === 'draining')
  t.ok(drainingAt >= 0, 'logged draining')
  t.equal(server.stderr(), '', 'nothing on stderr')

  const again = await server.restart()
  t.teardown(() => again.stop())
  t.equal(again.dataDir, server.dataDir, 'same data folder')
  const token = await login(again, userId)
  t.type(token, 'string', 'a user registered before the restart logs in after it')
  t.equal((await api(again, 'GET', `/users/info/${userId}`, undefined, token)).body.data.userId, userId, 'and is still there')
  const againCode = await again.stop()
  t.equal(againCode, 0, `the restarted server stops with 0 too (got ${againCode})`)
})

t.test('a bad setting: one stderr line naming it, exit 1', async t => {
  const cases: Record<string, string> = {
    IMPLUS_HTTP_PORT: 'abc',
    IMPLUS_SHARDS: '0',
    DATABASE_URL: 'notaurl',
    IMPLUS_PRIVATE_CHAT: 'x'
  }
  for (const [name, value] of Object.entries(cases)) {
    const { code, stdout, stderr } = await runToExit({ [name]: value })
    t.equal(code, 1, `${name}=${value}: exit code 1`)
    const lines = stderr.split('\n').filter(l => l !== '')
    t.equal(lines.length, 1, `${name}=${value}: exactly one stderr line (${JSON.stringify(stderr)})`)
    t.match(lines[0], new RegExp(`^implus: configuration error: ${name} must `), `${name}=${value}: the line names the variable`)
    t.notMatch(stderr, /\n\s+at |Error:/, `${name}=${value}: no stack trace`)
    t.equal(stdout, '', `${name}=${value}: nothing started, nothing logged`)
  }
})

t.test('kill -9, then a restart on the same data folder', async t => {
  const server = await startServer()
  t.teardown(() => server.kill9())
  const userId = uniqueUserId()
  await register(server, userId)

  const postmaster = runningPostmaster(server.dataDir)
  t.ok(postmaster !== null, 'the embedded PostgreSQL is running')
  t.equal(await server.kill9(), null, 'killed by a signal')
  // The child PostgreSQL is not ours to kill: -9 on node leaves it running, which is the case to survive.
  t.equal(runningPostmaster(server.dataDir), postmaster, 'the killed server\'s PostgreSQL is still running')

  const again = await server.restart()
  t.teardown(() => again.stop())
  const leftover = again.lines.find(l => l.includes('stopping the embedded PostgreSQL left running'))
  t.ok(leftover, 'the restart stops the PostgreSQL left running, and says so')
  t.equal(leftover?.match(/"pid":/g)?.length, 1, `that line carries pid once (${leftover})`)
  const token = await login(again, userId)
  t.type(token, 'string', 'the user registered before kill -9 logs in')
  const fresh = await registerAndLogin(again)
  t.equal((await api(again, 'GET', `/users/info/${fresh.userId}`, undefined, fresh.token)).status, 200, 'and the restarted server takes new users')
  const stopCode = await again.stop()
  t.equal(stopCode, 0, `the restarted server stops cleanly (got ${stopCode})`)
  t.equal(runningPostmaster(server.dataDir), null, 'and stops its PostgreSQL')
})

t.test('DATABASE_URL: two servers, one database', async t => {
  const pgPort = await freePort()
  const a = await startServer({ env: { IMPLUS_EMBEDDED_PG_PORT: String(pgPort) } })
  t.teardown(() => a.stop())
  t.equal(a.logs.find(l => l.msg === 'implus listening')?.database, 'embedded', 'A runs the embedded PostgreSQL')
  const { embeddedPgPassword } = readSecrets(a.dataDir)
  t.type(embeddedPgPassword, 'string', 'A keeps the database password in secrets.json')
  const databaseUrl = `postgres://postgres:${encodeURIComponent(embeddedPgPassword)}@127.0.0.1:${pgPort}/implus`

  const b = await startServer({ env: { DATABASE_URL: databaseUrl } })
  t.teardown(() => b.stop())
  t.not(b.dataDir, a.dataDir, 'B has its own data folder')
  t.equal(b.logs.find(l => l.msg === 'implus listening')?.database, 'external', 'B uses the external database')
  t.equal(runningPostmaster(b.dataDir), null, 'B started no PostgreSQL of its own')

  const userId = uniqueUserId()
  await register(b, userId, DEFAULT_PASSWORD, 'made-on-b')
  const res = await api(a, 'POST', '/users/login', { userId, password: DEFAULT_PASSWORD })
  t.equal(res.status, 200, 'a user registered on B logs in on A')
  t.equal(res.body.data.username, 'made-on-b')
  t.equal((await api(a, 'POST', '/users/register', { userId, username: 'dup', password: DEFAULT_PASSWORD })).status, 409, 'and is taken on A')

  const bCode = await b.stop()
  t.equal(bCode, 0, `B stops with 0 (got ${bCode}; last log: ${JSON.stringify(b.logs.at(-1))})`)
  t.ok(runningPostmaster(a.dataDir) !== null, 'stopping B leaves A\'s database running')
  t.equal((await api(a, 'POST', '/users/login', { userId, password: DEFAULT_PASSWORD })).status, 200, 'A still serves')
})

t.test('uWebSockets.js is the native binary even with UWS_USE_FALLBACK=1', async t => {
  const server = await startServer({ env: { UWS_USE_FALLBACK: '1' } })
  t.teardown(() => server.stop())
  t.equal(server.logs.find(l => l.msg === 'implus listening')?.uwsNative, true, 'uwsNative true')
  t.notOk(server.logs.some(l => l.raw === true && /fallback/i.test(String(l.msg))), 'the package\'s fallback banner was never printed')
  const res = await fetch(`${server.httpUrl}/healthz`)
  t.equal(res.status, 200, 'and it serves')
  await res.text()
})

t.test('while starting, /readyz is 503; a database that never answers stops the start with a clear error', async t => {
  // A "database" that accepts connections and never says a word: the server stays in its starting
  // phase until the connection times out (10 s), which is when readiness must say 503.
  const silent = net.createServer(() => {})
  await new Promise<void>(resolve => silent.listen(0, '127.0.0.1', resolve))
  t.teardown(() => silent.close())
  const dbPort = (silent.address() as net.AddressInfo).port
  // Port 0, and the first log line names the bound HTTP address: a port picked in advance could be taken
  // by another test's server meanwhile, and this one would fail to start for that reason instead.
  let announced: (url: string) => void
  const httpUrl = new Promise<string>(resolve => { announced = resolve })
  const run = runToExit({ DATABASE_URL: `postgres://postgres:x@127.0.0.1:${dbPort}/implus`, IMPLUS_HTTP_PORT: '0' }, 60_000, line => {
    if (line.msg === 'starting' && typeof line.http === 'string') announced(line.http)
  })
  const announcedUrl = await within(Promise.race([httpUrl, run.then(r => { throw new Error(`exited (${r.code}) before its first log line: ${r.stderr}`) })]), 30_000, 'the starting line')
  const base = announcedUrl.replace('//localhost:', '//127.0.0.1:')
  // Listening from that line on; the database connection times out only after 10 s.
  const res = await fetch(`${base}/readyz`)
  const ready = { status: res.status, body: await res.text() }
  t.equal(ready.status, 503, '/readyz answers 503 while the server starts')
  t.equal(ready.body.trim(), 'starting', '... and says why')
  const api = await fetch(`${base}/users/info/1`)
  t.equal(api.status, 503, 'API paths answer 503 (starting) rather than 404 before their routes exist')
  const { code, stdout } = await run
  t.equal(code, 1, 'the start fails with exit code 1')
  t.match(stdout, /implus failed to start/, 'the log says the start failed, with the cause attached')
})

// A stop while starting lets the start finish, so that everything it opens (the first-run set-up of the
// database, shard workers, listeners) is closed in order, then drains: caught mid-set-up and just before the
// shard workers start. The folder must then start again as it is.
for (const moment of ['initialising embedded PostgreSQL', 'database migrations applied']) {
  t.test(`SIGTERM while starting (at "${moment}"): the start finishes, then drains, exit 0; the folder starts again`, async t => {
    const dataDir = makeTempDir()
    const began = Date.now()
    let sent = false
    const { code, stdout } = await runToExit({ IMPLUS_DATA_DIR: dataDir }, 60_000, line => {
      if (line.msg !== moment || sent) return
      sent = true
      process.kill(line.pid as number, 'SIGTERM')
    })
    const lines = stdout.split('\n').map(l => JSON.parse(l) as { level: number, msg: string, signal?: string })
    t.ok(sent, 'the signal was sent while the server was starting')
    t.equal(code, 0, 'a stop asked for is a clean exit, starting or not', code === 0 ? {} : { stdout })
    t.ok(lines.some(l => l.msg === 'stop asked while starting: the start finishes first' && l.signal === 'SIGTERM'), 'the log says the stop waits for the start')
    t.same(lines.filter(l => l.level >= 50).map(l => l.msg), [], 'no error on the way (shard workers are not started under a closing database)')
    t.notOk(lines.some(l => l.msg === 'implus listening'), 'it never said it was ready')
    const order = ['draining', 'stopped'].map(msg => lines.findIndex(l => l.msg === msg))
    t.ok(order[0]! > 0 && order[1]! > order[0]!, 'it drained, then stopped')
    t.equal(runningPostmaster(dataDir), null, 'no PostgreSQL is left running')
    t.same(readdirSync(dataDir).filter(name => name.startsWith('pg.')), [], 'no set-up folder or password file is left')
    t.same(readdirSync(tmpdir()).filter(name => name.startsWith('pg-password-') && statSync(join(tmpdir(), name)).mtimeMs >= began), [],
      'no password file was written to the shared temporary folder')

    const again = await startServer({ dataDir })
    t.equal((await fetch(`${again.httpUrl}/readyz`)).status, 200, 'the same folder starts again')
    t.equal(await again.stop(), 0)
  })
}

t.test('a start that fails once PostgreSQL runs stops that PostgreSQL too', async t => {
  // The TCP port is taken: the failure comes after the embedded PostgreSQL started and the schema was applied.
  const taken = net.createServer()
  await new Promise<void>(resolve => taken.listen(0, '127.0.0.1', resolve))
  t.teardown(() => taken.close())
  const dataDir = makeTempDir()
  const { code, stdout } = await runToExit({ IMPLUS_DATA_DIR: dataDir, IMPLUS_TCP_PORT: String((taken.address() as net.AddressInfo).port) }, 60_000)
  t.equal(code, 1, 'the start fails with exit code 1')
  t.match(stdout, /database migrations applied/, 'it failed after its PostgreSQL was up')
  t.match(stdout, /"code":"EADDRINUSE"[^\n]*"msg":"implus failed to start"/, 'the log says why')
  // Asked for its fast shutdown as the process exited; it takes a moment to finish.
  await waitFor(() => runningPostmaster(dataDir) === null, 20_000)
  t.pass('no PostgreSQL is left running')
})

t.test('a start that fails while a stop waits for it: logged as an error, then the stop still drains and exits 0', async t => {
  const taken = net.createServer()
  await new Promise<void>(resolve => taken.listen(0, '127.0.0.1', resolve))
  t.teardown(() => taken.close())
  const dataDir = makeTempDir()
  let sent = false
  // Sent as the first-run set-up begins: the start fails seconds later, at the TCP port.
  const { code, stdout } = await runToExit({ IMPLUS_DATA_DIR: dataDir, IMPLUS_TCP_PORT: String((taken.address() as net.AddressInfo).port) }, 60_000, line => {
    if (line.msg !== 'initialising embedded PostgreSQL' || sent) return
    sent = true
    process.kill(line.pid as number, 'SIGTERM')
  })
  const lines = stdout.split('\n').map(l => JSON.parse(l) as { level: number, msg: string, err?: { code?: string } })
  t.ok(sent, 'the stop was asked for while starting')
  t.equal(code, 0, 'exit 0: the stop asked for is what ended it', code === 0 ? {} : { stdout })
  const failed = lines.find(l => l.msg === 'the start failed while a stop waited for it')
  t.equal(failed?.level, 50, 'the failed start is logged as an error')
  t.equal(failed?.err?.code, 'EADDRINUSE', '... with its cause')
  t.notOk(lines.some(l => l.msg === 'implus failed to start'), 'not as a failure to exit on')
  t.ok(lines.some(l => l.msg === 'stopped'), 'the stop finished')
  t.equal(runningPostmaster(dataDir), null, 'and stopped PostgreSQL')
})

t.test('a pg folder that is not empty but has no PG_VERSION is refused, not set up again over it', async t => {
  const dataDir = makeTempDir()
  mkdirSync(join(dataDir, 'pg', 'global'), { recursive: true })
  writeFileSync(join(dataDir, 'pg', 'global', 'pg_control'), 'acknowledged messages live here')
  const { code, stderr } = await runToExit({ IMPLUS_DATA_DIR: dataDir })
  t.equal(code, 1, 'it exits 1')
  t.match(stderr.trim(), /^implus: \S+\/pg is not empty but holds no PostgreSQL cluster \(no PG_VERSION file\).*Restore it from a backup, or move it aside/, 'one line saying what is wrong and what to do')
  t.equal(stderr.trim().split('\n').length, 1)
  t.equal(readFileSync(join(dataDir, 'pg', 'global', 'pg_control'), 'utf8'), 'acknowledged messages live here', 'its files are untouched')
})

t.test('a new cluster uses PostgreSQL\'s own C.UTF-8 locale, whatever the environment says (even a locale not installed)', async t => {
  const before = process.env.LC_ALL
  process.env.LC_ALL = 'xx_XX.UTF-8'
  t.teardown(() => { if (before === undefined) delete process.env.LC_ALL; else process.env.LC_ALL = before })
  const database = await startTestDatabase('locale')
  t.teardown(() => database.close())
  const [row] = await database.sql<[{ provider: string, locale: string, collate: string }]>`
    select datlocprovider as provider, datlocale as locale, datcollate as collate from pg_database where datname = current_database()`
  t.same(row, { provider: 'b', locale: 'C.UTF-8', collate: 'C' }, 'builtin provider, C.UTF-8')
  const [folded] = await database.sql<[{ upper: string }]>`select upper('ärger ñandú') as upper`
  t.equal(folded!.upper, 'ÄRGER ÑANDÚ', 'Unicode case rules')
})

t.test('a first-run set-up left running by a killed server is stopped before its folder is used again', async t => {
  const dataDir = makeTempDir()
  // Stands in for the initdb a server killed with -9 leaves behind: the same command line, in a process group of its own.
  const leftover = spawn('bash', ['-c', `exec -a initdb ${JSON.stringify(process.execPath)} -e "setInterval(() => {}, 1000)" -- --pgdata=${join(dataDir, 'pg.setup')}`],
    { detached: true, stdio: 'ignore' })
  t.teardown(() => { if (leftover.exitCode === null && leftover.signalCode === null) leftover.kill('SIGKILL') })
  const leftoverEnded = new Promise<NodeJS.Signals | null>(resolve => leftover.once('exit', (_code, signal) => resolve(signal)))
  await waitFor(() => { try { return readFileSync(`/proc/${leftover.pid}/cmdline`, 'utf8').startsWith('initdb\0') } catch { return false } })
  const server = await startServer({ dataDir })
  t.teardown(() => server.stop())
  t.equal(await leftoverEnded, 'SIGTERM', 'the leftover set-up was stopped with SIGTERM (initdb then removes what it wrote)')
  const said = server.logs.find(l => l.msg === 'stopping an embedded PostgreSQL set-up left running by a previous process')
  t.equal(said?.level, 40, 'as a warning naming it')
  t.equal((await fetch(`${server.httpUrl}/readyz`)).status, 200, 'and the server set up its own and started')
})

t.test('a second server on a data folder in use is refused with one line; the first keeps its PostgreSQL and serves', async t => {
  const first = await startServer()
  t.teardown(() => first.stop())
  const postmaster = runningPostmaster(first.dataDir)
  t.not(postmaster, null, 'the first server runs its PostgreSQL')
  const { code, stderr } = await runToExit({ IMPLUS_DATA_DIR: first.dataDir })
  t.equal(code, 1, 'the second one exits 1')
  t.match(stderr.trim(), new RegExp(`^implus: IMPLUS_DATA_DIR \\S+ is in use by the implus server running as pid ${first.process.pid}: stop that one first`), 'naming the one that holds it')
  t.equal(stderr.trim().split('\n').length, 1, 'in one line')
  t.equal(runningPostmaster(first.dataDir), postmaster, 'the first server\'s PostgreSQL was not touched')
  await register(first, uniqueUserId())
  t.pass('and the first server still writes to it (a registration)')
  t.equal(await first.stop(), 0)

  const next = await startServer({ dataDir: first.dataDir })
  t.equal((await fetch(`${next.httpUrl}/readyz`)).status, 200, 'once the first has stopped, the folder is free')
  t.equal(await next.stop(), 0)
})
