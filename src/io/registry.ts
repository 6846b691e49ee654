import type { Connection } from './connection.js'

/**
 * Who is connected to this host: connection id → connection and user →
 * devices. Deliveries look users up here; the device cap is enforced here.
 */
export class SessionRegistry {
  private readonly byId = new Map<number, Connection>()
  private readonly byUser = new Map<string, Connection[]>()
  private nextId = 1

  constructor (private readonly maxDevices: number) {}

  newId (): number {
    // Ids wrap well before 2^31 so they fit the int32 delivery index; a live id is never handed out twice.
    do {
      this.nextId = this.nextId >= 0x7ffffff0 ? 1 : this.nextId + 1
    } while (this.byId.has(this.nextId))
    return this.nextId
  }

  track (conn: Connection): void {
    this.byId.set(conn.id, conn)
  }

  connection (id: number): Connection | undefined {
    return this.byId.get(id)
  }

  devices (userId: string): readonly Connection[] {
    return this.byUser.get(userId) ?? EMPTY
  }

  get connections (): IterableIterator<Connection> {
    return this.byId.values()
  }

  get size (): number {
    return this.byId.size
  }

  get users (): number {
    return this.byUser.size
  }

  /** Adds a logged-in connection; returns the oldest device when the user is over the cap, and whether the user just came online. */
  bind (conn: Connection): { evicted: Connection | null, cameOnline: boolean } {
    let list = this.byUser.get(conn.userId)
    const cameOnline = list === undefined
    // A literal holds one slot; `[]` then push reserves 17 (152 bytes per user, most have one device).
    if (list === undefined) this.byUser.set(conn.userId, list = [conn])
    else list.push(conn)
    const evicted = list.length > this.maxDevices ? list[0]! : null
    return { evicted, cameOnline }
  }

  /** Forgets a connection; returns true when it was its user's last one. */
  remove (conn: Connection): boolean {
    if (!this.byId.delete(conn.id) || conn.userId === '') return false
    const list = this.byUser.get(conn.userId)
    if (list === undefined) return false
    const at = list.indexOf(conn)
    if (at < 0) return false
    list.splice(at, 1)
    if (list.length > 0) return false
    this.byUser.delete(conn.userId)
    return true
  }
}

const EMPTY: readonly Connection[] = Object.freeze([])
