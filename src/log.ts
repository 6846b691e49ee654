import { pino, type Logger } from 'pino'
import pretty from 'pino-pretty'

export type { Logger }

/** JSON lines for log shippers; pretty lines for a person at a terminal. */
export type LogFormat = 'json' | 'pretty'

export interface LogOptions {
  readonly level: string
  readonly format: LogFormat
  /** Pretty lines only: ANSI colours (a terminal that shows them). */
  readonly color: boolean
}

/** LOG_FORMAT `auto` is pretty (in colour) on a terminal and JSON otherwise: piped, under systemd, in a container. */
export function logOptions (level: string, format: LogFormat | 'auto', stdoutIsTty: boolean): LogOptions {
  const resolved = format === 'auto' ? (stdoutIsTty ? 'pretty' : 'json') : format
  return { level, format: resolved, color: resolved === 'pretty' && stdoutIsTty }
}

export function createLogger (options: LogOptions, bindings: Record<string, unknown> = {}): Logger {
  // pino's own base (pid, hostname) is replaced: one pid per line, and the hostname is the collector's to add.
  const base = { pid: process.pid, ...bindings }
  if (options.format === 'json') return pino({ level: options.level, base })
  return pino({ level: options.level, base }, pretty({
    colorize: options.color,
    // Synchronous: a fatal line printed just before process.exit() must reach the terminal.
    sync: true,
    translateTime: 'SYS:HH:MM:ss.l',
    singleLine: true,
    ignore: 'pid,hostname'
  }))
}
