// Logged-in socket clients for tests: opened, logged in, and closed when the test process's teardown runs.
import { ImConnection } from '@implus/client'
import type { TestServer } from './server.js'

export interface TestUser { readonly userId: string, readonly token: string }

/** Opens a connection of the given kind and logs the user in; throws when the login is refused. */
export async function loggedIn (server: TestServer, user: TestUser, opened: ImConnection[], kind: 'ws' | 'tcp' | 'udp' = 'ws'): Promise<ImConnection> {
  const c = await ImConnection.open({ transport: kind, host: '127.0.0.1', port: server.ports[kind]!, token: kind === 'udp' ? user.token : undefined })
  opened.push(c)
  const res = await c.login(user.userId, user.token)
  if (res.errorCode !== 0) throw new Error(`login of ${user.userId} over ${kind} failed: ${res.errorCode} ${res.content}`)
  return c
}
