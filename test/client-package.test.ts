// What gets published: @implus/client depends on nothing of the server, ships its build and README only,
// imports nothing but its own files, protobufjs and (Node only) ws, and its API reference builds from the
// source without a warning (TypeDoc, validation on); the server package ships only what runs.
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT } from './helpers/server.js'

const CLIENT = join(ROOT, 'packages', 'client')

function packed (args: string[]): string[] {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts', ...args], { cwd: ROOT, encoding: 'utf8' })
  return (JSON.parse(out) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map(f => f.path).sort()
}

function jsFiles (dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap(e => e.isDirectory() ? jsFiles(join(dir, e.name)) : e.name.endsWith('.js') ? [join(dir, e.name)] : [])
}

t.test('the client package: no server dependency, its build and README only', async t => {
  const pkg = JSON.parse(readFileSync(join(CLIENT, 'package.json'), 'utf8'))
  t.same(Object.keys(pkg.dependencies ?? {}).sort(), ['protobufjs', 'ws'], 'dependencies: protobufjs and ws, nothing else')
  t.equal(pkg.type, 'module', 'ESM')
  t.equal(pkg.exports['.'].types, './dist/index.d.ts', 'with type declarations')
  const files = packed(['--workspace', '@implus/client'])
  t.ok(files.includes('dist/index.js') && files.includes('dist/index.d.ts') && files.includes('README.md'), 'build, types and README are in')
  t.same(files.filter(f => !(f.startsWith('dist/') || f === 'README.md' || f === 'package.json')), [], 'nothing else (no sources, tests or docs build)')
  t.same(files.filter(f => f.endsWith('.map')), [], 'no source maps')

  const imports = new Set<string>()
  for (const file of jsFiles(join(CLIENT, 'dist'))) {
    for (const m of readFileSync(file, 'utf8').matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"]([^'"]+)['"]/g)) {
      if (!m[1]!.startsWith('.')) imports.add(m[1]!.replace(/\/.*$/, ''))
    }
  }
  t.same([...imports].filter(i => !['protobufjs', 'ws'].includes(i) && !i.startsWith('node:')).sort(), [], `imports only protobufjs, ws and node: built-ins (${[...imports].sort().join(', ')})`)
})

t.test('the API reference builds from the source without warnings', async t => {
  // treatWarningsAsErrors (typedoc.json): an exported API that refers to an unexported type fails here.
  execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typedoc', 'bin', 'typedoc'), '--options', join(CLIENT, 'typedoc.json'), '--emit', 'none'], { cwd: ROOT, stdio: 'pipe' })
  t.pass('typedoc: 0 errors, 0 warnings')
})

t.test('the server package ships only what runs', async t => {
  const files = packed([])
  const tops = [...new Set(files.map(f => f.includes('/') ? f.slice(0, f.indexOf('/') + 1) : f))].sort()
  t.same(tops, ['README.md', 'dist/', 'docs/', 'package.json', 'sql/'], `top level: ${tops.join(' ')}`)
  for (const f of ['dist/main.js', 'dist/cli.js', 'dist/web/app.js', 'dist/web/index.html', 'sql/001_schema.sql', 'docs/protocol.md']) t.ok(files.includes(f), `${f} is in`)
  t.same(files.filter(f => f.endsWith('.map') || f.endsWith('.d.ts') || f.endsWith('.ts')), [], 'no source maps, declarations or TypeScript')
})
