// HTTP load for bench/http-login.ts, bench/http-auth-get.ts and bench/pull-api.ts, in its own process:
// one autocannon run per {t:'run'} message, cycling through the request variants it is given (each
// request takes the next: users, tokens, bodies), answering {t:'result', ...} with the summary.
import autocannon from 'autocannon'

export interface HttpVariant { method: string, path: string, headers?: Record<string, string>, body?: string }
export interface HttpRun { t: 'run', url: string, connections: number, pipelining: number, seconds: number, variants: HttpVariant[] }
export interface HttpResult { t: 'result', requests: number, rps: number, p50: number, p90: number, p99: number, max: number, errors: number, timeouts: number, non2xx: number, ok: number, seconds: number }

async function run (cmd: HttpRun): Promise<HttpResult> {
  let next = 0
  const variants = cmd.variants
  const result = await autocannon({
    url: cmd.url,
    connections: cmd.connections,
    pipelining: cmd.pipelining,
    duration: cmd.seconds,
    timeout: 30,
    requests: [{
      setupRequest: req => {
        const v = variants[next++ % variants.length]!
        return { ...req, method: v.method, path: v.path, headers: { ...req.headers, ...v.headers }, body: v.body }
      }
    }]
  })
  return {
    t: 'result',
    requests: result.requests.total,
    rps: result.requests.total / result.duration,
    p50: result.latency.p50,
    p90: result.latency.p90,
    p99: result.latency.p99,
    max: result.latency.max,
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    ok: result['2xx'],
    seconds: result.duration
  }
}

process.on('message', (cmd: HttpRun | { t: 'exit' }) => {
  if (cmd.t === 'run') run(cmd).then(r => process.send!(r), err => { console.error(err); process.exit(1) })
  else process.exit(0)
})
