import type { Sql } from './connect.js'
import type { Metrics } from '../metrics.js'

/**
 * PostgreSQL health for /metrics: one `select 1` on the main pool every `intervalMs`. A probe still
 * unanswered when the next is due counts as down, so a hung database shows as 0, not as a stale 1.
 */
export function probePostgres (sql: Sql, metrics: Metrics, intervalMs = 5000): { stop (): void } {
  const up = metrics.gauge('implus_postgres_up', 'Whether the last PostgreSQL probe (select 1) succeeded in time: 1 or 0.')
  const roundTrip = metrics.gauge('implus_postgres_probe_seconds', 'Round trip of the last successful PostgreSQL probe, in seconds.')
  let inFlight = false
  const probe = (): void => {
    if (inFlight) {
      up.value = 0
      return
    }
    inFlight = true
    const started = process.hrtime.bigint()
    sql`select 1`.then(() => {
      up.value = 1
      roundTrip.value = Number(process.hrtime.bigint() - started) / 1e9
    }, () => {
      up.value = 0
    }).finally(() => { inFlight = false })
  }
  probe()
  const timer = setInterval(probe, intervalMs)
  timer.unref()
  return { stop: () => clearInterval(timer) }
}
