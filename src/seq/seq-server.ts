import type { Logger } from '../log.js'
import type { SeqEngine } from './engine.js'
import type { SeqReply, SeqRequest } from '../shards/thread-messages.js'

/**
 * The sequence service of the shard workers, on the main thread: the one
 * SeqEngine of this host numbers the keys shards share (users' userSeqs, and
 * in cluster mode every key), answering each request with its numbers in one
 * transferred buffer, or with the error that failed it (the shard refuses
 * that batch with 503 and its senders retry).
 */
export class SeqServer {
  constructor (private readonly engine: SeqEngine, private readonly log: Logger) {}

  answer (request: SeqRequest, reply: (answer: SeqReply, transfer: ArrayBuffer[]) => void): void {
    const numbered = request.prepareOnly === true
      ? this.engine.prepare(request.keys).then(() => new Float64Array(0))
      : this.engine.allocate(request.keys)
    numbered.then(
      values => reply({ t: 'seq', id: request.id, values }, [values.buffer as ArrayBuffer]),
      (err: Error) => {
        this.log.error({ err }, 'sequence allocation failed')
        reply({ t: 'seq', id: request.id, values: new Float64Array(0), error: err.message }, [])
      })
  }
}
