import { Worker } from 'node:worker_threads'
import type { SeqServer } from '../seq/seq-server.js'
import type { ShardRouting } from './gateway.js'
import type { Logger } from '../log.js'
import type { Metrics, Series } from '../metrics.js'
import { addHistogram, observeMany, sharedNow, type HistogramCounts } from '../histogram.js'
import { LOOP_DELAY_HELP, LOOP_DELAY_METRIC } from '../metrics.js'
import { SEND_STAGES, type SendStage } from '../shards/send-stages.js'
import { AppError, type StatusCode } from '../errors.js'
import { OP_WIDTH, type CallOp, type CallReply, type FromShard, type InboundBatch, type OutboundBatch, type ShardCalls, type ShardWorkerData, type ToShard } from '../shards/thread-messages.js'
import { PendingReplies } from '../shards/pending-replies.js'
import { BytePacker } from '../shards/byte-packer.js'
import { newFramePeek, peekFrame } from './frame-peek.js'
import { isMsgId } from '@implus/client/wire'
import { shardOfMsgId } from '../snowflake.js'
import { shardOf } from '../shards/route.js'

/** Frames bound for one shard during this turn, packed for one transfer. */
class InboundBuilder {
  private readonly bytes = new BytePacker()
  private index: number[] = []
  private users: string[] = []
  private readAt: number[] = []

  get empty (): boolean {
    return this.bytes.empty
  }

  add (connId: number, userId: string, frame: Uint8Array): void {
    this.index.push(connId, this.bytes.append(frame), frame.length)
    this.users.push(userId)
    this.readAt.push(sharedNow())
  }

  take (): InboundBatch {
    const batch = { t: 'frames' as const, data: this.bytes.take(), index: Int32Array.from(this.index), users: this.users, readAt: Float64Array.from(this.readAt) }
    this.index = []
    this.users = []
    this.readAt = []
    return batch
  }
}

export type DeliverFn = (batch: OutboundBatch) => void

/**
 * The shard worker threads, seen from the main thread: frames go out in one
 * transfer per shard per turn, deliveries come back the same way, calls go
 * to the shard that owns what they name, and the shards' sequence requests
 * go to the SeqServer.
 */
export class ShardPool implements ShardRouting {
  private readonly workers: Worker[] = []
  private readonly builders: InboundBuilder[] = []
  private flushScheduled = false
  private online: string[] = []
  private offline: string[] = []
  private readonly calls = new PendingReplies<unknown>()
  /** While draining: each live worker's "done", called on its 'drained' message or its exit. */
  private readonly drained = new Map<Worker, () => void>()
  private stopping = false
  private readonly peek = newFramePeek()

  private readonly shardMetrics: { cycles: Series, messages: Series, check: Series, seq: Series, commit: Series, sendLatency: HistogramCounts, stages: Record<SendStage, HistogramCounts>, loopDelay: HistogramCounts, resends: Series, refused: Series, queued: Series, cacheBytes: Series, resendBytes: Series }[] = []

  constructor (
    readonly shards: number,
    private readonly base: Omit<ShardWorkerData, 'index' | 'shards'>,
    private readonly seq: SeqServer,
    private readonly deliver: DeliverFn,
    private readonly log: Logger,
    metrics: Metrics
  ) {
    for (let i = 0; i < shards; i++) {
      const shard = { shard: String(i) }
      this.shardMetrics.push({
        cycles: metrics.counter('implus_shard_cycles_total', 'Batches a shard checked, numbered and committed.', shard),
        messages: metrics.counter('implus_shard_messages_total', 'Messages a shard stored.', shard),
        check: metrics.counter('implus_shard_check_seconds_total', 'Time shards spent on permission and repeat checks.', shard),
        seq: metrics.counter('implus_shard_seq_seconds_total', 'Time shards spent waiting for sequence numbers.', shard),
        commit: metrics.counter('implus_shard_commit_seconds_total', 'Time shards spent committing batches.', shard),
        sendLatency: metrics.histogram('implus_send_seconds', 'From a send reaching its shard to its receipt (checks, numbering, commit).', shard),
        stages: Object.fromEntries(SEND_STAGES.map(stage => [stage, metrics.histogram('implus_send_stage_seconds',
          'Where a send\'s time goes: handoff, queue, check, numbering, commit_wait, commit, delivery (docs in src/shards/send-stages.ts).', { ...shard, stage })])) as Record<SendStage, HistogramCounts>,
        loopDelay: metrics.histogram(LOOP_DELAY_METRIC, LOOP_DELAY_HELP, { thread: `shard-${i}` }),
        resends: metrics.gauge('implus_shard_pending_resends', 'Pushes waiting for an ACK on the shard\'s timing wheel.', shard),
        refused: metrics.counter('implus_shard_overload_refusals_total', 'Frames turned away because the shard queue was full.', shard),
        queued: metrics.gauge('implus_shard_queued_frames', 'Frames waiting for the shard\'s next batch.', shard),
        cacheBytes: metrics.gauge('implus_shard_cache_bytes', 'Estimated heap bytes of the shard\'s permission and group caches (each bounded).', shard),
        resendBytes: metrics.gauge('implus_shard_resend_bytes', 'Bytes of pushes the shard keeps for resending (bounded: IMPLUS_RESEND_MAX_BYTES).', shard)
      })
    }
  }

  async start (): Promise<void> {
    const started: Promise<void>[] = []
    for (let index = 0; index < this.shards; index++) {
      const worker = new Worker(new URL('../workers/shard.js', import.meta.url), {
        workerData: { ...this.base, index, shards: this.shards } satisfies ShardWorkerData
      })
      this.workers.push(worker)
      this.builders.push(new InboundBuilder())
      started.push(new Promise((resolve, reject) => {
        worker.once('error', reject)
        worker.on('message', (message: FromShard) => {
          if (message.t === 'ready') {
            worker.off('error', reject)
            worker.on('error', err => this.log.fatal({ err, shard: index }, 'shard worker crashed'))
            resolve()
          } else if (message.t === 'stats') {
            const m = this.shardMetrics[index]!
            m.cycles.value += message.cycles
            m.messages.value += message.messages
            m.check.value += message.checkSeconds
            m.seq.value += message.seqSeconds
            m.commit.value += message.commitSeconds
            addHistogram(m.sendLatency, message.sendLatency)
            for (const [stage, counts] of Object.entries(message.stages)) addHistogram(m.stages[stage as SendStage], counts)
            addHistogram(m.loopDelay, message.loopDelay)
            m.resends.value = message.pendingResends
            m.refused.value += message.refused
            m.queued.value = message.queued
            m.cacheBytes.value = message.cacheBytes
            m.resendBytes.value = message.resendBytes
            // At most one line per shard per second (the stats interval), only while it refuses.
            if (message.refused > 0) this.log.warn({ shard: index, refused: message.refused, queued: message.queued }, 'shard queue full: sends refused with 503 (PostgreSQL is not keeping up)')
          } else if (message.t === 'out') {
            this.deliver(message)
            observeMany(this.shardMetrics[index]!.stages.delivery, (sharedNow() - message.since) / 1000, message.ops.length / OP_WIDTH)
          } else {
            this.receive(worker, message)
          }
        })
      }))
      worker.on('exit', code => {
        this.drained.get(worker)?.()
        if (code !== 0 && !this.stopping) {
          // A shard owns conversations outright; running without it would silently drop them.
          this.log.fatal({ shard: index, code }, 'shard worker exited; stopping the process')
          process.exit(1)
        }
      })
    }
    await Promise.all(started)
  }

  shardOfConversation (conversationId: string): number {
    return shardOf(conversationId, this.shards)
  }

  shardOfMessage (msgId: string): number {
    return shardOfMsgId(msgId, this.shards)
  }

  route (shard: number, connId: number, userId: string, frame: Uint8Array): void {
    this.builders[shard]!.add(connId, userId, frame)
    this.scheduleFlush()
  }

  presence (online: string[], offline: string[]): void {
    for (const u of online) this.online.push(u)
    for (const u of offline) this.offline.push(u)
    this.scheduleFlush()
  }

  /**
   * A push delivered here for another host: the shard whose id it carries keeps its resend timer. The
   * frame is a view into a whole Redis batch; posting the view would clone that batch, and the shard
   * keeps the frame until the ACK, so a right-sized copy is transferred instead.
   */
  track (userId: string, frame: Uint8Array): void {
    if (!peekFrame(frame, this.peek) || !isMsgId(this.peek.uid)) return
    const copy = new Uint8Array(frame) // a copy: frame may be a Buffer, whose slice() is only a view
    this.post(this.workers[this.shardOfMessage(this.peek.uid)]!, { t: 'track', userId, msgId: this.peek.uid, frame: copy }, [copy.buffer as ArrayBuffer])
  }

  usersChanged (userIds: string[]): void {
    this.broadcast({ t: 'users', userIds })
  }

  /**
   * Asks the shard that owns the message (recall) or conversation (the others) to do something in order
   * with its message traffic; rejects with the shard's AppError.
   */
  call<Op extends CallOp> (op: Op, args: ShardCalls[Op]['args']): Promise<ShardCalls[Op]['result']> {
    const shard = 'msgId' in args ? this.shardOfMessage(args.msgId) : this.shardOfConversation(args.conversationId)
    return this.calls.ask(id => this.post(this.workers[shard]!, { t: 'call', id, op, args } as ToShard)) as Promise<ShardCalls[Op]['result']>
  }

  /** Shards finish and commit what they have accepted, then stop. */
  async drain (): Promise<void> {
    this.stopping = true
    this.flush()
    // A worker that has exited (it crashed; logged where it did) has nothing left to finish: waiting
    // for its 'drained' would hold the shutdown until the deadline and end it with exit code 1.
    const done = this.workers.map(worker => worker.threadId === -1
      ? Promise.resolve()
      : new Promise<void>(resolve => this.drained.set(worker, resolve)))
    this.broadcast({ t: 'drain' })
    await Promise.all(done)
    await Promise.all(this.workers.map(w => w.terminate()))
  }

  private scheduleFlush (): void {
    if (this.flushScheduled) return
    this.flushScheduled = true
    setImmediate(() => this.flush())
  }

  private flush (): void {
    this.flushScheduled = false
    if (this.online.length > 0 || this.offline.length > 0) {
      this.broadcast({ t: 'presence', online: this.online, offline: this.offline })
      this.online = []
      this.offline = []
    }
    for (let i = 0; i < this.builders.length; i++) {
      const builder = this.builders[i]!
      if (builder.empty) continue
      const batch = builder.take()
      this.workers[i]!.postMessage(batch, [batch.data.buffer as ArrayBuffer])
    }
  }

  private receive (worker: Worker, message: FromShard): void {
    switch (message.t) {
      case 'seq':
        return this.seq.answer(message, (reply, transfer) => this.post(worker, reply, transfer))
      case 'reply':
        return this.settle(message)
      case 'drained':
        return void this.drained.get(worker)?.()
    }
  }

  private settle (reply: CallReply): void {
    if (reply.ok) this.calls.resolve(reply.id, reply.value)
    else this.calls.reject(reply.id, new AppError((reply.status ?? 500) as StatusCode, reply.message ?? 'shard call failed'))
  }

  private broadcast (message: ToShard): void {
    for (const worker of this.workers) this.post(worker, message)
  }

  private post (worker: Worker, message: ToShard, transfer: ArrayBuffer[] = []): void {
    worker.postMessage(message, transfer)
  }
}
