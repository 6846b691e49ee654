// Build: generated protobuf codec -> the client package (packages/client/dist/) -> the server (dist/),
// which imports the client's wire pieces -> the web page, bundled from the built client package.
import { execFileSync } from 'node:child_process'
import { chmodSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { buildClient, copyRuntimeFiles, tsc } from './build-client.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: 'inherit' })

run(process.execPath, [join(root, 'scripts/gen-proto.mjs')])

buildClient()

rmSync(join(root, 'dist'), { recursive: true, force: true })
tsc(join(root, 'tsconfig.json'))
copyRuntimeFiles(join(root, 'src/seq'), join(root, 'dist/seq'))
copyRuntimeFiles(join(root, 'src/cluster'), join(root, 'dist/cluster'))

// The CLI is run directly as well as through the package's bin link.
chmodSync(join(root, 'dist/cli.js'), 0o755)

run(process.execPath, [join(root, 'scripts/build-web.mjs')])

// Last: scripts/build-if-stale.mjs (npm start) takes dist/ as current only after a build that got this far.
writeFileSync(join(root, 'dist/.build-stamp'), `${new Date().toISOString()}\n`)
