import type postgres from 'postgres'
import type { Sql } from '../db/connect.js'

// The first key of implus's advisory locks on node slots (the second is the slot): 'implus' in ASCII.
const LOCK_SPACE = 0x696d70

/**
 * A second claim on a node slot, independent of Redis: a PostgreSQL session
 * advisory lock, held on one reserved connection for the host's life. Every
 * host of a cluster shares the database, and the lock outlives Redis losing
 * its data, so a host starting while a slot's Redis lease is missing cannot
 * take a slot a live host still uses. PostgreSQL drops the lock when the
 * holder's connection ends (its process died).
 */
export class SlotFence {
  private session: postgres.ReservedSql<Record<string, never>> | null = null

  constructor (private readonly sql: Sql) {}

  /**
   * True when this host now holds the lock on its node id; false when a live host (another session) uses
   * the same IMPLUS_NODE_ID. The key is 64 bits of the id's MD5, in the single-bigint key space, which
   * PostgreSQL keeps apart from the two-integer slot locks.
   */
  async holdNodeId (nodeId: string): Promise<boolean> {
    this.session ??= await this.sql.reserve()
    const [row] = await this.session<{ held: boolean }[]>`
      select pg_try_advisory_lock(('x' || substr(md5(${'implus-node:' + nodeId}), 1, 16))::bit(64)::bigint) as held`
    return row!.held
  }

  /** True when this host now holds the slot's lock; false when another host's session does. */
  async hold (slot: number): Promise<boolean> {
    this.session ??= await this.sql.reserve()
    const [row] = await this.session<{ held: boolean }[]>`select pg_try_advisory_lock(${LOCK_SPACE}, ${slot}) as held`
    return row!.held
  }

  async release (slot: number): Promise<void> {
    if (this.session !== null) await this.session`select pg_advisory_unlock(${LOCK_SPACE}, ${slot})`
  }

  /** Gives every slot lock up and returns the connection to the pool. */
  async close (): Promise<void> {
    if (this.session === null) return
    await this.session`select pg_advisory_unlock_all()`
    this.session.release()
    this.session = null
  }
}
