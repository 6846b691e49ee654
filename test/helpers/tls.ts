// A self-signed certificate for localhost made by openssl, and Node child processes that trust it through
// NODE_EXTRA_CA_CERTS, as a user with a private CA would (the SDK takes no CA option: it uses the system's).
import { execFileSync, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import type { IncomingHttpHeaders } from 'node:http'
import { request } from 'node:https'
import { runCli, type CliResult } from './cli.js'
import { ROOT } from './server.js'

/** Writes a certificate (CN and subjectAltName localhost, 127.0.0.1) and its key, valid one day; the key encrypted when a passphrase is given. */
export function makeSelfSignedCertificate (certFile: string, keyFile: string, passphrase?: string): void {
  const protection = passphrase === undefined ? ['-nodes'] : ['-passout', `pass:${passphrase}`]
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', ...protection, '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'pipe' })
}

export interface NodeRun { code: number | null, stdout: string, stderr: string }

/** Runs `node <args>` (from the repository) trusting `certFile`, with `env` over this environment; resolves when it exits. */
export function runTrusting (certFile: string, args: string[], env: Record<string, string> = {}): Promise<NodeRun> {
  return new Promise(resolve => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, NODE_OPTIONS: '', ...env, NODE_EXTRA_CA_CERTS: certFile }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', chunk => { stdout += chunk })
    child.stderr.on('data', chunk => { stderr += chunk })
    child.on('close', code => resolve({ code, stdout, stderr }))
  })
}

/** Runs ESM code (imports resolve from the repository) in a Node that trusts `certFile`. */
export function nodeTrusting (certFile: string, code: string, args: string[] = []): Promise<NodeRun> {
  return runTrusting(certFile, ['--input-type=module', '-e', code, ...args])
}

/** Runs the CLI (dist/cli.js) against `server` trusting `certFile`, its session kept in `home`. */
export function cliTrusting (certFile: string, home: string, server: string, args: string[]): Promise<CliResult> {
  return runCli(['--server', server, ...args], { env: { ...process.env, NODE_OPTIONS: '', IMPLUS_CLI_HOME: home, IMPLUS_WS_URL: '', NODE_EXTRA_CA_CERTS: certFile } })
}

export interface HttpsAnswer { status: number, headers: IncomingHttpHeaders, text: string }

/** GET over HTTPS trusting `certFile` (the test process's own fetch trusts only the system's CAs). */
export function httpsGet (url: string, certFile: string): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    request(url, { ca: readFileSync(certFile) }, res => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', chunk => { text += chunk })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }))
    }).on('error', reject).end()
  })
}
