// Assertions on the HTTP API's envelope: status and `code` agree, refusals say why.
import type { Test } from 'tap'
import type { ApiResponse } from './server.js'

export function expectOk (t: Test, res: ApiResponse, what: string): any {
  t.equal(res.status, 200, `${what}: HTTP 200 (${JSON.stringify(res.body)})`)
  t.equal(res.body?.code, 200, `${what}: envelope code 200`)
  return res.body?.data
}

export function expectRefused (t: Test, res: ApiResponse, status: number, what: string): void {
  t.equal(res.status, status, `${what}: HTTP ${status} (${JSON.stringify(res.body)})`)
  t.equal(res.body?.code, status, `${what}: envelope code ${status}`)
  t.not(res.body?.message, 'success', `${what}: says why`)
}
