// A tiny typed event emitter that runs in Node and browsers alike (no node:events). A listener that
// throws does not stop the others or the client: the error goes to 'error' listeners (if the failing
// listener was itself on 'error', it is dropped).

export type Listener<A extends unknown[]> = (...args: A) => void

export type EventMap = { [event: string]: unknown[] }

export class TypedEmitter<E extends EventMap> {
  readonly #listeners = new Map<keyof E, Set<Listener<never[]>>>()

  /** Adds a listener; returns the function that removes it. */
  on<K extends keyof E>(event: K, listener: Listener<E[K]>): () => void {
    let set = this.#listeners.get(event)
    if (set === undefined) {
      set = new Set()
      this.#listeners.set(event, set)
    }
    set.add(listener as unknown as Listener<never[]>)
    return () => this.off(event, listener)
  }

  /** Like on(), removed after the first call. */
  once<K extends keyof E>(event: K, listener: Listener<E[K]>): () => void {
    const off = this.on(event, ((...args: E[K]) => {
      off()
      listener(...args)
    }) as Listener<E[K]>)
    return off
  }

  off<K extends keyof E>(event: K, listener: Listener<E[K]>): void {
    this.#listeners.get(event)?.delete(listener as unknown as Listener<never[]>)
  }

  listenerCount<K extends keyof E>(event: K): number {
    return this.#listeners.get(event)?.size ?? 0
  }

  protected emit<K extends keyof E>(event: K, ...args: E[K]): void {
    const set = this.#listeners.get(event)
    if (set === undefined || set.size === 0) return
    for (const listener of [...set]) {
      try {
        ;(listener as unknown as Listener<E[K]>)(...args)
      } catch (error) {
        if (event !== 'error') this.emit('error' as K, ...([error instanceof Error ? error : new Error(String(error))] as unknown as E[K]))
      }
    }
  }
}
