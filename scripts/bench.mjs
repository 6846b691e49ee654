// `npm run bench -- <scenario> [options]`: bundles bench/*.ts with esbuild
// (packages stay external) into .bench-build/ and runs bench/<scenario>.ts.
// Scenarios import the built server and client from dist/: run `npm run build` first.
import { build } from 'esbuild'
import { readdirSync } from 'node:fs'
import { spawn } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const [scenario, ...args] = process.argv.slice(2)
const scenarios = readdirSync(join(root, 'bench')).filter(f => f.endsWith('.ts') && !f.endsWith('-load.ts')).map(f => f.slice(0, -3))
if (scenario === undefined || !scenarios.includes(scenario)) {
  console.error(`usage: npm run bench -- <scenario> [options]\nscenarios: ${scenarios.join(', ')}`)
  process.exit(2)
}
await build({
  entryPoints: readdirSync(join(root, 'bench')).filter(f => f.endsWith('.ts')).map(f => join(root, 'bench', f)),
  // Two levels deep, like bench/lib/ and test/helpers/, so their paths relative to the repository still hold.
  outdir: join(root, '.bench-build', 'bench'),
  outExtension: { '.js': '.mjs' },
  bundle: true,
  packages: 'external',
  platform: 'node',
  format: 'esm',
  target: 'node20',
  logLevel: 'warning'
})
const child = spawn(process.execPath, [join(root, '.bench-build', 'bench', `${scenario}.mjs`), ...args], { stdio: 'inherit' })
child.on('exit', code => process.exit(code ?? 1))
