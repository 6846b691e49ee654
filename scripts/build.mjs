// Build: generated protobuf codec -> the client package (packages/client/dist/) -> the server (dist/),
// which imports the client's wire pieces -> the web page, bundled from the built client package.
import { execFileSync } from 'node:child_process'
import { chmodSync, cpSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: 'inherit' })
const tsc = (project) => run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', project])

/** Copies the files tsc does not emit (generated JavaScript, Lua scripts) from `from` to `to`. */
function copyRuntimeFiles (from, to) {
  for (const file of readdirSync(from)) {
    if (file.endsWith('.js') || file.endsWith('.d.ts') || file.endsWith('.lua')) {
      mkdirSync(to, { recursive: true })
      cpSync(join(from, file), join(to, file))
    }
  }
}

run(process.execPath, [join(root, 'scripts/gen-proto.mjs')])

const client = join(root, 'packages/client')
rmSync(join(client, 'dist'), { recursive: true, force: true })
tsc(join(client, 'tsconfig.json'))
copyRuntimeFiles(join(client, 'src/wire'), join(client, 'dist/wire'))

rmSync(join(root, 'dist'), { recursive: true, force: true })
tsc(join(root, 'tsconfig.json'))
copyRuntimeFiles(join(root, 'src/seq'), join(root, 'dist/seq'))
copyRuntimeFiles(join(root, 'src/cluster'), join(root, 'dist/cluster'))

// The CLI is run directly as well as through the package's bin link.
chmodSync(join(root, 'dist/cli.js'), 0o755)

run(process.execPath, [join(root, 'scripts/build-web.mjs')])

// Last: scripts/build-if-stale.mjs (npm start) takes dist/ as current only after a build that got this far.
writeFileSync(join(root, 'dist/.build-stamp'), `${new Date().toISOString()}\n`)
