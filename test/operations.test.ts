// What an operator meets: /metrics passes a Prometheus linter (test/helpers/promlint.ts, promtool's rules)
// after real traffic, the Grafana dashboard in deploy/ charts only metrics the server exports, logs are
// JSON lines (one pid each) when stdout is not a terminal, and on a real terminal (util-linux `script`
// gives the server a pseudo-terminal) readable lines and a banner whose first URL is the web page, which
// answers; Ctrl-C there drains and stops.
import t, { type Test } from 'tap'
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { MessageType, type ImConnection } from '@implus/client'
import { ROOT, MAIN, makeTempDir, registerAndLogin, runningPostmaster, startServer, type TestServer } from './helpers/server.js'
import { loggedIn } from './helpers/clients.js'
import { lintMetrics } from './helpers/promlint.js'

const sockets: ImConnection[] = []
let server: TestServer
t.before(async () => {
  server = await startServer({ env: { IMPLUS_PRIVATE_CHAT: 'open' } })
})
t.teardown(async () => {
  for (const s of sockets) s.close()
  await server?.stop()
})

/** Families the server registers only in cluster mode (REDIS_URL set). */
const CLUSTER_ONLY = new Set(['implus_redis_up'])

t.test('/metrics after real traffic passes the linter', async t => {
  const alice = await registerAndLogin(server)
  const bob = await registerAndLogin(server)
  const a = await loggedIn(server, alice, sockets)
  await loggedIn(server, bob, sockets)
  a.send({ type: MessageType.PRIVATE_CHAT, toId: bob.userId, content: 'for the histograms', clientSeq: 'ops-1' })
  const receipt = await a.next(f => f.clientSeq === 'ops-1')
  t.equal(receipt.type, MessageType.MESSAGE_SEND_RECEIPT, 'a message was stored')

  const res = await fetch(`${server.httpUrl}/metrics`)
  t.equal(res.status, 200)
  t.match(res.headers.get('content-type'), /^text\/plain; version=0\.0\.4/)
  const { families, problems } = lintMetrics(await res.text())
  t.same(problems, [], 'no problems')
  const byName = new Map(families.map(f => [f.name, f]))
  t.equal(byName.get('process_cpu_seconds_total')?.type, 'COUNTER', 'process CPU time is a counter')
  t.equal(byName.get('implus_send_seconds')?.type, 'HISTOGRAM', 'send latency is a histogram')
  t.equal(byName.get('implus_postgres_up')?.metrics[0]?.value, '1', 'PostgreSQL is up')

  // The linter itself: each rule is seen to fire, so a pass above means something.
  const bad = lintMetrics([
    '# HELP requests Requests.', '# TYPE requests counter', 'requests 1',
    '# HELP up_total Up.', '# TYPE up_total gauge', 'up_total 1',
    '# HELP latency_milliseconds Latency.', '# TYPE latency_milliseconds gauge', 'latency_milliseconds{requestPath="/"} 1',
    '# HELP h H.', '# TYPE h histogram', 'h_bucket{le="1"} 2', 'h_bucket{le="+Inf"} 1', 'h_sum 1', 'h_count 3',
    '# HELP requests Again.', ''
  ].join('\n')).problems.map(p => `${p.metric}: ${p.text}`)
  for (const want of [/requests: counter metrics should have "_total" suffix/, /up_total: non-counter metrics should not have "_total"/,
    /latency_milliseconds: use base unit "seconds"/, /camelCase.*requestPath/, /h: .*not cumulative/, /h: .*_count differs/, /requests: second HELP/]) {
    t.ok(bad.some(p => want.test(p)), `the linter reports ${want}`)
  }
})

t.test('the Grafana dashboard charts exported metrics only', async t => {
  const dashboard = JSON.parse(readFileSync(join(ROOT, 'deploy', 'grafana-dashboard.json'), 'utf8'))
  const exported = new Set(lintMetrics(await (await fetch(`${server.httpUrl}/metrics`)).text()).families.map(f => f.name))
  const exprs: string[] = dashboard.panels.flatMap((p: { targets?: Array<{ expr: string }> }) => (p.targets ?? []).map(x => x.expr))
  t.ok(exprs.length >= 8, `the dashboard has queries (${exprs.length})`)
  const used = new Set(exprs.flatMap(e => [...e.matchAll(/\b((?:implus|process|nodejs|http)_[a-z0-9_]+)/g)].map(m => m[1].replace(/_(bucket|sum|count)$/, ''))))
  for (const name of used) t.ok(exported.has(name) || CLUSTER_ONLY.has(name), `${name} is exported`)
  for (const must of ['implus_connections', 'implus_shard_messages_total', 'implus_send_seconds', 'implus_shard_queued_frames', 'implus_postgres_up', 'implus_redis_up']) {
    t.ok(used.has(must), `the dashboard charts ${must}`)
  }
})

t.test('logs are JSON lines with one pid each when stdout is not a terminal', async t => {
  t.ok(server.lines.length > 3, 'lines were logged')
  for (const line of server.lines) {
    const parsed = JSON.parse(line)
    t.equal(line.match(/"pid":/g)?.length, 1, `one pid: ${parsed.msg}`)
  }
  const listening = server.logs.find(l => l.msg === 'implus listening')
  t.equal(listening?.web, `${server.httpUrl}/`, 'the start line names the web page')
})

// Both ways a person starts it. Under `npm start` the terminal's Ctrl-C reaches npm and the server, and
// npm passes its own on to the server as well: the server must take the two for one (exit 0, not 130).
const TERMINAL_STARTS: Array<[string, string]> = [
  ['node dist/main.js', `${JSON.stringify(process.execPath)} ${JSON.stringify(MAIN)}`],
  ['npm start', 'npm start']
]
for (const [how, command] of TERMINAL_STARTS) {
  t.test(`${how} on a terminal: readable lines, a banner with the web page first, Ctrl-C stops`, async t => await onTerminal(t, command))
}

async function onTerminal (t: Test, command: string): Promise<void> {
  const dataDir = makeTempDir()
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('IMPLUS_') && !k.startsWith('TAP') && k !== 'NODE_OPTIONS' && k !== 'LOG_FORMAT') env[k] = v
  Object.assign(env, { IMPLUS_DATA_DIR: dataDir, IMPLUS_HTTP_PORT: '0', IMPLUS_WS_PORT: '0', IMPLUS_TCP_PORT: '0', IMPLUS_UDP_PORT: '0', IMPLUS_SCRYPT_COST: '10', LOG_LEVEL: 'info' })
  // `script` runs the server on a pseudo-terminal and copies its stdin there, so a written ^C is a real Ctrl-C.
  // It runs the command with `$SHELL -c`, pinned here to /bin/sh as in CI. On Debian that is dash, which
  // stays the server's parent, takes the Ctrl-C too and exits 130 whatever the server exits with; `exec`
  // hands the process over to the server, so the exit code seen is the server's, as a person sees it.
  env.SHELL = '/bin/sh'
  const child = spawn('script', ['-qfec', `exec ${command}`, '/dev/null'], { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] })
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  let output = ''
  child.stdout.setEncoding('utf8')
  const bannerShown = new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: string) => {
      output += chunk
      // eslint-disable-next-line no-control-regex
      const plain = output.replace(/\x1b\[[0-9;]*m/g, '')
      if (/UDP\s+udp:\/\//.test(plain)) resolve(plain)
    })
    child.once('exit', code => reject(new Error(`the server exited (${code}) before its banner:\n${output}`)))
  })
  const exited = new Promise<number | null>(resolve => child.once('exit', resolve))
  const plain = await bannerShown
  t.match(output, /\x1b\[/, 'in colour') // eslint-disable-line no-control-regex
  t.notMatch(plain, /^\{"level"/m, 'no JSON lines')
  t.match(plain, /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: starting/m, 'log lines are readable: time, level, message')
  const bannerText = plain.slice(plain.indexOf(' is ready'))
  const urls = [...bannerText.matchAll(/(?:http|ws|tcp|udp):\/\/localhost:\d+\S*/g)].map(m => m[0])
  t.match(urls[0], /^http:\/\/localhost:\d+\/$/, 'the first URL is the web page, on localhost')
  t.notMatch(plain, /0\.0\.0\.0/, 'no wildcard address shown anywhere')
  const page = await fetch(urls[0].replace('localhost', '127.0.0.1'))
  t.equal(page.status, 200, 'the web page answers')
  t.match(await page.text(), /<html/i)
  t.ok(urls.some(u => u.endsWith('/openapi.json')) && urls.some(u => u.startsWith('ws://')), 'API reference and WebSocket URLs shown')

  // A terminal signals its foreground process group; PostgreSQL must not be in it (no controlling terminal
  // at all), or a Ctrl-C stops it under the server's drain.
  const postmaster = runningPostmaster(dataDir)
  t.not(postmaster, null, 'the embedded PostgreSQL runs')
  t.equal(controllingTerminal(postmaster!), 0, 'the embedded PostgreSQL has no controlling terminal: a Ctrl-C there reaches the server alone')

  const beforeCtrlC = output.length
  child.stdin.write('\x03')
  const code = await exited
  // The exit code is in the assertion's name so that a CI summary which lists only names still shows it.
  t.equal(code, 0, `Ctrl-C drains and stops with 0 (exited ${code})`, code === 0 ? {} : { output: output.slice(-4000) })
  t.match(output, /draining/)
  t.match(output, /stopped/)
  t.notMatch(output, /Ctrl-C again/, 'one Ctrl-C, taken once')
  t.notMatch(output.slice(beforeCtrlC), /ERROR|WARN/, 'the drain logged no error: its database stayed up until the end')
  t.equal(runningPostmaster(dataDir), null, 'the server stopped its PostgreSQL')
}

/** tty_nr from /proc/<pid>/stat: the device of the process's controlling terminal, 0 if it has none. */
function controllingTerminal (pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // The fields after the command name (which is in parentheses and may hold spaces): state ppid pgrp session tty_nr …
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[4])
}
