/** The cluster's Redis keys, channels and lifetimes, in one place. */

/** A host's liveness key and slot lease live this long unless renewed by its heartbeat. */
export const NODE_TTL_S = 10
export const HEARTBEAT_MS = 3000
// Longer than the server's idle timeout (180 s): a connected client that heartbeats (every 30 s)
// keeps its session; one that stops is disconnected before its session could expire under it.
export const SESSION_TTL_S = 200

/** Every host that registered (alive or not). */
export const NODES_KEY = 'implus:nodes'
/** Hosts announce users coming online and going offline here, and their leaving. */
export const PRESENCE_CHANNEL = 'implus:presence'
/** ClusterEvents (ports.ts). */
export const EVENTS_CHANNEL = 'implus:events'
/** A host's liveness: `slot:shards`. */
export const nodeKey = (node: string): string => `implus:node:${node}`
/** The users connected to a host. */
export const nodeUsersKey = (node: string): string => `implus:node-users:${node}`
/** The lease of a node slot: the host holding it. */
export const slotKey = (slot: number): string => `implus:node-slot:${slot}`
/** A user's devices per host. */
export const sessionKey = (userId: string): string => `session:${userId}`
/** Packed deliveries for one host (remote-wire.ts). */
export const deliveryChannel = (node: string): string => `implus:deliver:${node}`
