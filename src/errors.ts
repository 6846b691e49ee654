/**
 * Every refusal in implus is an HTTP-like status (docs/protocol.md: HTTP `code`
 * and frame `errorCode` share the same numbers). One class carries it from
 * wherever the refusal happens to the HTTP envelope or the 1006/1009 frame.
 */
export const Status = Object.freeze({
  OK: 200,
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  TIMEOUT: 408,
  CONFLICT: 409,
  GONE: 410,
  TOO_LARGE: 413,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  UNAVAILABLE: 503
})

export type StatusCode = typeof Status[keyof typeof Status]

const REASONS: Record<StatusCode, string> = {
  200: 'OK',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  408: 'Request Timeout',
  409: 'Conflict',
  410: 'Gone',
  413: 'Payload Too Large',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable'
}

export function reasonPhrase (status: StatusCode): string {
  return REASONS[status]
}

export class AppError extends Error {
  override name = 'AppError'
  /**
   * `retryAfterSeconds`: when a refusal ends at a known time (a rate window, a login lock-out), the
   * client is told so (HTTP `Retry-After`) instead of guessing.
   */
  constructor (readonly status: StatusCode, message: string, readonly retryAfterSeconds: number | null = null) {
    super(message)
  }
}

export const badRequest = (message: string): AppError => new AppError(Status.BAD_REQUEST, message)
export const unauthorized = (message: string): AppError => new AppError(Status.UNAUTHORIZED, message)
export const forbidden = (message: string): AppError => new AppError(Status.FORBIDDEN, message)
export const notFound = (message: string): AppError => new AppError(Status.NOT_FOUND, message)
export const conflict = (message: string): AppError => new AppError(Status.CONFLICT, message)
export const tooLarge = (message: string): AppError => new AppError(Status.TOO_LARGE, message)
export const unavailable = (message: string): AppError => new AppError(Status.UNAVAILABLE, message)
