// Generates the static protobufjs codec for proto/chat_message.proto into the client package's
// packages/client/src/wire/ (the server imports it from there).
// The output is committed; `--check` regenerates into a temp dir and exits 1 when the
// committed files differ (test/unit/codec.test.ts runs it).
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const source = join(root, 'proto/chat_message.proto')
const outDir = join(root, 'packages/client/src/wire')
const names = ['chat_message.js', 'chat_message.d.ts']
const cli = join(root, 'node_modules/protobufjs-cli/bin')

// Encode/decode only: create/verify/convert/delimited helpers would ship unused code to the browser SDK.
const pbjsArgs = [
  '-t', 'static-module', '-w', 'es6', '--dependency', 'protobufjs/minimal.js',
  '--no-create', '--no-verify', '--no-convert', '--no-delimited', '--no-typeurl', '--no-service',
]

// A namespace import of a CommonJS module exposes only the names cjs-module-lexer finds, and
// protobufjs/minimal assigns its members through an alias it cannot see: take module.exports whole.
const namespaceImport = 'import * as $protobuf from "protobufjs/minimal.js";'
const defaultImport = 'import $protobuf from "protobufjs/minimal.js";'
// The client's wire/codec.ts switches protobufjs to plain numbers for int64, so defaults (and the types
// pbts derives from the JSDoc) must be numbers too, whether or not the `long` package is loadable.
const longDefault = '$util.Long ? $util.Long.fromBits(0,0,false) : 0'

function fixJs (text) {
  if (!text.includes(namespaceImport)) throw new Error('gen-proto: pbjs output lacks the expected import line')
  return text.replace(namespaceImport, defaultImport).replaceAll(longDefault, '0').replaceAll('number|Long', 'number')
}

function generate (dir) {
  const js = join(dir, names[0])
  const dts = join(dir, names[1])
  const node = process.execPath
  execFileSync(node, [join(cli, 'pbjs'), ...pbjsArgs, '-o', js, source], { cwd: root, stdio: 'inherit' })
  writeFileSync(js, fixJs(readFileSync(js, 'utf8')))
  execFileSync(node, [join(cli, 'pbts'), '-o', dts, js], { cwd: root, stdio: 'inherit' })
  // pbts always imports Long; nothing refers to it once the JSDoc says number.
  writeFileSync(dts, readFileSync(dts, 'utf8').replace(/^import Long = require\("long"\);\n/m, ''))
}

function upToDate () {
  const inputs = Math.max(statSync(source).mtimeMs, statSync(fileURLToPath(import.meta.url)).mtimeMs)
  return names.every((name) => {
    const file = join(outDir, name)
    return existsSync(file) && statSync(file).mtimeMs > inputs
  })
}

if (process.argv.includes('--check')) {
  const tmp = mkdtempSync(join(tmpdir(), 'implus-proto-'))
  try {
    generate(tmp)
    const stale = names.filter((name) => {
      const committed = join(outDir, name)
      return !existsSync(committed) || readFileSync(committed, 'utf8') !== readFileSync(join(tmp, name), 'utf8')
    })
    if (stale.length > 0) {
      console.error(`gen-proto: ${stale.join(', ')} out of date; run node scripts/gen-proto.mjs`)
      process.exitCode = 1
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true })
  }
} else if (!upToDate()) {
  generate(outDir)
}
