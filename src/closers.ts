import type { Logger } from './log.js'

/**
 * How the server stops: each component registers its closer where it is created (as fastify's onClose
 * hooks are), under the stage it belongs to. Stages run in this order; within a stage, `intake` and
 * `goodbye` run in the order registered (doors close in the order they were opened, the last word goes
 * out before the socket carrying it closes), `release` in reverse (what was acquired last is released
 * first: the database, opened early, closes last).
 */
export const CloseStage = Object.freeze({
  /** Stop taking new clients and frames. */
  INTAKE: 0,
  /** Finish what was accepted: shards commit and answer. */
  DRAIN: 1,
  /** Tell clients (1002) and other hosts this host is going. */
  GOODBYE: 2,
  /** Give back what was acquired: storage, pools, listeners. */
  RELEASE: 3
})
type Stage = typeof CloseStage[keyof typeof CloseStage]

export class Closers {
  private readonly stages: { name: string, close: () => unknown }[][] = [[], [], [], []]
  /** The closer being awaited: what a shutdown that overran its deadline was stuck in. */
  private running: string | null = null

  get current (): string | null {
    return this.running
  }

  add (stage: Stage, name: string, close: () => unknown): void {
    this.stages[stage]!.push({ name, close })
  }

  /** Runs every closer once, in order; one that fails is logged and the rest still run. */
  async closeAll (log: Logger): Promise<void> {
    for (let stage = 0; stage < this.stages.length; stage++) {
      const closers = stage === CloseStage.RELEASE ? [...this.stages[stage]!].reverse() : this.stages[stage]!
      for (const { name, close } of closers) {
        this.running = name
        const started = performance.now()
        try {
          await close()
        } catch (err) {
          log.warn({ err, closer: name }, 'a component did not close cleanly')
        }
        log.debug({ closer: name, ms: Math.round(performance.now() - started) }, 'closed')
      }
      this.stages[stage] = []
    }
    this.running = null
  }
}
