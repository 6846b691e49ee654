// piscina task: scrypt password hashing, off the main thread.
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto'

export type PasswordTask =
  | { op: 'hash', password: string, cost: number }
  | { op: 'verify', password: string, hash: string }

const KEY_LENGTH = 32
const BLOCK_SIZE = 8

function derive (password: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, KEY_LENGTH, options, (err, key) => err ? reject(err) : resolve(key))
  })
}

function memoryFor (N: number, r: number): number {
  return 128 * N * r * 2
}

/** Stored as `scrypt$log2N$r$p$salt$key` so the cost can be raised later without breaking old hashes. */
export default async function run (task: PasswordTask): Promise<string | boolean> {
  if (task.op === 'hash') {
    const salt = randomBytes(16)
    const N = 2 ** task.cost
    const key = await derive(task.password, salt, { N, r: BLOCK_SIZE, p: 1, maxmem: memoryFor(N, BLOCK_SIZE) })
    return `scrypt$${task.cost}$${BLOCK_SIZE}$1$${salt.toString('base64')}$${key.toString('base64')}`
  }
  const parts = task.hash.split('$')
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false
  const N = 2 ** Number(parts[1])
  const r = Number(parts[2])
  const expected = Buffer.from(parts[5]!, 'base64')
  const key = await derive(task.password, Buffer.from(parts[4]!, 'base64'), { N, r, p: Number(parts[3]), maxmem: memoryFor(N, r) })
  return key.length === expected.length && timingSafeEqual(key, expected)
}
