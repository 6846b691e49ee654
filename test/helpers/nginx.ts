// Debian's nginx (the test command installs it) running deploy/nginx.conf as shipped. The file is written
// for a real site; a test renders it with only what differs on a test machine, each a checked substitution
// (a shipped file that no longer has what a substitution names fails the test, never runs half-rendered):
// its listen ports (on 127.0.0.1), the servers of each upstream, the worker user, and the log, pid,
// certificate and temp paths under the test's own prefix folder. Every other line runs as shipped.
// nginx runs in the foreground (`daemon off`) in its own process group, killed with it at exit.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { createSocket, type Socket as UdpSocket } from 'node:dgram'
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { connect, createServer, type Server } from 'node:net'
import { userInfo } from 'node:os'
import { join } from 'node:path'
import { onExit } from 'signal-exit'
import { ROOT, killGroup, makeTempDir, waitFor } from './server.js'
import { makeSelfSignedCertificate } from './tls.js'

export const NGINX = '/usr/sbin/nginx'
export const SHIPPED_NGINX_CONF = join(ROOT, 'deploy', 'nginx.conf')
/** Debian builds the stream module as a dynamic module; its modules-enabled snippet loads it from <prefix>/modules. */
const DEBIAN_MODULES = '/usr/lib/nginx/modules'
/** The certificate and key the shipped file names, under its TLS folder. */
const CERT_NAME = 'chat.example.com.fullchain.pem'
const KEY_NAME = 'chat.example.com.key.pem'

const running = new Set<ChildProcess>()
onExit(() => { for (const child of running) killGroup(child) })

export interface NginxSite {
  /** A shipped `listen` port → the 127.0.0.1 port it becomes. Every port the file listens on must be named. */
  listen: Record<number, number>
  /** An upstream's name → the addresses its `server` entries become, in order (fewer drops the rest). Every upstream must be named. */
  upstreams: Record<string, string[]>
}

export interface RenderPaths {
  /** nginx's prefix: logs/, tls/, temp/ and nginx.pid go here. */
  dir: string
  /** The worker user (the shipped one need not exist here). */
  user: string
}

/** Replaces `pattern` (global) and checks how often it matched: exactly once, or at least once. */
function substitute (text: string, pattern: RegExp, to: string | ((...groups: string[]) => string), times: 'once' | 'some', what: string): string {
  const count = [...text.matchAll(pattern)].length
  if (times === 'once' ? count !== 1 : count === 0) throw new Error(`deploy/nginx.conf: expected ${times === 'once' ? 'exactly one' : 'some'} ${what} (${pattern}), found ${count}`)
  return text.replace(pattern, to as (...groups: string[]) => string)
}

/** deploy/nginx.conf with a test's ports, hosts and paths; throws if the file does not have what a substitution expects. */
export function renderNginxConf (shipped: string, site: NginxSite, { dir, user }: RenderPaths): string {
  let text = shipped
  const usedPorts = new Set<number>()
  text = substitute(text, /^(\s*listen\s+)(\d+)(?=[\s;])/gm, (_all, head, port) => {
    const to = site.listen[Number(port)]
    if (to === undefined) throw new Error(`deploy/nginx.conf listens on ${port}, which the test does not map`)
    usedPorts.add(Number(port))
    return `${head}127.0.0.1:${to}`
  }, 'some', 'listen directive')
  const unused = Object.keys(site.listen).filter(port => !usedPorts.has(Number(port)))
  if (unused.length > 0) throw new Error(`deploy/nginx.conf no longer listens on ${unused.join(', ')}`)

  const usedUpstreams = new Set<string>()
  text = substitute(text, /^(\s*upstream\s+(\w+)\s*\{\n)([\s\S]*?)(^\s*\})/gm, (_all, head, name, body, close) => {
    const servers = site.upstreams[name]
    if (servers === undefined) throw new Error(`deploy/nginx.conf has upstream ${name}, which the test does not map`)
    usedUpstreams.add(name)
    let index = 0
    const lines = body.split('\n').flatMap((line: string) => {
      const entry = /^(\s*server\s+)[^\s;]+(.*)$/.exec(line)
      if (entry === null) return [line]
      const address = servers[index++]
      return address === undefined ? [] : [`${entry[1]}${address}${entry[2]}`]
    })
    if (index < servers.length) throw new Error(`upstream ${name} has ${index} server entries, the test names ${servers.length}`)
    return head + lines.join('\n') + close
  }, 'some', 'upstream block')
  const missing = Object.keys(site.upstreams).filter(name => !usedUpstreams.has(name))
  if (missing.length > 0) throw new Error(`deploy/nginx.conf has no upstream ${missing.join(', ')}`)

  text = substitute(text, /^user\s+\S+;/gm, `user  ${user};`, 'once', 'user directive')
  text = substitute(text, /\/var\/log\/nginx\//g, `${dir}/logs/`, 'some', 'log path')
  text = substitute(text, /\/var\/run\/nginx\.pid/g, `${dir}/nginx.pid`, 'once', 'pid path')
  text = substitute(text, /\/etc\/nginx\/tls\//g, `${dir}/tls/`, 'some', 'certificate path')
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(kind => `    ${kind}_temp_path ${dir}/temp/${kind};`).join('\n')
  text = substitute(text, /^http \{$/gm, `http {\n${temp}`, 'once', 'http block')
  return text
}

export interface Nginx {
  readonly dir: string
  /** The rendered configuration file. */
  readonly conf: string
  /** The certificate nginx serves (self-signed for localhost): clients trust it. */
  readonly certFile: string
  /** The output of `nginx -t` on the rendered file. */
  readonly configTest: string
  readonly child: ChildProcess
  /** SIGTERM (fast shutdown: long-lived WebSocket and UDP sessions would hold a graceful one), then waits for the exit. */
  stop (): Promise<void>
}

/**
 * Ports free right now for nginx's TCP and UDP listeners, held until `release()`: the hosts are told these
 * public addresses before nginx starts, and holding them keeps another process from taking one meanwhile.
 */
export async function reservePorts (tcp: number, udp: number): Promise<{ tcp: number[], udp: number[], release: () => Promise<void> }> {
  const servers = await Promise.all(Array.from({ length: tcp }, () => new Promise<Server>((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.unref()
    server.listen(0, '127.0.0.1', () => resolve(server))
  })))
  const sockets = await Promise.all(Array.from({ length: udp }, () => new Promise<UdpSocket>((resolve, reject) => {
    const socket = createSocket('udp4')
    socket.once('error', reject)
    socket.unref()
    socket.bind(0, '127.0.0.1', () => resolve(socket))
  })))
  return {
    tcp: servers.map(s => (s.address() as { port: number }).port),
    udp: sockets.map(s => s.address().port),
    release: async () => {
      await Promise.all(servers.map(s => new Promise(resolve => s.close(resolve))))
      await Promise.all(sockets.map(s => new Promise<void>(resolve => s.close(() => resolve()))))
    }
  }
}

/** The test ports of the shipped file's TCP listeners (all but `listen … udp`). */
function tcpListenPorts (site: NginxSite): number[] {
  const shipped = readFileSync(SHIPPED_NGINX_CONF, 'utf8')
  return [...shipped.matchAll(/^\s*listen\s+(\d+)([^;]*);/gm)].filter(m => !/\budp\b/.test(m[2]!)).map(m => site.listen[Number(m[1])]!)
}

/** Whether a TCP connection to 127.0.0.1:`port` is accepted. */
function accepts (port: number): Promise<boolean> {
  return new Promise(resolve => {
    const socket = connect({ host: '127.0.0.1', port })
    socket.once('connect', () => { socket.destroy(); resolve(true) })
    socket.once('error', () => { socket.destroy(); resolve(false) })
  })
}

/**
 * Renders deploy/nginx.conf for `site` in a fresh prefix folder with a new certificate, runs `nginx -t` on
 * it (throws with its output when that fails), then starts nginx in the foreground. Resolves once nginx has
 * written its pid file, which it does after binding every listener. `beforeStart` runs just before the
 * start (e.g. releasing reserved ports).
 */
export async function startNginx (site: NginxSite, beforeStart: () => Promise<void> = async () => {}): Promise<Nginx> {
  const dir = makeTempDir('implus-nginx-')
  for (const sub of ['logs', 'tls', 'temp']) mkdirSync(join(dir, sub))
  if (existsSync(DEBIAN_MODULES)) symlinkSync(DEBIAN_MODULES, join(dir, 'modules'))
  const certFile = join(dir, 'tls', CERT_NAME)
  makeSelfSignedCertificate(certFile, join(dir, 'tls', KEY_NAME))
  const conf = join(dir, 'nginx.conf')
  writeFileSync(conf, renderNginxConf(readFileSync(SHIPPED_NGINX_CONF, 'utf8'), site, { dir, user: userInfo().username }))

  const args = ['-p', `${dir}/`, '-c', conf, '-e', join(dir, 'logs', 'startup.log')]
  const check = spawnSync(NGINX, [...args, '-t'], { encoding: 'utf8' })
  const configTest = `${check.stdout}${check.stderr}`
  if (check.status !== 0) throw new Error(`nginx -t failed on the rendered deploy/nginx.conf (${conf}):\n${configTest}${check.error?.message ?? ''}`)

  await beforeStart()
  const child = spawn(NGINX, [...args, '-g', 'daemon off;'], { stdio: ['ignore', 'pipe', 'pipe'], detached: true })
  running.add(child)
  let stderr = ''
  child.stderr!.setEncoding('utf8')
  child.stderr!.on('data', (chunk: string) => { stderr += chunk })
  child.stdout!.resume()
  const exited = new Promise<void>(resolve => child.once('exit', () => { running.delete(child); resolve() }))
  const errorLog = (): string => ['startup.log', 'error.log'].map(name => { try { return readFileSync(join(dir, 'logs', name), 'utf8') } catch { return '' } }).join('')
  // Polled: nginx announces nothing when ready; its pid file appears once every listener is bound.
  await waitFor(() => {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`nginx exited (${child.exitCode ?? child.signalCode}): ${stderr}${errorLog()}`)
    return existsSync(join(dir, 'nginx.pid'))
  }, 30_000).catch(error => {
    killGroup(child)
    throw new Error(`nginx did not start: ${String(error)}\n${stderr}${errorLog()}`)
  })
  // And every TCP listener accepts: under load the first request has met ECONNREFUSED right after the pid
  // file appeared, so readiness is what a client sees, not what nginx wrote.
  await waitFor(async () => (await Promise.all(tcpListenPorts(site).map(accepts))).every(Boolean), 30_000).catch(error => {
    killGroup(child)
    throw new Error(`nginx's listeners did not accept: ${String(error)}\n${stderr}${errorLog()}`)
  })

  return {
    dir,
    conf,
    certFile,
    configTest,
    child,
    async stop () {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      let timer: NodeJS.Timeout | undefined
      const late = new Promise<void>(resolve => { timer = setTimeout(() => { killGroup(child); resolve() }, 20_000) })
      await Promise.race([exited, late])
      clearTimeout(timer)
      await exited
    }
  }
}
