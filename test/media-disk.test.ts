// Files and media messages with files on local disk (the single-host default): test/helpers/media-suite.ts.
import t from 'tap'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { startServer, type TestServer } from './helpers/server.js'
import { SUITE_ENV, mediaSuite } from './helpers/media-suite.js'

let server: TestServer
t.before(async () => { server = await startServer({ env: SUITE_ENV }) })
t.teardown(() => server?.stop())

function countFiles (dir: string): number {
  let n = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) n += entry.isDirectory() ? countFiles(join(dir, entry.name)) : 1
  return n
}

mediaSuite(t, {
  server: () => server,
  objects: async () => {
    try {
      return countFiles(join(server.dataDir, 'media', 'objects'))
    } catch {
      return 0
    }
  }
})
