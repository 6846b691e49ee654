import { Redis } from 'ioredis'
import type { Logger } from '../log.js'

/**
 * A Redis connection that fails fast: while Redis is away, commands reject at
 * once (sends answer 503) instead of queueing without bound, and the client
 * keeps reconnecting in the background so the host recovers by itself.
 */
export function connectRedis (url: string, name: string, log: Logger): Redis {
  const redis = new Redis(url, {
    connectionName: name,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: times => Math.min(50 * 2 ** times, 2000),
    lazyConnect: false
  })
  let down = false
  redis.on('error', err => {
    if (!down) log.error({ err: err.message, name }, 'Redis connection lost; retrying')
    down = true
  })
  redis.on('ready', () => {
    if (down) log.info({ name }, 'Redis connection restored')
    down = false
  })
  return redis
}

/** Resolves when the connection is ready (start-up waits for Redis once; later outages fail fast). */
export function redisReady (redis: Redis, timeoutMs = 10_000): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve()
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Redis not reachable within ${timeoutMs} ms`)), timeoutMs)
    redis.once('ready', () => {
      clearTimeout(timer)
      resolve()
    })
  })
}
