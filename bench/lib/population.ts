import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { connect, warmUp } from '../../dist/db/connect.js'
import { Jwt } from '../../dist/auth/jwt.js'
import run from '../../dist/workers/password.js'
import type { TestServer } from '../../test/helpers/server.js'

export interface BenchUser {
  readonly userId: string
  readonly token: string
}

/**
 * Creates `count` users straight in the server's database (one scrypt hash
 * shared by all, inserted in bulk) and signs their tokens with the server's
 * secret: registering 10,000 users through scrypt would benchmark scrypt.
 */
export async function createUsers (server: TestServer, count: number, firstId = 1_000_000): Promise<BenchUser[]> {
  const secrets = JSON.parse(readFileSync(join(server.dataDir, 'secrets.json'), 'utf8')) as { jwtSecret: string, embeddedPgPassword: string }
  const port = Number(server.env.IMPLUS_EMBEDDED_PG_PORT)
  const sql = connect(`postgres://postgres:${encodeURIComponent(secrets.embeddedPgPassword)}@127.0.0.1:${port}/implus`, { max: 2, applicationName: 'implus-bench' })
  await warmUp(sql)
  const hash = await run({ op: 'hash', password: 'bench-password', cost: 10 }) as string
  const ids = Array.from({ length: count }, (_, i) => String(firstId + i))
  for (let at = 0; at < ids.length; at += 5000) {
    const slice = ids.slice(at, at + 5000)
    await sql`insert into users (user_id, username, password_hash)
      select u, 'bench-' || u, ${hash} from unnest(${sql.array(slice)}::text[]::bigint[]) as u on conflict do nothing`
  }
  await sql.end()
  const jwt = new Jwt(secrets.jwtSecret)
  const iat = Math.floor(Date.now() / 1000)
  return ids.map(userId => ({ userId, token: jwt.sign({ sub: userId, iat, exp: iat + 86400, ver: 0 }) }))
}

/**
 * The same users with tokens signed by `jwtSecret`: a server given IMPLUS_JWT_SECRET (cluster mode)
 * signs with that, while createUsers signs with the one generated into secrets.json.
 */
export function signTokens (users: BenchUser[], jwtSecret: string): BenchUser[] {
  const jwt = new Jwt(jwtSecret)
  const iat = Math.floor(Date.now() / 1000)
  return users.map(({ userId }) => ({ userId, token: jwt.sign({ sub: userId, iat, exp: iat + 86400, ver: 0 }) }))
}
