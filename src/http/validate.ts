import { badRequest } from '../errors.js'
import { isUserId, parseConversationId } from '@implus/client/wire'

/** Input checks for HTTP bodies and paths: each failure is a 400 naming the field. */
export function userIdField (value: unknown, name: string): string {
  const text = typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : value
  if (!isUserId(text)) throw badRequest(`${name} must be a decimal integer from 1 to 2^63-1 without leading zeros`)
  return text
}

export function stringField (value: unknown, name: string, min: number, max: number): string {
  if (typeof value !== 'string') throw badRequest(`${name} must be a string`)
  // PostgreSQL text cannot hold NUL: refused here as bad input, not failing later as a 500.
  if (value.includes('\u0000')) throw badRequest(`${name} may not contain NUL characters`)
  const length = [...value].length
  if (length < min || length > max) throw badRequest(`${name} must be ${min} to ${max} characters long`)
  return value
}

export function optionalStringField (value: unknown, name: string, max: number): string | null {
  return value === undefined || value === null ? null : stringField(value, name, 0, max)
}

export function intField (value: unknown, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined || value === null) return fallback
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw badRequest(`${name} must be an integer from ${min} to ${max}`)
  }
  return value
}

export function userIdList (value: unknown, name: string, max: number): string[] {
  if (!Array.isArray(value)) throw badRequest(`${name} must be an array of user ids`)
  if (value.length > max) throw badRequest(`${name} may hold at most ${max} user ids`)
  return [...new Set(value.map((v, i) => userIdField(v, `${name}[${i}]`)))]
}

export function conversationIdField (value: unknown, name: string): string {
  if (typeof value !== 'string' || parseConversationId(value) === null) {
    throw badRequest(`${name} must be a conversation id: private_{a}_{b} with a < b, or group_{id}`)
  }
  return value
}

export function groupIdField (value: unknown, name: string): string {
  const id = conversationIdField(value, name)
  if (!id.startsWith('group_')) throw badRequest(`${name} must be a group conversation id (group_{id})`)
  return id
}

const MAX_URL_CHARS = 1024

/** An http(s) URL of at most 1024 characters; null or '' stand for none. */
export function httpUrlOrNull (value: unknown, name: string): string | null {
  const text = optionalStringField(value, name, MAX_URL_CHARS)
  if (text === null || text === '') return null
  let url: URL | null = null
  try { url = new URL(text) } catch {}
  if (url === null || (url.protocol !== 'http:' && url.protocol !== 'https:')) throw badRequest(`${name} must be an http or https URL`)
  return text
}
