import { Piscina } from 'piscina'
import type { PasswordTask } from '../workers/password.js'

/** Password hashing on a piscina pool: scrypt costs tens of milliseconds and must never run on the main thread. */
export class PasswordHasher {
  private readonly pool: Piscina<PasswordTask, string | boolean>

  constructor (private readonly cost: number, threads: number) {
    this.pool = new Piscina({
      filename: new URL('../workers/password.js', import.meta.url).href,
      minThreads: 1,
      maxThreads: threads,
      idleTimeout: 60_000
    })
  }

  async hash (password: string): Promise<string> {
    return await this.pool.run({ op: 'hash', password, cost: this.cost }) as string
  }

  async verify (password: string, hash: string): Promise<boolean> {
    return await this.pool.run({ op: 'verify', password, hash }) as boolean
  }

  close (): Promise<void> {
    return this.pool.destroy()
  }
}
