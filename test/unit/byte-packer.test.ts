// BytePacker (src/shards/byte-packer.ts): how both directions of the thread boundary pack a turn's frames
// into one transferable buffer.
import t from 'tap'
import { BytePacker } from '../../src/shards/byte-packer.js'

t.test('offsets, growth past the initial 64 KiB, and a right-sized copy that outlives the next turn', async t => {
  const packer = new BytePacker()
  t.ok(packer.empty, 'empty at first')
  const small = Uint8Array.of(1, 2, 3)
  const big = new Uint8Array(100 * 1024).fill(7)
  t.equal(packer.append(small), 0)
  t.equal(packer.append(big), 3, 'each append is placed after the previous one')
  t.equal(packer.append(small), 3 + big.length, 'and growing keeps what came before')
  t.notOk(packer.empty)
  const taken = packer.take()
  t.equal(taken.length, 6 + big.length, 'the copy holds exactly what was appended')
  t.same([...taken.subarray(0, 3)], [1, 2, 3])
  t.ok(taken.subarray(3, 3 + big.length).every(b => b === 7), 'the large frame intact')
  t.same([...taken.subarray(3 + big.length)], [1, 2, 3])
  t.ok(packer.empty, 'empty again after take')
  t.equal(packer.append(Uint8Array.of(9)), 0, 'the next turn starts at offset 0')
  t.equal(taken[0], 1, 'reusing the buffer does not touch what was taken')
  t.equal(taken.byteOffset, 0)
  t.equal(taken.buffer.byteLength, taken.length, 'its own buffer, right-sized: transferring it moves nothing else')
})
