/**
 * Coalesces the calls made during one event-loop turn into one call of
 * `load` with every key, and hands each caller its own answer: many logins
 * in a storm cost one query, not one each.
 */
export class TurnBatcher<K, V> {
  private pending = new Map<K, { resolve: (v: V) => void, reject: (e: unknown) => void }[]>()
  private scheduled = false

  constructor (private readonly load: (keys: K[]) => Promise<Map<K, V>>, private readonly fallback: V) {}

  get (key: K): Promise<V> {
    return new Promise((resolve, reject) => {
      const waiting = this.pending.get(key)
      if (waiting !== undefined) waiting.push({ resolve, reject })
      else this.pending.set(key, [{ resolve, reject }])
      if (!this.scheduled) {
        this.scheduled = true
        setImmediate(() => void this.run())
      }
    })
  }

  private async run (): Promise<void> {
    this.scheduled = false
    const batch = this.pending
    this.pending = new Map()
    try {
      const values = await this.load([...batch.keys()])
      for (const [key, waiting] of batch) for (const w of waiting) w.resolve(values.get(key) ?? this.fallback)
    } catch (err) {
      for (const waiting of batch.values()) for (const w of waiting) w.reject(err)
    }
  }
}
