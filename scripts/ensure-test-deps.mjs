// Installs what the test suite needs from Debian when it is missing, so
// `npm test` works on a fresh machine: redis-server (cluster-mode tests),
// chromium (web page test) and nginx with its stream module (the test of
// deploy/nginx.conf). Needs root and Debian's package mirror; both are the
// case on CI and developer machines here.
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'

const wanted = [
  { file: '/usr/bin/redis-server', pkg: 'redis-server' },
  { file: '/usr/bin/chromium', pkg: 'chromium' },
  { file: '/usr/sbin/nginx', pkg: 'nginx' },
  { file: '/usr/lib/nginx/modules/ngx_stream_module.so', pkg: 'libnginx-mod-stream' }
]
const missing = wanted.filter(w => !existsSync(w.file)).map(w => w.pkg)
if (missing.length > 0) {
  console.log(`installing test dependencies: ${missing.join(', ')}`)
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env })
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { stdio: 'inherit', env })
}
