// The cluster's own presence announcements (the `implus:presence` channel), observed by a test: a host
// publishes one after writing the session registry, so once a test sees it, the other hosts have it too.
import { Redis } from 'ioredis'

export interface PresenceEvent { node: string, online?: string[], offline?: string[], gone?: boolean }

export class PresenceWatch {
  /** Every announcement so far, in order. */
  readonly log: PresenceEvent[] = []
  private readonly waiters = new Set<() => void>()

  private constructor (private readonly subscriber: Redis) {}

  static async start (redisUrl: string): Promise<PresenceWatch> {
    const subscriber = new Redis(redisUrl, { lazyConnect: true })
    await subscriber.connect()
    const watch = new PresenceWatch(subscriber)
    subscriber.on('message', (_channel: string, message: string) => {
      watch.log.push(JSON.parse(message) as PresenceEvent)
      for (const check of [...watch.waiters]) check()
    })
    await subscriber.subscribe('implus:presence')
    return watch
  }

  /** Resolves once `node` has announced `userId` online in an event after position `since` of the log. */
  announced (node: string, userId: string, since: number, timeoutMs = 10_000): Promise<void> {
    const seen = (): boolean => this.log.slice(since).some(e => e.node === node && e.online?.includes(userId) === true)
    if (seen()) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!seen()) return
        this.waiters.delete(check)
        clearTimeout(timer)
        resolve()
      }
      const timer = setTimeout(() => {
        this.waiters.delete(check)
        reject(new Error(`${node} did not announce ${userId} online within ${timeoutMs} ms`))
      }, timeoutMs)
      this.waiters.add(check)
    })
  }

  stop (): void {
    this.subscriber.disconnect()
  }
}
