/**
 * File names as users give them (upload `?name=`, a media message's `name`):
 * a name, never a path. Anything that could climb folders, hide behind control
 * characters or break a header is refused with a reason instead of being
 * silently rewritten, so the sender learns what was wrong.
 */
export const MAX_FILE_NAME_BYTES = 255

// C0 and C1 controls, DEL, and the Unicode line and paragraph separators.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/ // eslint-disable-line no-control-regex

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/** Why this is not an acceptable file name, or null when it is. */
export function fileNameProblem (name: string): string | null {
  if (name.trim() === '') return 'must not be empty'
  if (Buffer.byteLength(name) > MAX_FILE_NAME_BYTES) return `must be at most ${MAX_FILE_NAME_BYTES} bytes of UTF-8`
  if (name.includes('/') || name.includes('\\')) return 'must be a file name, not a path (no / or \\)'
  if (name === '.' || name === '..') return 'must be a file name, not . or ..'
  if (CONTROL.test(name)) return 'must not contain control characters'
  if (LONE_SURROGATE.test(name)) return 'must be well-formed Unicode'
  return null
}

/** `Content-Disposition` for a download: the name as RFC 6266 / RFC 8187 UTF-8, with an ASCII fallback. */
export function contentDisposition (kind: 'inline' | 'attachment', name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\%]/g, '_')
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encodeRfc8187(name)}`
}

function encodeRfc8187 (value: string): string {
  return encodeURIComponent(value).replace(/['()*]/g, c => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
}
