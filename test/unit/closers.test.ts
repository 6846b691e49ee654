// Closers (src/closers.ts): how the server stops. Stages in order; intake and goodbye in registration
// order, release in reverse; a closer that fails is logged and the rest still run, each once.
import t from 'tap'
import { pino } from 'pino'
import { Closers, CloseStage } from '../../src/closers.js'

t.test('stages in order, release last-registered first, a failure does not stop the rest', async t => {
  const closers = new Closers()
  const ran: string[] = []
  const note = (name: string) => () => { ran.push(name) }
  // Registered in the order main.ts creates things.
  closers.add(CloseStage.RELEASE, 'http', note('http'))
  closers.add(CloseStage.RELEASE, 'database', async () => { await Promise.resolve(); ran.push('database') })
  closers.add(CloseStage.DRAIN, 'shards', note('shards'))
  closers.add(CloseStage.INTAKE, 'gateway', note('gateway'))
  closers.add(CloseStage.GOODBYE, 'clients', () => { ran.push(`clients while ${closers.current}`) })
  closers.add(CloseStage.RELEASE, 'storage', () => { ran.push('storage'); throw new Error('disk gone') })
  closers.add(CloseStage.INTAKE, 'websocket', note('websocket'))
  closers.add(CloseStage.GOODBYE, 'udp', note('udp'))
  const warnings: unknown[] = []
  const log = pino({ level: 'warn' }, { write: (line: string) => { warnings.push(JSON.parse(line)) } })
  await closers.closeAll(log)
  t.same(ran, ['gateway', 'websocket', 'shards', 'clients while clients', 'udp', 'storage', 'database', 'http'], 'the closer running is named while it runs (a stuck shutdown says where)')
  t.equal(closers.current, null, 'and nothing once all have run')
  t.match(warnings, [{ closer: 'storage', msg: 'a component did not close cleanly' }], 'the failure is logged with its closer')
  await closers.closeAll(log)
  t.equal(ran.length, 8, 'a second call closes nothing again')
})
