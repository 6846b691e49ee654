// Reads the few ChatMessage fields the main thread routes on, straight off the wire, so the full decode
// can happen once, in the shard worker that owns the conversation. Field numbers: proto/chat_message.proto.

export interface FramePeek {
  type: number
  fromId: string
  toId: string
  conversationId: string
  token: string
  uid: string
  /** Byte length of `content` (UTF-8), for the size limit without decoding it. */
  contentBytes: number
  clientSeq: string
}

export function newFramePeek (): FramePeek {
  return { type: 0, fromId: '', toId: '', conversationId: '', token: '', uid: '', contentBytes: 0, clientSeq: '' }
}

const FIELD_TYPE = 1
const FIELD_CONTENT = 2
const FIELD_FROM_ID = 3
const FIELD_TO_ID = 4
const FIELD_UID = 5
const FIELD_TOKEN = 9
const FIELD_CONVERSATION_ID = 10
const FIELD_CLIENT_SEQ = 11

const WIRE_VARINT = 0
const WIRE_FIXED64 = 1
const WIRE_BYTES = 2
const WIRE_FIXED32 = 5

// Varint results come back through module state rather than a returned object: no allocation per field.
let varintLow = 0 // low 32 bits, unsigned
let varintHigh = false // any bit at or above 2^32 set
let cursor = 0

/** Reads a varint at `cursor`; false if it runs past `end` or beyond 10 bytes. */
function readVarint (bytes: Uint8Array, end: number): boolean {
  let pos = cursor
  let low = 0
  let high = false
  for (let shift = 0; shift < 70; shift += 7) {
    if (pos >= end) return false
    const b = bytes[pos++]
    if (shift < 28) low |= (b & 0x7f) << shift
    else if (shift === 28) {
      low |= (b & 0x0f) << 28
      if ((b & 0x70) !== 0) high = true
    } else if ((b & 0x7f) !== 0) high = true
    if (b < 0x80) {
      varintLow = low >>> 0
      varintHigh = high
      cursor = pos
      return true
    }
  }
  return false
}

const SHORT_ASCII = 32
const utf8 = new TextDecoder('utf-8', { ignoreBOM: true })

function readString (bytes: Uint8Array, start: number, end: number): string {
  // Ids and clientSeqs are short ASCII; building them by hand beats a TextDecoder call and the subarray
  // view it needs, which only longer or non-ASCII strings pay for.
  if (end - start <= SHORT_ASCII) {
    let s = ''
    for (let i = start; i < end; i++) {
      const c = bytes[i]
      if (c >= 0x80) return utf8.decode(bytes.subarray(start, end))
      s += String.fromCharCode(c)
    }
    return s
  }
  return utf8.decode(bytes.subarray(start, end))
}

/**
 * Resets `out`, then fills it from the top-level fields of `bytes` (the last occurrence of a field wins,
 * as in any protobuf decoder). Returns false on malformed input, leaving `out` partly filled.
 */
export function peekFrame (bytes: Uint8Array, out: FramePeek): boolean {
  out.type = 0
  out.fromId = ''
  out.toId = ''
  out.conversationId = ''
  out.token = ''
  out.uid = ''
  out.contentBytes = 0
  out.clientSeq = ''

  const end = bytes.length
  cursor = 0
  while (cursor < end) {
    if (!readVarint(bytes, end) || varintHigh) return false
    const field = varintLow >>> 3
    const wire = varintLow & 7
    if (field === 0) return false
    switch (wire) {
      case WIRE_VARINT:
        if (!readVarint(bytes, end)) return false
        // int32 takes the low 32 bits, sign included (negatives travel as 10-byte varints).
        if (field === FIELD_TYPE) out.type = varintLow | 0
        break
      case WIRE_FIXED64:
        if (end - cursor < 8) return false
        cursor += 8
        break
      case WIRE_FIXED32:
        if (end - cursor < 4) return false
        cursor += 4
        break
      case WIRE_BYTES: {
        if (!readVarint(bytes, end) || varintHigh || varintLow > end - cursor) return false
        const start = cursor
        const stop = start + varintLow
        cursor = stop
        switch (field) {
          case FIELD_CONTENT: out.contentBytes = stop - start; break
          case FIELD_FROM_ID: out.fromId = readString(bytes, start, stop); break
          case FIELD_TO_ID: out.toId = readString(bytes, start, stop); break
          case FIELD_UID: out.uid = readString(bytes, start, stop); break
          case FIELD_TOKEN: out.token = readString(bytes, start, stop); break
          case FIELD_CONVERSATION_ID: out.conversationId = readString(bytes, start, stop); break
          case FIELD_CLIENT_SEQ: out.clientSeq = readString(bytes, start, stop); break
        }
        break
      }
      default:
        // 3 and 4 are proto2 groups, which proto3 never emits; 6 and 7 do not exist.
        return false
    }
  }
  return true
}
