// Download load for bench/media.ts, in its own process: `connections` keep-alive connections, each GETting
// its path with its token back to back for `seconds`, bodies counted and dropped (node:http, no parsing or
// copying of the bytes: autocannon's per-chunk work capped large downloads at the client, not the server).
import { Agent, request } from 'node:http'

export interface DownloadRun { t: 'run', url: string, connections: number, seconds: number, requests: Array<{ path: string, token: string }> }
export interface DownloadResult { t: 'result', downloads: number, bytes: number, non200: number, errors: number, seconds: number, latenciesMs: number[] }

async function run (cmd: DownloadRun): Promise<DownloadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: cmd.connections, maxFreeSockets: cmd.connections })
  const started = Date.now()
  const until = started + cmd.seconds * 1000
  const result: DownloadResult = { t: 'result', downloads: 0, bytes: 0, non200: 0, errors: 0, seconds: 0, latenciesMs: [] }
  const one = (path: string, token: string): Promise<void> => new Promise(resolve => {
    const t0 = performance.now()
    const req = request(cmd.url + path, { agent, headers: { authorization: `Bearer ${token}` } }, res => {
      res.on('data', (chunk: Buffer) => { result.bytes += chunk.length })
      res.on('end', () => {
        if (res.statusCode === 200) {
          result.downloads++
          result.latenciesMs.push(performance.now() - t0)
        } else result.non200++
        resolve()
      })
      res.on('error', () => { result.errors++; resolve() })
    })
    req.on('error', () => { result.errors++; resolve() })
    req.end()
  })
  await Promise.all(Array.from({ length: cmd.connections }, async (_, c) => {
    for (let i = c; Date.now() < until; i += cmd.connections) {
      const r = cmd.requests[i % cmd.requests.length]!
      await one(r.path, r.token)
    }
  }))
  result.seconds = (Date.now() - started) / 1000
  agent.destroy()
  result.latenciesMs.sort((a, b) => a - b)
  return result
}

process.on('message', (cmd: DownloadRun | { t: 'exit' }) => {
  if (cmd.t === 'run') run(cmd).then(r => process.send!(r), err => { console.error(err); process.exit(1) })
  else process.exit(0)
})
