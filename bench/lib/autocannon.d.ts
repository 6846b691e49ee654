// The part of autocannon's programmatic API the benches use (the package ships no types).
declare module 'autocannon' {
  interface Request { method?: string, path?: string, headers?: Record<string, string>, body?: string }
  interface Options {
    url: string
    connections?: number
    pipelining?: number
    duration?: number
    workers?: number
    timeout?: number
    method?: string
    headers?: Record<string, string>
    body?: string
    requests?: { setupRequest?: (req: Request) => Request }[]
  }
  interface Stats { average: number, mean: number, stddev: number, min: number, max: number, total: number, p50: number, p90: number, p99: number, [k: string]: number }
  interface Result { requests: Stats, latency: Stats, throughput: Stats, errors: number, timeouts: number, non2xx: number, '2xx': number, duration: number }
  function autocannon (opts: Options): Promise<Result>
  export default autocannon
}
