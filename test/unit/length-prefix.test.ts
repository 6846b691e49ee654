import t from 'tap'
import { LengthPrefixDecoder, encodeLengthPrefixed, writeLengthPrefixed } from '@implus/client/wire'

const payloads = [
  Buffer.from('first'),
  Buffer.alloc(0),
  Buffer.from('第二帧 with some UTF-8'),
  Buffer.alloc(300, 7),
  Buffer.from([0, 0, 0, 1]),
]
const stream = Buffer.concat(payloads.map((p) => encodeLengthPrefixed(p)))

function decodeAll (chunks: Buffer[], max = 1024): { frames: Buffer[]; results: string[] } {
  const decoder = new LengthPrefixDecoder(max)
  const frames: Buffer[] = []
  // Copies, because a frame inside a chunk is a view of it: this proves the views were right at the time.
  const results = chunks.map((chunk) => decoder.push(chunk, (frame) => frames.push(Buffer.from(frame))))
  return { frames, results }
}

t.test('a stream split at every byte boundary decodes identically', async (t) => {
  let failures = 0
  for (let cut = 0; cut <= stream.length; cut++) {
    const { frames, results } = decodeAll([stream.subarray(0, cut), stream.subarray(cut)])
    if (results.some((r) => r !== 'ok') || frames.length !== payloads.length || frames.some((f, i) => !f.equals(payloads[i]))) {
      failures++
    }
  }
  t.equal(failures, 0)
})

t.test('one byte per chunk', async (t) => {
  const chunks = [...stream].map((b) => Buffer.of(b))
  const { frames } = decodeAll(chunks)
  t.same(frames, payloads)
})

t.test('coalesced frames come out as views of the chunk, in order', async (t) => {
  const decoder = new LengthPrefixDecoder(1024)
  const frames: Buffer[] = []
  t.equal(decoder.push(stream, (frame) => frames.push(frame)), 'ok')
  t.same(frames, payloads)
  t.ok(frames.every((f) => f.buffer === stream.buffer), 'no copies')
})

t.test('a frame over the limit is too-large, and stays so', async (t) => {
  const decoder = new LengthPrefixDecoder(10)
  let seen = 0
  t.equal(decoder.push(encodeLengthPrefixed(Buffer.alloc(10)), () => seen++), 'ok', 'at the limit')
  t.equal(decoder.push(encodeLengthPrefixed(Buffer.alloc(11)).subarray(0, 2), () => seen++), 'ok', 'header incomplete')
  t.equal(decoder.push(Buffer.of(0, 11), () => seen++), 'too-large', 'header completed')
  t.equal(decoder.push(encodeLengthPrefixed(Buffer.alloc(1)), () => seen++), 'too-large', 'later pushes')
  t.equal(seen, 1)
  t.equal(new LengthPrefixDecoder(10).push(Buffer.of(0xff, 0xff, 0xff, 0xff), () => seen++), 'too-large', 'whole header in one chunk')
})

t.test('writeLengthPrefixed batches frames into one buffer', async (t) => {
  const target = Buffer.alloc(stream.length)
  let offset = 0
  for (const p of payloads) offset = writeLengthPrefixed(target, offset, p)
  t.equal(offset, stream.length)
  t.ok(target.equals(stream))
  t.throws(() => writeLengthPrefixed(Buffer.alloc(5), 0, Buffer.alloc(2)), RangeError)
})
