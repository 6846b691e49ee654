// `npm start`: builds only when dist/ is older than what it is built from, then runs the server in this
// process, so a start with a current dist/ is ready in about a second instead of paying for a full build
// (≈8 s) every time. "Current" is make's rule: no input file is newer than the stamp the last complete
// build wrote last. package.json runs this with `exec`: npm's SIGTERM then reaches the server itself
// (sh would not pass it on), which drains and stops its embedded PostgreSQL.
import { execFileSync } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

/** What the build reads (scripts/build.mjs and what it runs), relative to the repository. */
export const BUILD_INPUTS = [
  'src', 'packages/client/src', 'proto', 'web',
  'scripts/build.mjs', 'scripts/build-client.mjs', 'scripts/build-web.mjs', 'scripts/gen-proto.mjs',
  'tsconfig.json', 'packages/client/tsconfig.json', 'package-lock.json'
]
/** Written by scripts/build.mjs as its very last step: a build that failed half way leaves none. */
export const BUILD_STAMP = 'dist/.build-stamp'

/** Why `root`'s dist/ must be rebuilt, or null when it is current. */
export function staleReason (root, inputs = BUILD_INPUTS) {
  let built
  try {
    built = statSync(join(root, BUILD_STAMP)).mtimeMs
  } catch {
    return `${BUILD_STAMP} is missing`
  }
  for (const input of inputs) {
    const newer = newerThan(join(root, input), built)
    if (newer !== null) return `${relative(root, newer)} changed since the last build`
  }
  return null
}

/** The first file under `path` (a file or a folder) modified after `time`, or null. */
function newerThan (path, time) {
  let stat
  try {
    stat = statSync(path)
  } catch {
    return null // an optional input that does not exist
  }
  // A folder's own time changes when a file in it is added, removed or renamed.
  if (stat.mtimeMs > time) return path
  if (!stat.isDirectory()) return null
  for (const entry of readdirSync(path)) {
    const found = newerThan(join(path, entry), time)
    if (found !== null) return found
  }
  return null
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = fileURLToPath(new URL('..', import.meta.url))
  const reason = staleReason(root)
  if (reason !== null) {
    console.error(`implus: building (${reason})`)
    execFileSync(process.execPath, [join(root, 'scripts/build.mjs')], { cwd: root, stdio: 'inherit' })
  }
  await import('../dist/main.js')
}
