import { encodeFrame, MessageType, type DecodedFrame, type Frame } from '@implus/client/wire'
import type { Receipt } from './idempotency.js'
import type { Group } from './members.js'
import type { Outbox } from './outbox.js'
import type { Resends } from './resends.js'
import { preview } from './rules.js'

/** What fan-out needs of a committed send (the shard's Send has it). */
export interface CommittedSend {
  /** The sending device, which has its receipt and gets no copy. */
  readonly connId: number
  readonly senderId: string
  /** Private: the other user. Group: ''. */
  readonly receiverId: string
  readonly frame: Pick<DecodedFrame, 'contentType' | 'clientSeq'>
  readonly content: string
  /** What the 1007 preview is cut from. */
  readonly previewText: string
  readonly group: Group | null
  readonly receipt: Receipt | null
}

/**
 * Who hears of a committed message, and how (docs/protocol.md): a private
 * message goes whole to the receiver (tracked until its ACK) and to the
 * sender's other devices; a group message is a light 1007, encoded once for
 * every reachable member, and one for the sender naming its clientSeq.
 */
export class FanOut {
  constructor (
    private readonly out: Outbox,
    private readonly resends: Resends,
    /** Users connected to this host (they get resends). */
    private readonly online: ReadonlySet<string>,
    /** Whom a group notification goes to: members online here, or every member in cluster mode. */
    private readonly reachable: (userId: string) => boolean
  ) {}

  private (s: CommittedSend, receiverSeq: number): void {
    const r = s.receipt!
    const f = s.frame
    const push: Frame = {
      type: MessageType.PRIVATE_CHAT,
      uid: r.msgId,
      fromId: s.senderId,
      toId: s.receiverId,
      conversationId: r.conversationId,
      content: s.content,
      contentType: f.contentType === 0 ? 1 : f.contentType,
      conversationSeq: r.conversationSeq,
      timestamp: r.time
    }
    push.userSeq = receiverSeq
    const toReceiver = encodeFrame(push)
    this.out.toUserTracked(s.receiverId, toReceiver)
    if (this.online.has(s.receiverId)) this.resends.track(r.msgId, s.receiverId, toReceiver)
    push.userSeq = r.userSeq
    push.clientSeq = f.clientSeq
    this.out.toUser(s.senderId, encodeFrame(push), s.connId)
  }

  group (s: CommittedSend): void {
    const r = s.receipt!
    const note: Frame = {
      type: MessageType.GROUP_MESSAGE_NOTIFICATION,
      uid: r.msgId,
      fromId: s.senderId,
      conversationId: r.conversationId,
      conversationSeq: r.conversationSeq,
      seq: String(r.conversationSeq),
      content: preview(s.previewText),
      timestamp: r.time
    }
    const recipients: string[] = []
    for (const member of s.group!.members) if (member !== s.senderId && this.reachable(member)) recipients.push(member)
    if (recipients.length > 0) this.out.toMembers(recipients, encodeFrame(note))
    note.toId = s.senderId
    note.clientSeq = s.frame.clientSeq
    this.out.toUser(s.senderId, encodeFrame(note))
  }
}
