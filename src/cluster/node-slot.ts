import { readFileSync } from 'node:fs'
import type { ChainableCommander, Redis } from 'ioredis'
import { MAX_NODE_SLOTS } from '../snowflake.js'
import { NODE_TTL_S, slotKey } from './keys.js'
import type { SlotFence } from './slot-fence.js'

const RENEW_SLOT = readFileSync(new URL('./renew-slot.lua', import.meta.url), 'utf8')
const RELEASE_SLOT = readFileSync(new URL('./release-slot.lua', import.meta.url), 'utf8')

type SlotPipeline = ChainableCommander & {
  renewSlot (key: string, nodeId: string, ttl: number): ChainableCommander
  releaseSlot (key: string, nodeId: string): ChainableCommander
}

/**
 * A host's node slot: the part of every message id that no live host may share. A slot is a lease in
 * Redis, renewed by the heartbeat, and a lock in PostgreSQL (the fence), taken first: after Redis lost its
 * data the lease is gone but the lock still shows the slot in use.
 */
export class NodeSlot {
  slot = -1

  constructor (private readonly redis: Redis, private readonly fence: SlotFence, private readonly nodeId: string) {
    redis.defineCommand('renewSlot', { numberOfKeys: 1, lua: RENEW_SLOT })
    redis.defineCommand('releaseSlot', { numberOfKeys: 1, lua: RELEASE_SLOT })
  }

  async claim (): Promise<number> {
    for (let slot = 0; slot < MAX_NODE_SLOTS; slot++) {
      const owner = await this.redis.get(slotKey(slot))
      if (owner !== null && owner !== this.nodeId) continue
      if (!await this.fence.hold(slot)) continue
      if (owner === this.nodeId || await this.redis.set(slotKey(slot), this.nodeId, 'EX', NODE_TTL_S, 'NX') === 'OK') {
        this.slot = slot
        return slot
      }
      await this.fence.release(slot)
    }
    throw new Error(`no free node slot: at most ${MAX_NODE_SLOTS} hosts may run at once`)
  }

  /**
   * A pipeline whose first command renews the lease; its reply is '' or the host that holds the slot
   * instead (it claimed it while Redis had lost its data: see owner()).
   */
  renewal (): ChainableCommander {
    return (this.redis.pipeline() as SlotPipeline).renewSlot(slotKey(this.slot), this.nodeId, NODE_TTL_S)
  }

  /** The renewal's first reply: another host holding this slot, or '' when it is still this host's. */
  static owner (results: [Error | null, unknown][]): string {
    const [renewed] = results
    return renewed?.[0] === null ? renewed[1] as string : ''
  }

  /** Adds giving the lease up (only if this host still holds it) to a pipeline. */
  release (pipeline: ChainableCommander): ChainableCommander {
    return (pipeline as SlotPipeline).releaseSlot(slotKey(this.slot), this.nodeId)
  }

  /** After the lease: a host claiming the slot from now on finds neither. */
  async unlock (): Promise<void> {
    await this.fence.close()
  }
}
