import { Piscina } from 'piscina'
import type { PasswordTask } from '../workers/password.js'
import { AppError, Status } from '../errors.js'

// Hashes waiting per thread before new ones are refused: at ~80 ms each, about 2.5 s of backlog.
const QUEUED_PER_THREAD = 32

/**
 * Password hashing on a piscina pool: scrypt costs tens of milliseconds and must never run on the main
 * thread. The queue is bounded: a flood of logins gets 503 at once rather than minutes of backlog.
 */
export class PasswordHasher {
  private readonly pool: Piscina<PasswordTask, string | boolean>

  constructor (private readonly cost: number, threads: number, maxQueue = QUEUED_PER_THREAD * threads) {
    this.pool = new Piscina({
      filename: new URL('../workers/password.js', import.meta.url).href,
      minThreads: 1,
      maxThreads: threads,
      maxQueue,
      idleTimeout: 60_000
    })
  }

  async hash (password: string): Promise<string> {
    return await this.run({ op: 'hash', password, cost: this.cost }) as string
  }

  async verify (password: string, hash: string): Promise<boolean> {
    return await this.run({ op: 'verify', password, hash }) as boolean
  }

  private async run (task: PasswordTask): Promise<string | boolean> {
    try {
      return await this.pool.run(task)
    } catch (err) {
      if ((err as Error).message === 'Task queue is at limit') throw new AppError(Status.UNAVAILABLE, 'too many password checks waiting; retry shortly')
      throw err
    }
  }

  close (): Promise<void> {
    return this.pool.destroy()
  }
}
