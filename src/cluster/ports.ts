/**
 * What one host and a cluster of hosts do differently, as small interfaces with a
 * single-host implementation here and a Redis one in `Cluster` (cluster.ts), the
 * way src/seq/ has one SeqEngine with two engines. Code outside src/cluster/ asks
 * these, never whether it runs in a cluster.
 */

/** Something every host must hear of; the host where it happened has applied it already. */
export type ClusterEvent =
  | { type: 'kick', userId: string, status: number, reason: string }
  | { type: 'userChanged', userId: string }
  | { type: 'groupChanged', conversationId: string }

/** Where users are connected. */
export interface SessionDirectory {
  /** This host's device count for a user changed (0 = gone from this host). */
  localSession (userId: string, devices: number): void
  /** A client heartbeat: its user's session stays registered. */
  touch (userId: string): void
  /** Devices of the user on every host. */
  devices (userId: string): Promise<number>
}

/** Events for the other hosts. */
export interface EventBus {
  publish (event: ClusterEvent): void
  /** Publishes and resolves once the event is on its way to every host (never rejects: failures are logged). */
  published (event: ClusterEvent): Promise<void>
}

/**
 * Pushes for users connected to other hosts. One host has none: Delivery then skips the lookups
 * altogether (it takes `null`), which keeps the per-frame path of a single host free of them.
 */
export interface RemoteDelivery {
  /** Hosts other than this one where the user has devices. */
  nodesOf (userId: string): ReadonlySet<string> | undefined
  /** A packed batch (remote-wire.ts) for one host. */
  deliver (node: string, data: Buffer): void
}

/** One host: this host's connections are all there is. */
export class LocalSessions implements SessionDirectory {
  constructor (private readonly devicesHere: (userId: string) => number) {}

  localSession (): void {}

  touch (): void {}

  async devices (userId: string): Promise<number> {
    return this.devicesHere(userId)
  }
}

/** One host: there is nobody else to tell. */
export const localEvents: EventBus = { publish: () => {}, published: async () => {} }
