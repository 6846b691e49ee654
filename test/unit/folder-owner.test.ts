// src/db/folder-owner.ts: one server at a time on a data folder. A claim is held while the very process
// that wrote it runs (pid, start time, boot id); anything else is taken over. Linux /proc, real processes.
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { claimDataFolder } from '../../src/db/folder-owner.js'

function folder (t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'implus-owner-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** A claim as a live process `pid` would write it, with `change` applied to its fields. */
function claimOf (pid: number, change: Record<string, unknown> = {}): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const startTicks = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]
  const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()
  return JSON.stringify({ pid, startTicks, bootId, ...change })
}

t.test('a claim held by another live process is refused, naming it; the claim stays', async t => {
  const dir = folder(t)
  const other = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' })
  t.teardown(() => other.kill('SIGKILL'))
  await new Promise(resolve => other.once('spawn', resolve))
  writeFileSync(join(dir, 'implus.owner'), claimOf(other.pid!))
  await t.rejects(claimDataFolder(dir), { name: 'ConfigError', message: new RegExp(`is in use by the implus server running as pid ${other.pid}: stop that one first`) })
  t.equal(readFileSync(join(dir, 'implus.owner'), 'utf8'), claimOf(other.pid!), 'its claim is untouched')
  t.same(readdirSync(dir), ['implus.owner'], 'no draft is left')
})

t.test('claims that are not a live process are taken over, and the release removes only our own', async t => {
  const gone = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' })
  const gonePid = gone.pid!
  const goneClaim = await new Promise<string>(resolve => gone.once('spawn', () => resolve(claimOf(gonePid))))
  await new Promise(resolve => gone.once('exit', resolve))
  const stale: Array<[string, string]> = [
    ['a process that has exited', goneClaim],
    ['the same pid started at another time (reused)', claimOf(process.pid, { startTicks: '1' })],
    ['the same pid before a reboot', claimOf(process.pid, { bootId: 'another-boot' })],
    ['an old unreadable claim', 'not json']
  ]
  for (const [what, content] of stale) {
    const dir = folder(t)
    const file = join(dir, 'implus.owner')
    writeFileSync(file, content)
    if (content === 'not json') utimesSync(file, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000))
    const release = await claimDataFolder(dir)
    t.equal(readFileSync(file, 'utf8'), claimOf(process.pid), `${what}: taken over`)
    t.same(readdirSync(dir), ['implus.owner'], `${what}: no draft is left`)
    await release()
    t.same(readdirSync(dir), [], `${what}: released`)
  }

  const dir = folder(t)
  const release = await claimDataFolder(dir)
  writeFileSync(join(dir, 'implus.owner'), claimOf(process.pid, { startTicks: '1' }))
  await release()
  t.same(readdirSync(dir), ['implus.owner'], 'a release never removes a claim that is not ours')
})

t.test('an unreadable claim written just now counts as held: another server may be writing it', async t => {
  const dir = folder(t)
  writeFileSync(join(dir, 'implus.owner'), '')
  await t.rejects(claimDataFolder(dir), { name: 'ConfigError', message: /another server is claiming it right now/ })
})
