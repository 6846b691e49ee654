import { randomBytes } from 'node:crypto'
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { dataFolderError } from './config.js'

export interface Secrets {
  readonly jwtSecret: string
  readonly embeddedPgPassword: string
}

/**
 * Secrets the operator did not set are generated once and kept (mode 0600) in
 * the data folder, so tokens and the embedded database survive restarts.
 */
export async function loadSecrets (dataDir: string, configuredJwtSecret: string | null): Promise<Secrets> {
  await mkdir(dataDir, { recursive: true, mode: 0o755 })
  const file = join(dataDir, 'secrets.json')
  let stored: Partial<Secrets> = {}
  try {
    stored = JSON.parse(await readFile(file, 'utf8')) as Partial<Secrets>
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw dataFolderError(file, err)
  }
  const secrets: Secrets = {
    jwtSecret: stored.jwtSecret ?? randomBytes(32).toString('base64url'),
    embeddedPgPassword: stored.embeddedPgPassword ?? randomBytes(24).toString('base64url')
  }
  if (stored.jwtSecret !== secrets.jwtSecret || stored.embeddedPgPassword !== secrets.embeddedPgPassword) {
    await writeFile(`${file}.tmp`, JSON.stringify(secrets), { mode: 0o600 })
    await rename(`${file}.tmp`, file)
  }
  return { jwtSecret: configuredJwtSecret ?? secrets.jwtSecret, embeddedPgPassword: secrets.embeddedPgPassword }
}
