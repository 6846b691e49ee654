import type { ChainableCommander, Redis } from 'ioredis'
import type { Logger } from '../log.js'
import { AppError, Status } from '../errors.js'
import type { SlotFence } from './slot-fence.js'
import { ConfigError } from '../config.js'
import type { ClusterEvent, EventBus, RemoteDelivery, SessionDirectory } from './ports.js'
import { NodeSlot } from './node-slot.js'
import { Peers } from './peers.js'
import {
  EVENTS_CHANNEL, HEARTBEAT_MS, NODE_TTL_S, NODES_KEY, PRESENCE_CHANNEL, SESSION_TTL_S, deliveryChannel, nodeKey, nodeUsersKey, sessionKey
} from './keys.js'

export interface ClusterHandlers {
  /** A batch of deliveries another host sent to this one. */
  remoteDelivery (data: Buffer): void
  event (event: ClusterEvent): void
  /** Another host holds this host's node slot: message ids could collide, so this host must stop. */
  slotLost (owner: string): void
}

/**
 * This host's membership of the cluster, over Redis: a node slot for message
 * ids (node-slot.ts), a liveness key, the session registry (`session:{userId}`
 * → node → devices, TTL refreshed while connected), a replica of which other
 * hosts have which users (peers.ts: fed by pub/sub, rebuilt after any Redis
 * outage), per-node delivery channels and a cluster-wide event channel
 * (keys.ts names them all).
 */
export class Cluster implements SessionDirectory, EventBus, RemoteDelivery {
  /** Another host took this host's slot: it announces nothing more while it stops. */
  private slotTaken = false
  private readonly nodeSlot: NodeSlot
  private readonly peers = new Peers()
  private readonly localDevices = new Map<string, number>()
  private readonly missed = new Map<string, number>()
  private changedLocal = new Set<string>()
  private touched = new Set<string>()
  private flushScheduled = false
  private timers: NodeJS.Timeout[] = []

  constructor (
    readonly nodeId: string,
    private readonly shards: number,
    private readonly redis: Redis,
    private readonly sub: Redis,
    private readonly handlers: ClusterHandlers,
    private readonly fence: SlotFence,
    private readonly log: Logger
  ) {
    this.nodeSlot = new NodeSlot(redis, fence, nodeId)
  }

  /** This host's node slot (message ids need it before the shards start); -1 before join. */
  get slot (): number {
    return this.nodeSlot.slot
  }

  /** Takes a node slot (message ids need one before the shards start). */
  async join (): Promise<void> {
    // Two live hosts under one name would share its delivery channel, user set and liveness key, and the
    // first to stop would report the other gone.
    if (!await this.fence.holdNodeId(this.nodeId)) {
      throw new ConfigError(`IMPLUS_NODE_ID ${this.nodeId} is in use by a live host of this cluster: give every host its own IMPLUS_NODE_ID`)
    }
    await this.checkShardCount()
    await this.nodeSlot.claim()
    await this.heartbeat()
  }

  /**
   * A msgId carries the shard that sent it, and any host routes the ACK for it by those bits: hosts
   * with different shard counts would route ACKs to the wrong shard, or to none.
   */
  private async checkShardCount (): Promise<void> {
    const nodes = await this.otherNodes()
    const liveness = await this.livenessOf(nodes)
    for (let i = 0; i < nodes.length; i++) {
      const node = nodes[i]!
      // No count: a host from before this check (a rolling upgrade) or one gone since the listing.
      const count = liveness[i]?.split(':')[1]
      if (count === undefined) continue
      const shards = Number(count)
      if (shards !== this.shards) {
        throw new Error(`IMPLUS_SHARDS is ${this.shards} here but live host ${node} runs ${shards}: every host of a cluster needs the same IMPLUS_SHARDS`)
      }
    }
  }

  /** Starts exchanging presence, deliveries and events: call once this host can deliver. */
  async start (): Promise<void> {
    await this.sub.subscribe(deliveryChannel(this.nodeId), PRESENCE_CHANNEL, EVENTS_CHANNEL)
    this.sub.on('messageBuffer', (channel: Buffer, message: Buffer) => this.onMessage(channel.toString(), message))
    await this.redis.sadd(NODES_KEY, this.nodeId)
    await this.rebuildRemote()
    this.redis.on('ready', () => void this.resync())
    this.timers.push(setInterval(() => void this.heartbeat(), HEARTBEAT_MS))
    for (const t of this.timers) t.unref()
  }

  /** Hosts other than this one where the user has devices. */
  nodesOf (userId: string): ReadonlySet<string> | undefined {
    return this.peers.nodesOf(userId)
  }

  /** This host's device count for a user changed (0 = gone from this host). */
  localSession (userId: string, devices: number): void {
    if (devices === 0) this.localDevices.delete(userId)
    else this.localDevices.set(userId, devices)
    this.changedLocal.add(userId)
    this.scheduleFlush()
  }

  /** A client heartbeat: its user's session TTL is refreshed (batched with this turn's other changes). */
  touch (userId: string): void {
    this.touched.add(userId)
    this.scheduleFlush()
  }

  private scheduleFlush (): void {
    if (this.flushScheduled) return
    this.flushScheduled = true
    setImmediate(() => void this.flushSessions())
  }

  /** Devices of the user on every live host. */
  async devices (userId: string): Promise<number> {
    let fields: Record<string, string>
    try {
      fields = await this.redis.hgetall(sessionKey(userId))
    } catch (err) {
      throw new AppError(Status.UNAVAILABLE, `session registry unavailable: ${(err as Error).message}`)
    }
    let total = 0
    for (const [node, count] of Object.entries(fields)) {
      if (node === this.nodeId || this.peers.knows(node)) total += Number(count)
    }
    return total
  }

  deliver (node: string, data: Buffer): void {
    this.redis.publish(deliveryChannel(node), data).catch(err => this.log.warn({ err: err.message, node }, 'cross-node delivery failed; pull will cover it'))
  }

  publish (event: ClusterEvent): void {
    void this.published(event)
  }

  /** Publishes the event; resolves once Redis took it (never rejects: a failure is logged). */
  async published (event: ClusterEvent): Promise<void> {
    try {
      await this.redis.publish(EVENTS_CHANNEL, JSON.stringify({ origin: this.nodeId, ...event }))
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'cluster event not published')
    }
  }

  async stop (): Promise<void> {
    for (const t of this.timers) clearInterval(t)
    try {
      const pipeline = this.redis.pipeline()
      for (const userId of this.localDevices.keys()) pipeline.hdel(sessionKey(userId), this.nodeId)
      pipeline.del(nodeUsersKey(this.nodeId), nodeKey(this.nodeId))
      this.nodeSlot.release(pipeline)
      pipeline.srem(NODES_KEY, this.nodeId)
      await pipeline.exec()
      await this.redis.publish(PRESENCE_CHANNEL, JSON.stringify({ node: this.nodeId, gone: true }))
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'could not deregister from the cluster; its keys will expire')
    }
    await this.nodeSlot.unlock().catch(err => this.log.warn({ err: (err as Error).message }, 'node slot lock not released; PostgreSQL drops it with the connection'))
  }

  /**
   * A pipeline that renews this host's slot lease (its first reply), liveness key (slot and shard
   * count) and entry in the node set.
   */
  private announcement (): ChainableCommander {
    return this.nodeSlot.renewal()
      .set(nodeKey(this.nodeId), `${this.slot}:${this.shards}`, 'EX', NODE_TTL_S)
      .sadd(NODES_KEY, this.nodeId)
  }

  /** Runs an announcement; false when another host holds this host's slot (then slotLost was called once). */
  private async announce (pipeline: ChainableCommander): Promise<boolean> {
    if (this.slotTaken) return false
    const owner = NodeSlot.owner((await pipeline.exec())!)
    if (owner === '') return true
    this.slotTaken = true
    this.log.fatal({ slot: this.slot, owner }, 'another host holds this host\'s node slot (claimed while Redis had lost its data)')
    this.handlers.slotLost(owner)
    return false
  }

  private async heartbeat (): Promise<void> {
    try {
      if (!await this.announce(this.announcement().expire(nodeUsersKey(this.nodeId), SESSION_TTL_S))) return
      const nodes = [...new Set([...await this.otherNodes(), ...this.peers.nodes()])]
      const liveness = await this.livenessOf(nodes)
      for (let i = 0; i < nodes.length; i++) {
        const node = nodes[i]!
        if (liveness[i] !== null) {
          this.missed.delete(node)
          if (!this.peers.knows(node)) await this.learnNode(node)
          continue
        }
        // Two missed beats, not one: after Redis lost its data every host rewrites its key within a beat.
        const missed = (this.missed.get(node) ?? 0) + 1
        this.missed.set(node, missed)
        if (missed >= 2) {
          this.missed.delete(node)
          this.forgetNode(node, 'liveness key expired')
        }
      }
    } catch {
      // Redis away: the connection logs it; state is rebuilt on 'ready'.
    }
  }

  /** A live host this one does not know (it joined, or this host missed its presence): read its users. */
  private async learnNode (node: string): Promise<void> {
    this.peers.join(node)
    for (const userId of await this.redis.smembers(nodeUsersKey(node))) this.peers.add(userId, node)
  }

  private forgetNode (node: string, why: string): void {
    const users = this.peers.forget(node)
    if (users < 0) return
    this.log.warn({ node, users, why }, 'cluster host gone; its users will reconnect elsewhere')
    this.redis.pipeline().srem(NODES_KEY, node).del(nodeUsersKey(node)).exec().catch(() => {})
  }

  private async flushSessions (): Promise<void> {
    this.flushScheduled = false
    const changed = this.changedLocal
    this.changedLocal = new Set()
    const touched = this.touched
    this.touched = new Set()
    const online: string[] = []
    const offline: string[] = []
    const pipeline = this.redis.pipeline()
    for (const userId of touched) if (!changed.has(userId) && this.localDevices.has(userId)) pipeline.expire(sessionKey(userId), SESSION_TTL_S)
    for (const userId of changed) {
      const devices = this.localDevices.get(userId) ?? 0
      if (devices > 0) {
        pipeline.hset(sessionKey(userId), this.nodeId, devices).expire(sessionKey(userId), SESSION_TTL_S).sadd(nodeUsersKey(this.nodeId), userId)
        online.push(userId)
      } else {
        pipeline.hdel(sessionKey(userId), this.nodeId).srem(nodeUsersKey(this.nodeId), userId)
        offline.push(userId)
      }
    }
    if (online.length > 0 || offline.length > 0) pipeline.publish(PRESENCE_CHANNEL, JSON.stringify({ node: this.nodeId, online, offline }))
    try {
      await pipeline.exec()
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'session registry not updated; it is rewritten when Redis returns')
    }
  }

  /** Rewrites every session of this host (after Redis came back, possibly empty). */
  private async refreshSessions (): Promise<void> {
    try {
      const pipeline = this.redis.pipeline()
      for (const [userId, devices] of this.localDevices) pipeline.hset(sessionKey(userId), this.nodeId, devices).expire(sessionKey(userId), SESSION_TTL_S)
      await pipeline.exec()
    } catch {
      // Retried in full on the next reconnect.
    }
  }

  /** After Redis came back (possibly empty): re-assert this host and re-read everyone else. */
  private async resync (): Promise<void> {
    try {
      const pipeline = this.announcement()
      for (const userId of this.localDevices.keys()) pipeline.sadd(nodeUsersKey(this.nodeId), userId)
      // Every host re-announces all its users: hosts that rebuilt before this one wrote its keys learn them here.
      pipeline.publish(PRESENCE_CHANNEL, JSON.stringify({ node: this.nodeId, online: [...this.localDevices.keys()], offline: [] }))
      if (!await this.announce(pipeline)) return
      await this.refreshSessions()
      await this.rebuildRemote()
      this.log.info({ users: this.localDevices.size }, 'cluster state re-registered after Redis reconnect')
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'cluster resync failed; retrying on next reconnect')
    }
  }

  private async rebuildRemote (): Promise<void> {
    const nodes = await this.otherNodes()
    const liveness = await this.livenessOf(nodes)
    this.peers.clear()
    for (let i = 0; i < nodes.length; i++) if (liveness[i] !== null) await this.learnNode(nodes[i]!)
  }

  /** Every other host that has registered (alive or not). */
  private async otherNodes (): Promise<string[]> {
    return (await this.redis.smembers(NODES_KEY)).filter(n => n !== this.nodeId)
  }

  /** Each host's liveness key (`slot:shards`; null once expired), in one round trip. */
  private async livenessOf (nodes: readonly string[]): Promise<(string | null)[]> {
    if (nodes.length === 0) return []
    const pipeline = this.redis.pipeline()
    for (const node of nodes) pipeline.get(nodeKey(node))
    return (await pipeline.exec())!.map(([err, value]) => {
      if (err !== null) throw err
      return value as string | null
    })
  }

  private onMessage (channel: string, message: Buffer): void {
    if (channel === PRESENCE_CHANNEL) {
      const change = JSON.parse(message.toString()) as { node: string, online?: string[], offline?: string[], gone?: boolean }
      if (change.node === this.nodeId) return
      if (change.gone === true) return this.forgetNode(change.node, 'host left the cluster')
      for (const userId of change.online ?? []) this.peers.add(userId, change.node)
      for (const userId of change.offline ?? []) this.peers.drop(userId, change.node)
      return
    }
    if (channel === EVENTS_CHANNEL) {
      const event = JSON.parse(message.toString()) as ClusterEvent & { origin: string }
      if (event.origin !== this.nodeId) this.handlers.event(event)
      return
    }
    this.handlers.remoteDelivery(message)
  }
}
