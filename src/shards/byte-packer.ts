/**
 * Frame bytes collected during a turn for one transfer to another thread:
 * appended into one growing buffer, taken as a right-sized copy (which is
 * transferred) while the buffer is kept for the next turn. Allocating a fresh
 * zeroed buffer of the full capacity every turn cost more than copying the
 * bytes used. Both directions of the thread boundary pack with it.
 */
export class BytePacker {
  private data = new Uint8Array(64 * 1024)
  private used = 0

  get empty (): boolean {
    return this.used === 0
  }

  /** Appends the bytes; returns their offset in what take() will return. */
  append (bytes: Uint8Array): number {
    const at = this.used
    if (at + bytes.length > this.data.length) {
      const grown = new Uint8Array(Math.max(this.data.length * 2, at + bytes.length))
      grown.set(this.data.subarray(0, at))
      this.data = grown
    }
    this.data.set(bytes, at)
    this.used = at + bytes.length
    return at
  }

  /** Everything appended since the last take, in a buffer of its own. */
  take (): Uint8Array {
    const bytes = this.data.slice(0, this.used)
    this.used = 0
    return bytes
  }
}
