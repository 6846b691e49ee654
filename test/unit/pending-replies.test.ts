// PendingReplies (src/shards/pending-replies.ts): the one table of requests posted to another thread and
// answered by id, used by shard calls (main thread) and sequence requests (shards). Also SeqServer
// (src/seq/seq-server.ts), the main thread's answer to a shard's sequence request, on a stub engine.
import t from 'tap'
import { pino } from 'pino'
import { PendingReplies } from '../../src/shards/pending-replies.js'
import { SeqServer } from '../../src/seq/seq-server.js'
import type { SeqEngine } from '../../src/seq/engine.js'
import type { SeqReply } from '../../src/shards/thread-messages.js'

t.test('each answer settles the request with its id, in any order; unknown and repeated ids do nothing', async t => {
  const pending = new PendingReplies<string>()
  const posted: number[] = []
  const first = pending.ask(id => posted.push(id))
  const second = pending.ask(id => posted.push(id))
  t.equal(posted.length, 2, 'each request is posted at once')
  t.not(posted[0], posted[1], 'with an id of its own')
  pending.resolve(posted[1]!, 'two')
  pending.reject(posted[0]!, new Error('one failed'))
  pending.resolve(posted[0]!, 'late')
  pending.resolve(9999, 'nobody asked')
  t.equal(await second, 'two')
  await t.rejects(first, { message: 'one failed' })
})

t.test('SeqServer answers with the numbers in a transferred buffer, or with the error that failed them', async t => {
  let fail = false
  const engine = {
    allocate: async (keys: string[]) => {
      if (fail) throw new Error('redis down')
      return Float64Array.from(keys.map((_, i) => i + 1))
    },
    prepare: async () => {},
    latest: async () => 0,
    close: async () => {}
  } as unknown as SeqEngine
  const server = new SeqServer(engine, pino({ level: 'silent' }))
  const answer = (request: Parameters<SeqServer['answer']>[0]): Promise<[SeqReply, ArrayBuffer[]]> =>
    new Promise(resolve => server.answer(request, (reply, transfer) => resolve([reply, transfer])))
  const [numbers, transfer] = await answer({ t: 'seq', id: 7, keys: ['a', 'b'] })
  t.same([...numbers.values], [1, 2])
  t.equal(numbers.id, 7)
  t.equal(transfer[0], numbers.values.buffer, 'the buffer is transferred, not copied')
  const [prepared] = await answer({ t: 'seq', id: 8, keys: ['a'], prepareOnly: true })
  t.equal(prepared.values.length, 0, 'a prepare-only request gets no numbers')
  fail = true
  const [failed] = await answer({ t: 'seq', id: 9, keys: ['a'] })
  t.equal(failed.error, 'redis down', 'the error reaches the shard, which refuses its batch with 503')
})
