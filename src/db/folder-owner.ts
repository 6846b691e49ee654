// One server at a time on an embedded database's data folder. A second one started on it (a manual run
// beside the service, say) would otherwise take the first one's PostgreSQL for one left by a killed
// server and stop it: an outage for the first one's clients.
import { readFileSync } from 'node:fs'
import { open, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { ConfigError } from '../config.js'

/** Who holds the folder: a pid, and what makes that pid this very process (it may be reused after its exit). */
interface Holder {
  readonly pid: number
  readonly startTicks: string
  readonly bootId: string
}

const FILE = 'implus.owner'

/**
 * Claims `dataDir` for this process, or throws a ConfigError naming the live server that holds it. A
 * claim left by a process that is gone (killed with -9, or from before a reboot) is taken over. Where
 * processes cannot be told apart (no /proc), nothing is claimed. Returns the release, for a clean stop.
 */
export async function claimDataFolder (dataDir: string): Promise<() => Promise<void>> {
  const me = holderOf(process.pid)
  if (me === null) return async () => {}
  const file = join(dataDir, FILE)
  // Two attempts: a stale claim is removed once, and a server starting at the same moment wins the race or loses it cleanly.
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(file, 'wx', 0o644)
      await handle.writeFile(JSON.stringify(me))
      await handle.close()
      return async () => {
        if (await currentHolder(file) === process.pid) await rm(file, { force: true })
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
    const held = await currentHolder(file)
    if (held === process.pid) return async () => { await rm(file, { force: true }) }
    if (held !== null) {
      throw new ConfigError(`IMPLUS_DATA_DIR ${dataDir} is in use by the implus server running as pid ${held}: ` +
        'stop that one first, or give this one another IMPLUS_DATA_DIR')
    }
    await rm(file, { force: true })
  }
  throw new ConfigError(`IMPLUS_DATA_DIR ${dataDir}: another server claimed it while this one started; start one at a time`)
}

/** The pid in the claim when that process still runs; null when the claim is stale or unreadable. */
async function currentHolder (file: string): Promise<number | null> {
  let claim: Partial<Holder>
  try {
    claim = JSON.parse(await readFile(file, 'utf8')) as Partial<Holder>
  } catch {
    return null
  }
  if (typeof claim.pid !== 'number') return null
  const running = holderOf(claim.pid)
  return running !== null && running.startTicks === claim.startTicks && running.bootId === claim.bootId ? claim.pid : null
}

/** `pid` as it runs now: its start time (clock ticks since boot, /proc/<pid>/stat field 22) and this boot's id. */
function holderOf (pid: number): Holder | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the command name (in parentheses, may hold spaces) start at field 3, state.
    const startTicks = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]
    const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()
    return startTicks === undefined ? null : { pid, startTicks, bootId }
  } catch {
    return null
  }
}
