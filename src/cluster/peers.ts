/**
 * Which other hosts have which users: this host's replica of the cluster's
 * session map, fed by presence messages and rebuilt from Redis after any
 * outage. Both directions are kept, so a delivery asks `nodesOf` in one lookup.
 */
export class Peers {
  private readonly usersOf = new Map<string, Set<string>>()
  private readonly nodesOfUser = new Map<string, Set<string>>()

  /** Hosts other than this one where the user has devices. */
  nodesOf (userId: string): ReadonlySet<string> | undefined {
    return this.nodesOfUser.get(userId)
  }

  knows (node: string): boolean {
    return this.usersOf.has(node)
  }

  nodes (): IterableIterator<string> {
    return this.usersOf.keys()
  }

  /** A live host with no users known yet. */
  join (node: string): void {
    if (!this.usersOf.has(node)) this.usersOf.set(node, new Set())
  }

  add (userId: string, node: string): void {
    let users = this.usersOf.get(node)
    if (users === undefined) this.usersOf.set(node, users = new Set())
    users.add(userId)
    let nodes = this.nodesOfUser.get(userId)
    if (nodes === undefined) this.nodesOfUser.set(userId, nodes = new Set())
    nodes.add(node)
  }

  drop (userId: string, node: string): void {
    this.usersOf.get(node)?.delete(userId)
    const nodes = this.nodesOfUser.get(userId)
    if (nodes === undefined) return
    nodes.delete(node)
    if (nodes.size === 0) this.nodesOfUser.delete(userId)
  }

  /** Forgets a host and its users; returns how many it had, or -1 when it was not known. */
  forget (node: string): number {
    const users = this.usersOf.get(node)
    if (users === undefined) return -1
    this.usersOf.delete(node)
    for (const userId of users) this.drop(userId, node)
    return users.size
  }

  clear (): void {
    this.usersOf.clear()
    this.nodesOfUser.clear()
  }
}
