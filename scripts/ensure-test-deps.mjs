// Installs what the test suite needs from Debian when it is missing, so
// `npm test` works on a fresh machine: redis-server (cluster-mode tests) and
// chromium (web page test). Needs root and Debian's package mirror; both are
// the case on CI and developer machines here.
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'

const wanted = [
  { bin: '/usr/bin/redis-server', pkg: 'redis-server' },
  { bin: '/usr/bin/chromium', pkg: 'chromium' }
]
const missing = wanted.filter(w => !existsSync(w.bin)).map(w => w.pkg)
if (missing.length > 0) {
  console.log(`installing test dependencies: ${missing.join(', ')}`)
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env })
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { stdio: 'inherit', env })
}
