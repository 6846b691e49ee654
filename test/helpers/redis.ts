// A real redis-server for tests and benchmarks (Debian's package; `npm test` installs it if missing):
// no persistence, so a restart on the same port starts empty, and killed when the process exits.
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { onExit } from 'signal-exit'
import { freePort } from '../../src/net.js'

const running = new Set<ChildProcess>()
onExit(() => { for (const child of running) try { child.kill('SIGKILL') } catch {} })

export interface RedisServer {
  readonly child: ChildProcess
  readonly port: number
  readonly url: string
}

/** Resolves once the server logs that it accepts connections. */
export async function startRedis (port?: number): Promise<RedisServer> {
  port ??= await freePort()
  const child = spawn('/usr/bin/redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] })
  running.add(child)
  child.once('exit', () => running.delete(child))
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', line => { if (/Ready to accept connections/.test(line)) resolve() })
    child.once('exit', code => reject(new Error(`redis-server exited (${code}) before it was ready`)))
    child.once('error', reject)
  })
  return { child, port, url: `redis://127.0.0.1:${port}` }
}

/** SIGKILL (Redis gone at once, as in a crash), then waits for the exit. */
export async function killRedis (child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise(resolve => child.once('exit', resolve))
  child.kill('SIGKILL')
  await exited
}

/** Every redis-server this process started and that still runs. */
export async function killAllRedis (): Promise<void> {
  for (const child of [...running]) await killRedis(child)
}
