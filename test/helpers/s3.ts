// A real S3-compatible server for tests and benchmarks: s3rver (npm, a devDependency, so `npm ci` installs
// it), run as its own process on a free port with a fresh folder and one bucket, killed when the test
// process exits. Chosen after trying what this machine can install (README "Files"): it speaks what the
// AWS SDK v3 sends here (multipart uploads, ranged GETs, HEAD, DeleteObjects); it does not check SigV4
// signatures and answers suffix ranges wrongly, which implus never sends (it asks for explicit ranges).
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { join } from 'node:path'
import { onExit } from 'signal-exit'
import { ROOT, makeTempDir } from './server.js'

const running = new Set<ChildProcess>()
onExit(() => { for (const child of running) try { child.kill('SIGKILL') } catch {} })

export interface S3Server {
  readonly child: ChildProcess
  readonly endpoint: string
  readonly bucket: string
  /** The folder s3rver keeps objects in. */
  readonly directory: string
  /** What a server needs in its environment to store files here. */
  readonly env: Record<string, string>
}

export async function startS3 (bucket = 'implus-test'): Promise<S3Server> {
  const directory = makeTempDir('implus-s3-')
  const child = spawn(process.execPath, [join(ROOT, 'node_modules/s3rver/bin/s3rver.js'), '-d', directory, '-a', '127.0.0.1', '-p', '0', '--configure-bucket', bucket], { stdio: ['ignore', 'pipe', 'pipe'] })
  running.add(child)
  child.once('exit', () => running.delete(child))
  // It logs every request afterwards: keep reading, so a full pipe never stalls it.
  const port = await new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', line => {
      const match = /S3rver listening on [\d.]+:(\d+)/.exec(line)
      if (match !== null) resolve(Number(match[1]))
    })
    child.stderr!.resume()
    child.once('exit', code => reject(new Error(`s3rver exited (${code}) before it listened`)))
    child.once('error', reject)
  })
  const endpoint = `http://127.0.0.1:${port}`
  return {
    child,
    endpoint,
    bucket,
    directory,
    env: { IMPLUS_S3_BUCKET: bucket, IMPLUS_S3_ENDPOINT: endpoint, IMPLUS_S3_ACCESS_KEY_ID: 'S3RVER', IMPLUS_S3_SECRET_ACCESS_KEY: 'S3RVER' }
  }
}

export async function stopS3 (server: S3Server): Promise<void> {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return
  const exited = new Promise(resolve => server.child.once('exit', resolve))
  server.child.kill('SIGKILL')
  await exited
}
