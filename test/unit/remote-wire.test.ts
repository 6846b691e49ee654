// Cross-host delivery batches (src/cluster/remote-wire.ts): writer and reader agree; bad input stops the reader quietly.
import t from 'tap'
import { RemoteBatchWriter, RemoteKind, readRemoteBatch, type RemoteRecord } from '../../src/cluster/remote-wire.js'

interface Plain { kind: number, userIds: string[], frame: number[] }
const plain = (r: RemoteRecord): Plain => ({ kind: r.kind, userIds: r.userIds, frame: [...r.frame] })

function readAll (data: Buffer): Plain[] {
  const out: Plain[] = []
  readRemoteBatch(data, r => out.push(plain(r)))
  return out
}

const ids = (n: number, from = 1n): string[] => Array.from({ length: n }, (_, i) => String(from + BigInt(i) * 7919n))

/** A batch of all three kinds, and the records it should read back as. */
function sample (): { data: Buffer, expected: Plain[] } {
  const w = new RemoteBatchWriter()
  const expected: Plain[] = []
  const add = (kind: number, userIds: string[], frame: Uint8Array): void => {
    if (kind === RemoteKind.MEMBERS) w.members(userIds, frame)
    else w.user(kind, userIds[0], frame)
    expected.push({ kind, userIds, frame: [...frame] })
  }
  add(RemoteKind.USER, ['9223372036854775807'], Uint8Array.from([8, 1, 16, 2]))
  add(RemoteKind.MEMBERS, ids(300, 1_000_000_000_000_000_000n), Uint8Array.from({ length: 700 }, (_, i) => i & 0xff))
  add(RemoteKind.USER_TRACKED, ['42'], Uint8Array.from([1, 2, 3]))
  add(RemoteKind.MEMBERS, ['5'], new Uint8Array(0))
  add(RemoteKind.USER, ['1'], Uint8Array.from([255]))
  return { data: w.take(), expected }
}

t.test('kinds', async t => {
  t.plan(2)
  t.same(RemoteKind, { USER: 1, USER_TRACKED: 2, MEMBERS: 3 })
  t.ok(Object.isFrozen(RemoteKind))
})

t.test('round trip of USER, USER_TRACKED and MEMBERS records, in order', async t => {
  t.plan(1)
  const { data, expected } = sample()
  t.same(readAll(data), expected)
})

t.test('MEMBERS with many ids (10,000 of up to 19 digits)', async t => {
  t.plan(3)
  const members = [...ids(5000), ...ids(5000, 9_000_000_000_000_000_000n)]
  const w = new RemoteBatchWriter()
  const frame = Buffer.from('a group notification frame')
  w.members(members, frame)
  const got = readAll(w.take())
  t.equal(got.length, 1)
  t.same(got[0].userIds, members)
  t.same(Buffer.from(got[0].frame), frame)
})

t.test('MEMBERS with no ids', async t => {
  t.plan(1)
  const w = new RemoteBatchWriter()
  w.members([], Uint8Array.from([7]))
  t.same(readAll(w.take()), [{ kind: RemoteKind.MEMBERS, userIds: [], frame: [7] }])
})

t.test('a frame that is a view into a larger buffer is copied from its own bytes only', async t => {
  t.plan(1)
  const big = Buffer.from('0123456789abcdef')
  const w = new RemoteBatchWriter()
  w.user(RemoteKind.USER, '77', big.subarray(4, 9))
  w.members(['1', '2'], new Uint8Array(big.buffer, big.byteOffset + 10, 3))
  t.same(readAll(w.take()).map(r => Buffer.from(r.frame).toString()), ['45678', 'abc'])
})

t.test('take hands over the batch and resets', async t => {
  t.plan(5)
  const w = new RemoteBatchWriter()
  t.equal(w.take().length, 0, 'a new writer holds nothing')
  w.user(RemoteKind.USER, '1', Uint8Array.from([1]))
  const first = w.take()
  t.ok(first.length > 0, 'a record makes a batch')
  t.equal(w.take().length, 0, 'take resets: nothing left')
  w.user(RemoteKind.USER_TRACKED, '2', Uint8Array.from([2]))
  t.same(readAll(w.take()), [{ kind: RemoteKind.USER_TRACKED, userIds: ['2'], frame: [2] }], 'a new batch after take holds only the new record')
  t.same(readAll(first), [{ kind: RemoteKind.USER, userIds: ['1'], frame: [1] }], 'the taken batch is unaffected')
})

t.test('an empty batch reads as nothing', async t => {
  t.plan(1)
  t.same(readAll(Buffer.alloc(0)), [])
})

// Fails with src/cluster/remote-wire.ts as of writing: when the input ends where an id's length byte
// should be (lines 71 and 76, `data[at++]!` past the end), `at` becomes NaN and readUInt32BE at
// line 81 throws RangeError ERR_OUT_OF_RANGE instead of stopping. E.g. the first 5 bytes of a MEMBERS
// record, or a batch cut right after a USER kind byte.
t.test('every truncation stops without throwing and yields only whole records', async t => {
  const { data, expected } = sample()
  const threw: string[] = []
  const wrong: number[] = []
  for (let n = 0; n < data.length; n++) {
    let got: Plain[]
    try {
      got = readAll(data.subarray(0, n))
    } catch (err) {
      threw.push(`${n}: ${(err as Error).message}`)
      continue
    }
    // Each record that is read must be one of the whole records, in order, and the last one is never read.
    const same = got.length < expected.length && got.every((r, i) => JSON.stringify(r) === JSON.stringify(expected[i]))
    if (!same) wrong.push(n)
  }
  t.same(threw.slice(0, 5), [], `no prefix throws (${threw.length} of ${data.length} did)`)
  t.same(wrong, [], 'prefixes yield a prefix of the records')
  t.end()
})

t.test('a MEMBERS count larger than the ids present stops without throwing', async t => {
  const w = new RemoteBatchWriter()
  w.members(['1', '2'], Uint8Array.from([9]))
  const data = w.take()
  data.writeUInt32BE(1000, 1)
  const got: RemoteRecord[] = []
  t.doesNotThrow(() => readRemoteBatch(data, r => got.push(r)))
  t.equal(got.length, 0)
  t.end()
})

t.test('an unknown kind stops the reader after the records before it', async t => {
  t.plan(1)
  const w = new RemoteBatchWriter()
  w.user(RemoteKind.USER, '1', Uint8Array.from([1]))
  const good = w.take()
  w.user(RemoteKind.USER, '2', Uint8Array.from([2]))
  const tail = w.take()
  tail[0] = 99
  t.same(readAll(Buffer.concat([good, tail, good])).map(r => r.userIds[0]), ['1'])
})

t.test('a frame length beyond the end stops without throwing', async t => {
  t.plan(2)
  const w = new RemoteBatchWriter()
  w.user(RemoteKind.USER, '1', Uint8Array.from([1, 2, 3]))
  const data = w.take()
  data.writeUInt32BE(0xffffffff, 2 + 1)
  let got: Plain[] = []
  t.doesNotThrow(() => { got = readAll(data) })
  t.same(got, [])
})
