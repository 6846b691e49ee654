import { readFileSync } from 'node:fs'
import type { ChainableCommander, Redis } from 'ioredis'
import type { Logger } from '../log.js'
import { MAX_NODE_SLOTS } from '../snowflake.js'
import { AppError, Status } from '../errors.js'
import type { SlotFence } from './slot-fence.js'
import { ConfigError } from '../config.js'
import type { ClusterEvent, EventBus, RemoteDelivery, SessionDirectory } from './ports.js'

const NODE_TTL_S = 10
const HEARTBEAT_MS = 3000
// Longer than the server's idle timeout (180 s): a connected client that heartbeats (every 30 s)
// keeps its session; one that stops is disconnected before its session could expire under it.
const SESSION_TTL_S = 200
const PRESENCE_CHANNEL = 'implus:presence'
const EVENTS_CHANNEL = 'implus:events'
const nodeKey = (node: string): string => `implus:node:${node}`
const nodeUsersKey = (node: string): string => `implus:node-users:${node}`
const slotKey = (slot: number): string => `implus:node-slot:${slot}`
const sessionKey = (userId: string): string => `session:${userId}`
const deliveryChannel = (node: string): string => `implus:deliver:${node}`

export interface ClusterHandlers {
  /** A batch of deliveries another host sent to this one. */
  remoteDelivery (data: Buffer): void
  event (event: ClusterEvent): void
  /** Another host holds this host's node slot: message ids could collide, so this host must stop. */
  slotLost (owner: string): void
}

const RENEW_SLOT = readFileSync(new URL('./renew-slot.lua', import.meta.url), 'utf8')
const RELEASE_SLOT = readFileSync(new URL('./release-slot.lua', import.meta.url), 'utf8')

type SlotPipeline = ChainableCommander & {
  renewSlot (key: string, nodeId: string, ttl: number): ChainableCommander
  releaseSlot (key: string, nodeId: string): ChainableCommander
}

/**
 * This host's membership of the cluster, over Redis: a node slot for message
 * ids, a liveness key, the session registry (`session:{userId}` → node →
 * devices, TTL refreshed while connected), a replicated map of which other
 * hosts have which users (fed by pub/sub, rebuilt after any Redis outage),
 * per-node delivery channels and a cluster-wide event channel.
 */
export class Cluster implements SessionDirectory, EventBus, RemoteDelivery {
  slot = -1
  /** Another host took this host's slot: it announces nothing more while it stops. */
  private slotTaken = false
  private readonly remote = new Map<string, Set<string>>()
  private readonly nodesOfUser = new Map<string, Set<string>>()
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
    redis.defineCommand('renewSlot', { numberOfKeys: 1, lua: RENEW_SLOT })
    redis.defineCommand('releaseSlot', { numberOfKeys: 1, lua: RELEASE_SLOT })
  }

  /** Takes a node slot (message ids need one before the shards start). */
  async join (): Promise<void> {
    // Two live hosts under one name would share its delivery channel, user set and liveness key, and the
    // first to stop would report the other gone.
    if (!await this.fence.holdNodeId(this.nodeId)) {
      throw new ConfigError(`IMPLUS_NODE_ID ${this.nodeId} is in use by a live host of this cluster: give every host its own IMPLUS_NODE_ID`)
    }
    await this.checkShardCount()
    this.slot = await this.claimSlot()
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
    await this.redis.sadd('implus:nodes', this.nodeId)
    await this.rebuildRemote()
    this.redis.on('ready', () => void this.resync())
    this.timers.push(setInterval(() => void this.heartbeat(), HEARTBEAT_MS))
    for (const t of this.timers) t.unref()
  }

  /** Hosts other than this one where the user has devices. */
  nodesOf (userId: string): ReadonlySet<string> | undefined {
    return this.nodesOfUser.get(userId)
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
      if (node === this.nodeId || this.remote.has(node)) total += Number(count)
    }
    return total
  }

  deliver (node: string, data: Buffer): void {
    this.redis.publish(deliveryChannel(node), data).catch(err => this.log.warn({ err: err.message, node }, 'cross-node delivery failed; pull will cover it'))
  }

  publish (event: ClusterEvent): void {
    this.redis.publish(EVENTS_CHANNEL, JSON.stringify({ origin: this.nodeId, ...event })).catch(err => this.log.warn({ err: err.message }, 'cluster event not published'))
  }

  async stop (): Promise<void> {
    for (const t of this.timers) clearInterval(t)
    try {
      const pipeline = this.redis.pipeline() as SlotPipeline
      for (const userId of this.localDevices.keys()) pipeline.hdel(sessionKey(userId), this.nodeId)
      pipeline.del(nodeUsersKey(this.nodeId), nodeKey(this.nodeId))
      pipeline.releaseSlot(slotKey(this.slot), this.nodeId)
      pipeline.srem('implus:nodes', this.nodeId)
      await pipeline.exec()
      await this.redis.publish(PRESENCE_CHANNEL, JSON.stringify({ node: this.nodeId, gone: true }))
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'could not deregister from the cluster; its keys will expire')
    }
    // After the lease: a host claiming the slot from now on finds neither.
    await this.fence.close().catch(err => this.log.warn({ err: (err as Error).message }, 'node slot lock not released; PostgreSQL drops it with the connection'))
  }

  /**
   * Message ids need a node slot no live host shares. A slot is a lease in Redis, renewed by the
   * heartbeat, and a lock in PostgreSQL (the fence), taken first: after Redis lost its data the
   * lease is gone but the lock still shows the slot in use.
   */
  private async claimSlot (): Promise<number> {
    for (let slot = 0; slot < MAX_NODE_SLOTS; slot++) {
      const owner = await this.redis.get(slotKey(slot))
      if (owner !== null && owner !== this.nodeId) continue
      if (!await this.fence.hold(slot)) continue
      if (owner === this.nodeId || await this.redis.set(slotKey(slot), this.nodeId, 'EX', NODE_TTL_S, 'NX') === 'OK') return slot
      await this.fence.release(slot)
    }
    throw new Error(`no free node slot: at most ${MAX_NODE_SLOTS} hosts may run at once`)
  }

  /**
   * A pipeline that renews this host's slot lease (its first reply), liveness key (slot and shard
   * count) and entry in the node set.
   */
  private announcement (): ChainableCommander {
    return (this.redis.pipeline() as SlotPipeline).renewSlot(slotKey(this.slot), this.nodeId, NODE_TTL_S)
      .set(nodeKey(this.nodeId), `${this.slot}:${this.shards}`, 'EX', NODE_TTL_S)
      .sadd('implus:nodes', this.nodeId)
  }

  /** Runs an announcement; false when another host holds this host's slot (then slotLost was called once). */
  private async announce (pipeline: ChainableCommander): Promise<boolean> {
    if (this.slotTaken) return false
    const [renewed] = (await pipeline.exec())!
    const owner = renewed?.[0] === null ? renewed[1] as string : ''
    if (owner === '') return true
    this.slotTaken = true
    this.log.fatal({ slot: this.slot, owner }, 'another host holds this host\'s node slot (claimed while Redis had lost its data)')
    this.handlers.slotLost(owner)
    return false
  }

  private async heartbeat (): Promise<void> {
    try {
      if (!await this.announce(this.announcement().expire(nodeUsersKey(this.nodeId), SESSION_TTL_S))) return
      const nodes = [...new Set([...await this.otherNodes(), ...this.remote.keys()])]
      const liveness = await this.livenessOf(nodes)
      for (let i = 0; i < nodes.length; i++) {
        const node = nodes[i]!
        if (liveness[i] !== null) {
          this.missed.delete(node)
          if (!this.remote.has(node)) await this.learnNode(node)
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
    this.remote.set(node, new Set())
    for (const userId of await this.redis.smembers(nodeUsersKey(node))) this.addNodeOf(userId, node)
  }

  private forgetNode (node: string, why: string): void {
    const users = this.remote.get(node)
    if (users === undefined) return
    this.remote.delete(node)
    for (const userId of users) this.dropNodeOf(userId, node)
    this.log.warn({ node, users: users.size, why }, 'cluster host gone; its users will reconnect elsewhere')
    this.redis.pipeline().srem('implus:nodes', node).del(nodeUsersKey(node)).exec().catch(() => {})
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
    this.remote.clear()
    this.nodesOfUser.clear()
    for (let i = 0; i < nodes.length; i++) if (liveness[i] !== null) await this.learnNode(nodes[i]!)
  }

  /** Every other host that has registered (alive or not). */
  private async otherNodes (): Promise<string[]> {
    return (await this.redis.smembers('implus:nodes')).filter(n => n !== this.nodeId)
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
      for (const userId of change.online ?? []) this.addNodeOf(userId, change.node)
      for (const userId of change.offline ?? []) this.dropNodeOf(userId, change.node)
      return
    }
    if (channel === EVENTS_CHANNEL) {
      const event = JSON.parse(message.toString()) as ClusterEvent & { origin: string }
      if (event.origin !== this.nodeId) this.handlers.event(event)
      return
    }
    this.handlers.remoteDelivery(message)
  }

  private addNodeOf (userId: string, node: string): void {
    let users = this.remote.get(node)
    if (users === undefined) {
      users = new Set()
      this.remote.set(node, users)
    }
    users.add(userId)
    let nodes = this.nodesOfUser.get(userId)
    if (nodes === undefined) {
      nodes = new Set()
      this.nodesOfUser.set(userId, nodes)
    }
    nodes.add(node)
  }

  private dropNodeOf (userId: string, node: string): void {
    this.remote.get(node)?.delete(userId)
    const nodes = this.nodesOfUser.get(userId)
    if (nodes === undefined) return
    nodes.delete(node)
    if (nodes.size === 0) this.nodesOfUser.delete(userId)
  }
}
