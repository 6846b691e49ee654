import t from 'tap'
import { newFramePeek, peekFrame, type FramePeek } from '../../src/io/frame-peek.js'
import { decodeFrame, encodeFrame, type Frame } from '@implus/client'

// Seeded, so a failure replays exactly.
function mulberry32 (seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

const random = mulberry32(0x1a2b3c)
const int = (n: number): number => Math.floor(random() * n)
const alphabets = ['abcXYZ0189_-', '你好世界群聊', 'é€😀\u0000\u007f', 'x'.repeat(5)]

function randomString (): string {
  const alphabet = [...alphabets[int(alphabets.length)]]
  const length = int(4) === 0 ? 40 + int(300) : int(25)
  let s = ''
  for (let i = 0; i < length; i++) s += alphabet[int(alphabet.length)]
  return s
}

function randomFrame (): Frame {
  const frame: Frame = {}
  const maybe = (): boolean => random() < 0.6
  if (maybe()) frame.type = [2001, 3001, 3002, 1009, -1, 0x7fffffff][int(6)]
  if (maybe()) frame.content = randomString()
  if (maybe()) frame.fromId = randomString()
  if (maybe()) frame.toId = randomString()
  if (maybe()) frame.uid = randomString()
  if (maybe()) frame.seq = randomString()
  if (maybe()) frame.timestamp = int(2 ** 52)
  if (maybe()) frame.retry = int(4)
  if (maybe()) frame.token = randomString()
  if (maybe()) frame.conversationId = randomString()
  if (maybe()) frame.clientSeq = randomString()
  if (maybe()) frame.userSeq = int(2 ** 40) - 2 ** 20
  if (maybe()) frame.readReceipt = { conversationId: randomString(), lastReadSeq: int(1000) }
  if (maybe()) frame.readNotification = { conversationId: randomString(), msgId: randomString(), readCount: int(9) }
  if (maybe()) frame.errorCode = 413
  if (maybe()) frame.deviceId = randomString()
  return frame
}

function expected (bytes: Uint8Array): FramePeek {
  const d = decodeFrame(bytes)
  return {
    type: d.type,
    fromId: d.fromId,
    toId: d.toId,
    conversationId: d.conversationId,
    token: d.token,
    uid: d.uid,
    contentBytes: Buffer.byteLength(d.content, 'utf8'),
    clientSeq: d.clientSeq,
  }
}

t.test('agrees with decodeFrame on random frames', async (t) => {
  const out = newFramePeek()
  let mismatches = 0
  for (let i = 0; i < 2000; i++) {
    const bytes = encodeFrame(randomFrame())
    if (!peekFrame(bytes, out) || JSON.stringify(out) !== JSON.stringify(expected(bytes))) {
      mismatches++
      if (mismatches === 1) t.same(out, expected(bytes), 'first mismatch')
    }
  }
  t.equal(mismatches, 0)
})

t.test('the last occurrence of a field wins, as in decodeFrame', async (t) => {
  const bytes = Buffer.concat([encodeFrame({ fromId: 'first', type: 1 }), encodeFrame({ fromId: 'second', type: 2 })])
  const out = newFramePeek()
  t.ok(peekFrame(bytes, out))
  t.same(out, expected(bytes))
})

t.test('resets out before scanning', async (t) => {
  const out = newFramePeek()
  t.ok(peekFrame(encodeFrame({ type: 3001, fromId: 'a', content: 'hello' }), out))
  t.ok(peekFrame(encodeFrame({ toId: 'b' }), out))
  t.same(out, { ...newFramePeek(), toId: 'b' })
})

t.test('skips unknown fields of every valid wire type', async (t) => {
  // Fields 17-19 are not in the .proto; each tag takes two varint bytes.
  const tag = (field: number, wire: number): number[] => [((field << 3) | wire) & 0x7f | 0x80, (field << 3) >> 7]
  const unknown = Uint8Array.from([
    ...tag(17, 0), 0x96, 0x01,
    ...tag(18, 1), 1, 2, 3, 4, 5, 6, 7, 8,
    ...tag(19, 2), 2, 0xff, 0xff,
    ...tag(17, 5), 1, 2, 3, 4,
  ])
  const bytes = Buffer.concat([unknown, encodeFrame({ type: 2003, uid: 'u' })])
  const out = newFramePeek()
  t.ok(peekFrame(bytes, out))
  t.same(out, expected(bytes))
})

t.test('rejects malformed input', async (t) => {
  const cases: [string, number[]][] = [
    ['truncated varint value', [0x08, 0x80]],
    ['truncated tag', [0x80]],
    ['varint longer than 10 bytes', [0x08, ...Array<number>(10).fill(0xff), 0x01]],
    ['length past the end', [0x12, 0x05, 0x61]],
    ['huge length', [0x12, 0xff, 0xff, 0xff, 0xff, 0x0f]],
    ['truncated fixed64', [0x09, 1, 2, 3]],
    ['truncated fixed32', [0x0d, 1, 2]],
    ['wire type 3', [0x0b]],
    ['wire type 4', [0x0c]],
    ['wire type 6', [0x0e, 0]],
    ['wire type 7', [0x0f, 0]],
    ['field number 0', [0x00, 0x01]],
  ]
  t.plan(cases.length)
  const out = newFramePeek()
  for (const [name, bytes] of cases) t.equal(peekFrame(Uint8Array.from(bytes), out), false, name)
})

t.test('every truncation of a frame is rejected or agrees with decodeFrame', async (t) => {
  const bytes = encodeFrame({ type: 3001, fromId: '12', toId: '34', content: '消息内容', clientSeq: 'c-1', timestamp: 2 ** 45 })
  const out = newFramePeek()
  let disagreements = 0
  for (let cut = 0; cut < bytes.length; cut++) {
    const prefix = bytes.subarray(0, cut)
    if (peekFrame(prefix, out) && JSON.stringify(out) !== JSON.stringify(expected(prefix))) disagreements++
  }
  t.equal(disagreements, 0)
})

t.test('never throws on random bytes', async (t) => {
  const out = newFramePeek()
  let threw = 0
  for (let i = 0; i < 10_000; i++) {
    const bytes = new Uint8Array(int(64))
    for (let j = 0; j < bytes.length; j++) bytes[j] = int(256)
    try {
      peekFrame(bytes, out)
    } catch {
      threw++
    }
  }
  t.equal(threw, 0)
})
