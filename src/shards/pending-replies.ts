/**
 * Requests posted to another thread and answered by id (shard calls from the
 * main thread, sequence requests from a shard): the one table of what is
 * still waiting. `ask` numbers a request and posts it; the answer settles it.
 */
export class PendingReplies<T> {
  private readonly waiting = new Map<number, { resolve: (value: T) => void, reject: (err: Error) => void }>()
  private nextId = 1

  ask (post: (id: number) => void): Promise<T> {
    const id = this.nextId++
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject })
      post(id)
    })
  }

  resolve (id: number, value: T): void {
    this.take(id)?.resolve(value)
  }

  reject (id: number, err: Error): void {
    this.take(id)?.reject(err)
  }

  private take (id: number): { resolve: (value: T) => void, reject: (err: Error) => void } | undefined {
    const pending = this.waiting.get(id)
    this.waiting.delete(id)
    return pending
  }
}
