import t from 'tap'
import { AckBatcher, type AckFrame } from '../../packages/client/src/sync/ack-batcher.js'
import { FakeScheduler } from '../helpers/fake-scheduler.js'

function harness (options: { maxBatch?: number } = {}) {
  const scheduler = new FakeScheduler()
  const sent: AckFrame[] = []
  const batcher = new AckBatcher({ sendFrame: (frame) => sent.push(frame), scheduler, delayMs: 50, ...options })
  return { scheduler, sent, batcher }
}

t.test('ACKs within one tick go out as one 2005 frame', async (t) => {
  const { scheduler, sent, batcher } = harness()
  for (const id of ['101', '102', '103']) batcher.ack(id)
  batcher.ack('102')
  scheduler.advance(49)
  t.same(sent, [], 'nothing before the tick')
  scheduler.advance(1)
  t.same(sent, [{ type: 2005, content: '101,102,103' }], 'ids once each, comma separated')
  scheduler.advance(1000)
  t.equal(sent.length, 1, 'no empty frames afterwards')
})

t.test('a lone ACK is a 2004 with its uid', async (t) => {
  const { scheduler, sent, batcher } = harness()
  batcher.ack('7205759403792793599')
  scheduler.advance(50)
  t.same(sent, [{ type: 2004, uid: '7205759403792793599' }])
})

t.test('the 100th queued ACK sends the batch at once', async (t) => {
  const { scheduler, sent, batcher } = harness()
  for (let i = 1; i <= 100; i++) batcher.ack(String(i))
  t.equal(sent.length, 1, 'without waiting for the tick')
  t.equal(sent[0].type, 2005)
  t.equal(sent[0].content?.split(',').length, 100)
  batcher.ack('101')
  t.equal(batcher.queued, 1, 'the next one starts a new batch')
  scheduler.advance(50)
  t.same(sent[1], { type: 2004, uid: '101' })
})

t.test('group ACKs keep the highest seq per conversation', async (t) => {
  const { scheduler, sent, batcher } = harness()
  batcher.ackGroup('group_1', 5)
  batcher.ackGroup('group_2', 3)
  batcher.ackGroup('group_1', 9)
  batcher.ackGroup('group_1', 7)
  batcher.ackGroup('group_3', 0)
  scheduler.advance(50)
  t.same(sent, [{ type: 2006, content: 'group_1:9,group_2:3' }], 'lower seqs and invalid ones dropped')
})

t.test('message and group ACKs share the tick, in separate frames', async (t) => {
  const { scheduler, sent, batcher } = harness()
  batcher.ack('1')
  batcher.ack('2')
  batcher.ackGroup('group_9', 4)
  scheduler.advance(50)
  t.same(sent, [
    { type: 2005, content: '1,2' },
    { type: 2006, content: 'group_9:4' },
  ])
})

t.test('flush sends now; clear drops', async (t) => {
  const { scheduler, sent, batcher } = harness()
  batcher.ack('1')
  batcher.flush()
  t.same(sent, [{ type: 2004, uid: '1' }])
  batcher.ack('2')
  batcher.ackGroup('group_1', 1)
  batcher.clear()
  scheduler.advance(1000)
  t.equal(sent.length, 1)
  t.equal(batcher.queued, 0)
})

t.test('options are validated', async (t) => {
  t.throws(() => new AckBatcher({ sendFrame: () => undefined, maxBatch: 0 }), /maxBatch/)
  t.throws(() => new AckBatcher({ sendFrame: () => undefined, maxBatch: 101 }), /maxBatch/, 'the server takes at most 100 items a frame')
  t.throws(() => new AckBatcher({ sendFrame: () => undefined, delayMs: -1 }), /delayMs/)
})
