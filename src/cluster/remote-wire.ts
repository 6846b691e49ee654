/**
 * Deliveries for another host, packed per turn into one pub/sub message:
 * records of [kind u8][targets][frame u32 len + bytes], where targets is one
 * user id (kinds USER, USER_TRACKED) or a u32 count of ids (MEMBERS); ids are
 * u8 length + ASCII digits.
 */
export const RemoteKind = Object.freeze({ USER: 1, USER_TRACKED: 2, MEMBERS: 3 })

export class RemoteBatchWriter {
  private chunks: Buffer[] = []
  private size = 0

  user (kind: number, userId: string, frame: Uint8Array): void {
    const head = Buffer.allocUnsafe(2 + userId.length)
    head[0] = kind
    head[1] = userId.length
    head.write(userId, 2, 'latin1')
    this.push(head, frame)
  }

  members (userIds: string[], frame: Uint8Array): void {
    let length = 5
    for (const id of userIds) length += 1 + id.length
    const head = Buffer.allocUnsafe(length)
    head[0] = RemoteKind.MEMBERS
    head.writeUInt32BE(userIds.length, 1)
    let at = 5
    for (const id of userIds) {
      head[at++] = id.length
      at += head.write(id, at, 'latin1')
    }
    this.push(head, frame)
  }

  take (): Buffer {
    const out = Buffer.concat(this.chunks, this.size)
    this.chunks = []
    this.size = 0
    return out
  }

  private push (head: Buffer, frame: Uint8Array): void {
    const length = Buffer.allocUnsafe(4)
    length.writeUInt32BE(frame.length, 0)
    this.chunks.push(head, length, Buffer.from(frame.buffer, frame.byteOffset, frame.length))
    this.size += head.length + 4 + frame.length
  }
}

export interface RemoteRecord {
  readonly kind: number
  readonly userIds: string[]
  readonly frame: Uint8Array
}

/** Reads a packed batch; stops at the first malformed or truncated record (a newer or broken host's). */
export function readRemoteBatch (data: Buffer, each: (record: RemoteRecord) => void): void {
  let at = 0
  const readId = (): string | null => {
    if (at >= data.length) return null
    const len = data[at++]!
    if (at + len > data.length) return null
    const id = data.toString('latin1', at, at + len)
    at += len
    return id
  }
  while (at < data.length) {
    const kind = data[at++]!
    const userIds: string[] = []
    if (kind === RemoteKind.MEMBERS) {
      if (at + 4 > data.length) return
      const count = data.readUInt32BE(at)
      at += 4
      // Each id takes at least one byte: a count beyond what is left is corrupt.
      if (count > data.length - at) return
      for (let i = 0; i < count; i++) {
        const id = readId()
        if (id === null) return
        userIds.push(id)
      }
    } else if (kind === RemoteKind.USER || kind === RemoteKind.USER_TRACKED) {
      const id = readId()
      if (id === null) return
      userIds.push(id)
    } else return
    if (at + 4 > data.length) return
    const frameLength = data.readUInt32BE(at)
    at += 4
    if (at + frameLength > data.length) return
    each({ kind, userIds, frame: data.subarray(at, at + frameLength) })
    at += frameLength
  }
}
