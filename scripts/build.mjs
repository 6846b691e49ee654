// Build: generated protobuf codec -> TypeScript -> dist/, plus copies of the
// non-TypeScript files the server loads at run time.
import { execFileSync } from 'node:child_process'
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: 'inherit' })

run(process.execPath, [join(root, 'scripts/gen-proto.mjs')])
rmSync(join(root, 'dist'), { recursive: true, force: true })
run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'])

// Generated JavaScript (protobuf codec) and Lua scripts live beside the TypeScript that imports them.
for (const dir of ['proto', 'seq']) {
  const from = join(root, 'src', dir)
  if (!existsSync(from)) continue
  for (const file of readdirSync(from)) {
    if (file.endsWith('.js') || file.endsWith('.d.ts') || file.endsWith('.lua')) {
      mkdirSync(join(root, 'dist', dir), { recursive: true })
      cpSync(join(from, file), join(root, 'dist', dir, file))
    }
  }
}

// The CLI is run directly as well as through the package's bin link.
chmodSync(join(root, 'dist/cli.js'), 0o755)

if (existsSync(join(root, 'scripts/build-web.mjs'))) run(process.execPath, [join(root, 'scripts/build-web.mjs')])
