// TCP framing (docs/protocol.md, "Transports"): a 4-byte big-endian length, then that many bytes.

const HEADER_BYTES = 4

export class LengthPrefixDecoder {
  private readonly maxFrameBytes: number
  private readonly header = Buffer.alloc(HEADER_BYTES)
  private headerFilled = 0
  /** The frame being reassembled across chunks, or null between frames. */
  private body: Buffer | null = null
  private bodyFilled = 0
  private failed = false

  constructor (maxFrameBytes: number) {
    if (!Number.isInteger(maxFrameBytes) || maxFrameBytes < 0) {
      throw new RangeError(`maxFrameBytes must be a non-negative integer, got ${maxFrameBytes}`)
    }
    this.maxFrameBytes = maxFrameBytes
  }

  /**
   * Calls onFrame for each frame completed by `chunk`, in order. A frame lying wholly inside the chunk is
   * a subarray of it (no copy), so it is valid only as long as the chunk is; one spanning chunks is a
   * fresh buffer. After 'too-large' the stream cannot be resynchronised: every later push says so too.
   */
  push (chunk: Buffer, onFrame: (frame: Buffer) => void): 'ok' | 'too-large' {
    if (this.failed) return 'too-large'
    const end = chunk.length
    let pos = 0
    while (pos < end) {
      const body = this.body
      if (body !== null) {
        const take = Math.min(body.length - this.bodyFilled, end - pos)
        chunk.copy(body, this.bodyFilled, pos, pos + take)
        this.bodyFilled += take
        pos += take
        if (this.bodyFilled === body.length) {
          this.body = null
          onFrame(body)
        }
        continue
      }

      let length: number
      if (this.headerFilled === 0 && end - pos >= HEADER_BYTES) {
        length = chunk.readUInt32BE(pos)
        pos += HEADER_BYTES
        if (length > this.maxFrameBytes) return this.fail()
        if (end - pos >= length) {
          onFrame(chunk.subarray(pos, pos + length))
          pos += length
          continue
        }
      } else {
        while (this.headerFilled < HEADER_BYTES && pos < end) this.header[this.headerFilled++] = chunk[pos++]
        if (this.headerFilled < HEADER_BYTES) break
        this.headerFilled = 0
        length = this.header.readUInt32BE(0)
        if (length > this.maxFrameBytes) return this.fail()
        if (length === 0) {
          onFrame(this.header.subarray(0, 0))
          continue
        }
      }
      this.body = Buffer.allocUnsafe(length)
      this.bodyFilled = 0
    }
    return 'ok'
  }

  private fail (): 'too-large' {
    this.failed = true
    this.body = null
    return 'too-large'
  }
}

export function encodeLengthPrefixed (payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(HEADER_BYTES + payload.length)
  writeLengthPrefixed(out, 0, payload)
  return out
}

/** Writes one frame at `offset` and returns the offset after it; throws RangeError if it does not fit. */
export function writeLengthPrefixed (target: Buffer, offset: number, payload: Uint8Array): number {
  target.writeUInt32BE(payload.length, offset)
  target.set(payload, offset + HEADER_BYTES)
  return offset + HEADER_BYTES + payload.length
}
