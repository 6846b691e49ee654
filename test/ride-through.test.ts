// Clients ride through a restart: a draining server's 1002 (503) is not a kick. SDK clients and the CLI's
// `tail` reconnect to the server restarted at the same addresses, resync, and a queue of 1,000 sends made
// while it was down is flushed below the server's rate limit and settles with a receipt each.

import t from 'tap'
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { ImClient, type DisconnectedEvent, type SendReceipt } from '@implus/client'
import { api, fixedPorts, makeTempDir, registerAndLogin, startServer, within, ROOT, type TestServer } from './helpers/server.js'

const CLI = join(ROOT, 'dist', 'cli.js')

let server: TestServer
t.before(async () => {
  // A low limit, so an unpaced flush of the queue would be refused: 200 a second, a burst of 400.
  server = await startServer({ env: { ...(await fixedPorts()), IMPLUS_PRIVATE_CHAT: 'open', IMPLUS_RATE_LIMIT: '200', IMPLUS_RATE_BURST: '400' } })
})
t.teardown(async () => {
  await server?.stop()
})

function nextEvent<T> (subscribe: (resolve: (value: T) => void) => void, what: string, ms = 60_000): Promise<T> {
  return within(new Promise<T>(resolve => subscribe(resolve)), ms, what)
}

t.test('a drain is not a kick: the client reconnects to the restarted server and flushes 1,000 pending sends', async t => {
  t.setTimeout(180_000)
  const [a, b] = await Promise.all([registerAndLogin(server), registerAndLogin(server)])
  const client = await ImClient.connect({
    httpUrl: server.httpUrl, host: '127.0.0.1', port: server.ports.ws!, transport: 'ws', userId: a.userId, token: a.token, reconnectBaseMs: 200, maxReconnectDelayMs: 1000
  })
  t.teardown(() => client.close())
  const kicks: string[] = []
  client.on('kicked', reason => kicks.push(reason))
  const refusals: Error[] = []
  client.on('error', error => refusals.push(error))

  const left = nextEvent<DisconnectedEvent>(resolve => client.once('disconnected', resolve), 'the drain to reach the client')
  const stopped = server.stop()
  const event = await left
  t.equal(event.willReconnect, true, 'the client will come back')
  t.match(event.reason, /shutting down/, 'told why')
  t.equal(await stopped, 0, 'the server drained and exited')

  const sends: Promise<SendReceipt>[] = []
  for (let i = 0; i < 1000; i++) sends.push(client.sendPrivate(b.userId, `queued ${i}`))
  t.equal(client.pendingSends, 1000, 'queued while the server is away')

  const back = nextEvent<{ reconnect: boolean }>(resolve => client.once('connected', resolve), 'the reconnect', 90_000)
  server = await server.restart()
  t.equal((await back).reconnect, true, 'logged in again by itself')
  const receipts = await within(Promise.all(sends), 90_000, '1,000 receipts')
  t.equal(new Set(receipts.map(r => r.msgId)).size, 1000, 'every send settled with a receipt of its own')
  t.equal(kicks.length, 0, 'never reported as a kick')
  t.equal(client.state, 'online')

  // Stored exactly once each: the receiver's stream holds each text once.
  const texts: string[] = []
  for (let fromSeq = 1; ;) {
    const res = await api(server, 'POST', '/api/messages/pull-batch', { fromSeq, limit: 500 }, b.token)
    texts.push(...res.body.data.messages.map((m: { content: string }) => m.content))
    if (!res.body.data.hasMore) break
    fromSeq = res.body.data.nextSeq
  }
  t.equal(texts.length, 1000, 'the receiver has 1,000 messages')
  t.equal(new Set(texts).size, 1000, 'none twice')
})

t.test('`implus tail` rides through a restart and shows what is sent after it', async t => {
  t.setTimeout(180_000)
  const home = makeTempDir('implus-cli-')
  const [a, b] = await Promise.all([registerAndLogin(server), registerAndLogin(server)])
  const env = { ...process.env, IMPLUS_CLI_HOME: home, IMPLUS_SERVER: server.httpUrl, IMPLUS_WS_URL: String(server.ports.ws) }
  const login = spawn(process.execPath, [CLI, 'login', b.userId, 'correct-horse-battery'], { env, stdio: 'ignore' })
  t.equal(await new Promise(resolve => login.on('close', resolve)), 0, 'logged in')

  const tail = spawn(process.execPath, [CLI, 'tail'], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  const exited = new Promise<number | null>(resolve => tail.on('close', code => resolve(code)))
  t.teardown(() => { tail.kill('SIGKILL') })
  const stdout: string[] = []
  const stderr: string[] = []
  const waiters: Array<() => void> = []
  const notify = (): void => { for (const w of waiters.splice(0)) w() }
  createInterface({ input: tail.stdout! }).on('line', line => { stdout.push(line); notify() })
  createInterface({ input: tail.stderr! }).on('line', line => { stderr.push(line); notify() })
  const seen = (lines: string[], pattern: RegExp, what: string): Promise<void> => within(new Promise<void>(resolve => {
    const check = (): void => { if (lines.some(l => pattern.test(l))) resolve(); else waiters.push(check) }
    check()
  }), 90_000, what)
  await seen(stderr, /tailing/, 'tail to start')

  server = await server.restart()
  await seen(stderr, /reconnected/, 'tail to reconnect')
  const sender = await ImClient.connect({ httpUrl: server.httpUrl, host: '127.0.0.1', port: server.ports.ws!, transport: 'ws', userId: a.userId, token: a.token, sync: false })
  await sender.sendPrivate(b.userId, 'after the restart')
  await sender.close()
  await seen(stdout, /after the restart/, 'the message to show in tail')
  t.notOk(stderr.some(l => /signed out/.test(l)), 'tail never said it was signed out')
  tail.kill('SIGINT')
  t.equal(await exited, 0, 'still running until Ctrl-C')
})
