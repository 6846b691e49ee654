// Bundles the web chat page (web/app.ts + the built @implus/client package, browser half) into dist/web/ with esbuild.
// TCP and UDP transports need node:net / node:dgram; ImConnection imports them on demand, which a bundler
// would still follow, so they are replaced here by stubs that say they are not available in a browser.
import { build } from 'esbuild'
import { copyFileSync, mkdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const out = join(root, 'dist', 'web')
mkdirSync(out, { recursive: true })

const nodeOnlyTransports = {
  name: 'node-only-transports',
  setup (b) {
    b.onResolve({ filter: /(^|\/)(tcp|udp)-transport\.js$/ }, args => ({ path: args.path, namespace: 'node-only' }))
    b.onLoad({ filter: /.*/, namespace: 'node-only' }, args => {
      const kind = args.path.includes('tcp') ? 'Tcp' : 'Udp'
      return {
        contents: `export function open${kind}Transport () { throw new Error('${kind.toUpperCase()} is not available in a browser: use the WebSocket transport') }`,
        loader: 'js'
      }
    })
  }
}

await build({
  entryPoints: [join(root, 'web', 'app.ts')],
  outfile: join(out, 'app.js'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2022'],
  external: ['ws', 'node:*'],
  plugins: [nodeOnlyTransports],
  minify: true,
  sourcemap: false,
  legalComments: 'none',
  logLevel: 'warning'
})
copyFileSync(join(root, 'web', 'index.html'), join(out, 'index.html'))
