import postgres from 'postgres'

export type Sql = postgres.Sql<Record<string, never>>

export interface ConnectOptions {
  readonly max: number
  readonly applicationName: string
  /**
   * For the pool serving pulls: every read there walks an index in order and stops at a LIMIT.
   * With statistics that lag a fast-growing table, the planner prefers a bitmap scan that reads
   * every row after the cursor and sorts them (1.4 ms instead of 0.05 ms for a 50-message page
   * of a 10,000-message group, measured): bitmap scans are turned off for this pool.
   */
  readonly orderedReads?: boolean
}

/**
 * Runs a first query and waits for it: postgres.js learns the server's array
 * types on its first connection, and array parameters sent before that are
 * serialised as plain text (PostgreSQL: "malformed array literal").
 */
export async function warmUp (sql: Sql): Promise<void> {
  await sql`select 1`
}

/**
 * One place decides how implus talks to PostgreSQL: bigint columns come back
 * as decimal strings (ids must not lose precision), notices stay quiet.
 */
export function connect (url: string, options: ConnectOptions): Sql {
  return postgres(url, {
    max: options.max,
    idle_timeout: 0,
    connect_timeout: 10,
    onnotice: () => {},
    connection: {
      application_name: options.applicationName,
      ...(options.orderedReads === true ? { enable_bitmapscan: 'off' } : {})
    },
    types: {
      // int8 stays a string (postgres.js default); spelt out so nobody "fixes" it to Number.
    }
  }) as unknown as Sql
}

export type Tx = postgres.TransactionSql<Record<string, never>>
export type Pending = postgres.PendingQuery<postgres.Row[]>
