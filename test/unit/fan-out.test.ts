// FanOut (src/shards/fan-out.ts), the shard's seam between a committed send and who hears of it: checked on
// the real Outbox (decoding what it would hand the main thread) and the real Resends, without a database.
import t from 'tap'
import { decodeFrame, MessageType, type DecodedFrame } from '@implus/client/wire'
import { FanOut, type CommittedSend } from '../../src/shards/fan-out.js'
import { Outbox } from '../../src/shards/outbox.js'
import { Resends } from '../../src/shards/resends.js'
import { OP_WIDTH, OutKind, type OutboundBatch } from '../../src/shards/thread-messages.js'

interface Out { kind: number, to: string | number | string[], skip: number, frame: DecodedFrame }

function setup (online: string[], cluster = false): { fanOut: FanOut, resends: Resends, take: () => Out[] } {
  const batches: OutboundBatch[] = []
  const out = new Outbox(batch => batches.push(batch))
  const here = new Set(online)
  const resends = new Resends({ online: u => here.has(u), resend: () => {}, failed: () => {} }, { perUser: 1000, bytes: 1 << 20 })
  const fanOut = new FanOut(out, resends, here, u => cluster || here.has(u))
  const take = (): Out[] => {
    out.flush()
    const all: Out[] = []
    for (const b of batches.splice(0)) {
      for (let i = 0; i < b.ops.length; i += OP_WIDTH) {
        const [kind, a, skip, offset, length] = [...b.ops.subarray(i, i + OP_WIDTH)] as [number, number, number, number, number]
        const to = kind === OutKind.TO_CONN ? a : kind === OutKind.TO_MEMBERS ? b.memberLists[a]! : b.users[a]!
        all.push({ kind, to, skip, frame: decodeFrame(b.data.subarray(offset, offset + length)) })
      }
    }
    return all
  }
  return { fanOut, resends, take }
}

const receipt = { msgId: '7000000000000000001', conversationId: 'private_11_22', conversationSeq: 5, userSeq: 40, time: 1_700_000_000_000 }

t.test('private: the receiver gets the whole message, tracked, with its userSeq; the sender\'s other devices theirs', async t => {
  const { fanOut, resends, take } = setup(['22'])
  const send: CommittedSend = { connId: 3, senderId: '11', receiverId: '22', frame: { contentType: 0, clientSeq: 'c-1' }, content: 'hi', previewText: 'hi', group: null, receipt }
  fanOut.private(send, 17)
  const [toReceiver, toSender, ...rest] = take()
  t.equal(rest.length, 0, 'two writes, nothing else')
  t.match(toReceiver, { kind: OutKind.TO_USER_TRACKED, to: '22', frame: { type: MessageType.PRIVATE_CHAT, uid: receipt.msgId, fromId: '11', toId: '22', content: 'hi', contentType: 1, userSeq: 17, conversationSeq: 5, clientSeq: '' } })
  t.match(toSender, { kind: OutKind.TO_USER, to: '11', skip: 3, frame: { type: MessageType.PRIVATE_CHAT, userSeq: 40, clientSeq: 'c-1' } })
  t.equal(resends.pending, 1, 'an online receiver\'s push waits for its ACK')
})

t.test('private to a receiver not connected here: pushed (another host may have it), no resend kept here', async t => {
  const { fanOut, resends, take } = setup([])
  fanOut.private({ connId: 3, senderId: '11', receiverId: '22', frame: { contentType: 2, clientSeq: 'c-2' }, content: '{}', previewText: '', group: null, receipt }, 9)
  t.equal(take()[0]!.kind, OutKind.TO_USER_TRACKED)
  t.equal(resends.pending, 0)
})

t.test('group: one 1007 for the reachable members but the sender, and the sender\'s own naming its clientSeq', async t => {
  const group = { conversationId: 'group_9', ownerId: '11', members: new Set(['11', '22', '33', '44']) }
  const send: CommittedSend = { connId: 3, senderId: '11', receiverId: '', frame: { contentType: 1, clientSeq: 'g-1' }, content: 'a long message to the group', previewText: 'a long message to the group', group, receipt: { ...receipt, conversationId: 'group_9', userSeq: 0 } }
  const single = setup(['22', '44'])
  single.fanOut.group(send)
  const [members, sender, ...rest] = single.take()
  t.equal(rest.length, 0)
  t.match(members, { kind: OutKind.TO_MEMBERS, to: ['22', '44'], frame: { type: MessageType.GROUP_MESSAGE_NOTIFICATION, seq: '5', conversationSeq: 5, content: 'a long message to...', clientSeq: '' } })
  t.match(sender, { kind: OutKind.TO_USER, to: '11', skip: -1, frame: { type: MessageType.GROUP_MESSAGE_NOTIFICATION, toId: '11', clientSeq: 'g-1' } })
  const cluster = setup(['22'], true)
  cluster.fanOut.group(send)
  t.same(cluster.take()[0]!.to, ['22', '33', '44'], 'cluster mode names every member: pub/sub finds them on their hosts')
  const alone = setup([])
  alone.fanOut.group(send)
  t.same(alone.take().map(o => o.kind), [OutKind.TO_USER], 'nobody reachable: only the sender hears')
})
