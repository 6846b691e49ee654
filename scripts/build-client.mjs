// Builds the client package (packages/client/dist/): its TypeScript and the generated codec tsc does not
// emit. Run by scripts/build.mjs, and by the package's `prepack`, so `npm pack` / `npm publish` of
// @implus/client from a fresh clone ships its build rather than an empty package.
import { execFileSync } from 'node:child_process'
import { cpSync, mkdirSync, readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))

export const tsc = (project) => execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', project], { cwd: root, stdio: 'inherit' })

/** Copies the files tsc does not emit (generated JavaScript, Lua scripts) from `from` to `to`. */
export function copyRuntimeFiles (from, to) {
  for (const file of readdirSync(from)) {
    if (file.endsWith('.js') || file.endsWith('.d.ts') || file.endsWith('.lua')) {
      mkdirSync(to, { recursive: true })
      cpSync(join(from, file), join(to, file))
    }
  }
}

export function buildClient () {
  const client = join(root, 'packages/client')
  rmSync(join(client, 'dist'), { recursive: true, force: true })
  tsc(join(client, 'tsconfig.json'))
  copyRuntimeFiles(join(client, 'src/wire'), join(client, 'dist/wire'))
}

if (process.argv[1] === fileURLToPath(import.meta.url)) buildClient()
