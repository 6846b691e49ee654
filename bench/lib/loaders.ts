import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { cpuSeconds, postgresCpuSeconds } from './report.js'
import type { HttpResult, HttpRun } from '../http-load.js'

/** Forks a `-load` companion (built beside the scenario in .bench-build/bench/). */
export function forkLoad (name: string, url: string | URL): ChildProcess {
  return fork(fileURLToPath(new URL(`./${name}.mjs`, url)))
}

/** Sends one command and resolves with the next message; rejects if the process exits first. */
export function ask<T> (child: ChildProcess, message: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    const exited = (code: number | null): void => reject(new Error(`load process ${child.pid} exited with ${code}`))
    child.once('exit', exited)
    child.once('message', answer => {
      child.removeListener('exit', exited)
      resolve(answer as T)
    })
    child.send(message as never)
  })
}

export function endAll (children: ChildProcess[]): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      try { child.send({ t: 'exit' }) } catch {}
      setTimeout(() => { try { child.kill('SIGKILL') } catch {} }, 5000).unref()
    }
  }
}

/** One autocannon run in an http-load process, with the server's and PostgreSQL's CPU over it. */
export async function cannon (loader: ChildProcess, serverPid: number, pgDir: string, run: Omit<HttpRun, 't'>): Promise<HttpResult & { serverCpu: number, pgCpu: number, loaderCpu: number }> {
  const before = { server: cpuSeconds(serverPid), pg: postgresCpuSeconds(pgDir), loader: cpuSeconds(loader.pid!) }
  const started = Date.now()
  const result = await ask<HttpResult>(loader, { t: 'run', ...run })
  const wall = (Date.now() - started) / 1000
  return {
    ...result,
    serverCpu: (cpuSeconds(serverPid) - before.server) / wall * 100,
    pgCpu: (postgresCpuSeconds(pgDir) - before.pg) / wall * 100,
    loaderCpu: (cpuSeconds(loader.pid!) - before.loader) / wall * 100
  }
}

/** The columns every autocannon scenario reports, from one `cannon` run. */
export function cannonColumns (r: Awaited<ReturnType<typeof cannon>>): Record<string, number> {
  return {
    'req/s': Math.round(r.rps),
    'p50 ms': r.p50,
    'p99 ms': r.p99,
    'max ms': r.max,
    '2xx': r.ok,
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
    'server cpu %': Math.round(r.serverCpu),
    'postgres cpu %': Math.round(r.pgCpu),
    'autocannon cpu %': Math.round(r.loaderCpu)
  }
}

/**
 * Calls `sendOne(i)` at `rate` per second for `seconds`, then resolves with the count sent. Paced by
 * the clock, not by tick count: late timer ticks must not lower the offered rate.
 */
export function paced (rate: number, seconds: number, sendOne: (i: number) => void): Promise<number> {
  const started = Date.now()
  let sent = 0
  return new Promise(resolve => {
    const timer = setInterval(() => {
      const elapsed = Date.now() - started
      if (elapsed >= seconds * 1000) {
        clearInterval(timer)
        return resolve(sent)
      }
      for (const due = Math.floor(rate * elapsed / 1000); sent < due; sent++) sendOne(sent)
    }, 10)
  })
}
