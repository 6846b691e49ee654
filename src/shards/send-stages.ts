import { emptyHistogram, observeMany, type HistogramCounts } from '../histogram.js'

/**
 * Where a send's time goes, stage by stage, in the order it passes them (the `stage` label of
 * implus_send_stage_seconds):
 *  handoff     read from its socket on the main thread → in its shard's queue (batching per turn, transfer)
 *  queue       in the queue → its cycle starts (the shard busy with the batch before)
 *  check       permissions, memberships, repeats, files
 *  numbering   sequence numbers
 *  commit_wait numbered → its commit starts (the previous batch still committing: the commit chain)
 *  commit      the PostgreSQL statement that stores it
 *  delivery    committed → receipt and push written to sockets on the main thread (per frame written)
 */
export const SEND_STAGES = Object.freeze(['handoff', 'queue', 'check', 'numbering', 'commit_wait', 'commit', 'delivery'] as const)
export type SendStage = typeof SEND_STAGES[number]

/** The stages a shard measures itself (delivery is measured where the frames are written). */
export type ShardStage = Exclude<SendStage, 'delivery'>
export type StageCounts = Record<ShardStage, HistogramCounts>

export function emptyStages (): StageCounts {
  return { handoff: emptyHistogram(), queue: emptyHistogram(), check: emptyHistogram(), numbering: emptyHistogram(), commit_wait: emptyHistogram(), commit: emptyHistogram() }
}

/** Records a stage `sends` messages went through together, `ms` long. */
export function stage (stages: StageCounts, name: ShardStage, ms: number, sends: number): void {
  observeMany(stages[name], ms / 1000, sends)
}
