// One server at a time on an embedded database's data folder. A second one started on it (a manual run
// beside the service, say) would otherwise take the first one's PostgreSQL for one left by a killed
// server and stop it: an outage for the first one's clients.
import { readFileSync } from 'node:fs'
import { link, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { dataFolderError, ConfigError } from '../config.js'

/** Who holds the folder: a pid, and what makes that pid this very process (it may be reused after its exit). */
interface Holder {
  readonly pid: number
  readonly startTicks: string
  readonly bootId: string
}

const FILE = 'implus.owner'
/** An unreadable claim younger than this may be one being replaced right now: it counts as held. */
const UNREADABLE_GRACE_MS = 10_000

/**
 * Claims `dataDir` for this process, or throws a ConfigError naming the live server that holds it. A
 * claim left by a process that is gone (killed with -9, or from before a reboot) is taken over. Where
 * processes cannot be told apart (no /proc), nothing is claimed. Returns the release, for a clean stop.
 * Processes are told apart within one host's pid namespace: two containers sharing a data folder are not.
 */
export async function claimDataFolder (dataDir: string): Promise<() => Promise<void>> {
  const me = holderOf(process.pid)
  if (me === null) return async () => {}
  const file = join(dataDir, FILE)
  const mine = JSON.stringify(me)
  const release = async (): Promise<void> => {
    if (await readClaim(file) === mine) await rm(file, { force: true })
  }
  try {
    // Written whole beside it, then linked into place: link fails if a claim exists, and no claim is ever
    // seen half written.
    const draft = `${file}.${process.pid}`
    await writeFile(draft, mine, { mode: 0o644 })
    try {
      for (let attempt = 0; attempt < 2; attempt++) {
        try {
          await link(draft, file)
          // A server that judged the previous claim stale at the same moment may have replaced this one.
          if (await readClaim(file) === mine) return release
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
        }
        const held = await holdingPid(file)
        if (held === process.pid) return release
        if (held === UNREADABLE) throw new ConfigError(`IMPLUS_DATA_DIR ${dataDir}: another server is claiming it right now; start one at a time`)
        if (held !== null) {
          throw new ConfigError(`IMPLUS_DATA_DIR ${dataDir} is in use by the implus server running as pid ${held}: ` +
            'stop that one first, or give this one another IMPLUS_DATA_DIR')
        }
        if (attempt === 0) await rm(file, { force: true })
      }
    } finally {
      await rm(draft, { force: true })
    }
  } catch (err) {
    throw err instanceof ConfigError ? err : dataFolderError(file, err)
  }
  throw new ConfigError(`IMPLUS_DATA_DIR ${dataDir}: another server claimed it while this one started; start one at a time`)
}

async function readClaim (file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8')
  } catch {
    return null
  }
}

/** What holdingPid says of a recent claim that cannot be read: held by someone. */
const UNREADABLE = -1

/** The pid in the claim while that process still runs, UNREADABLE (see there), or null when the claim is stale. */
async function holdingPid (file: string): Promise<number | null> {
  const text = await readClaim(file)
  let claim: Partial<Holder> | null = null
  try {
    claim = text === null ? null : JSON.parse(text) as Partial<Holder>
  } catch {}
  if (typeof claim?.pid !== 'number') {
    const changed = await stat(file).then(info => info.mtimeMs, () => 0)
    return Date.now() - changed < UNREADABLE_GRACE_MS ? UNREADABLE : null
  }
  const running = holderOf(claim.pid)
  return running !== null && running.startTicks === claim.startTicks && running.bootId === claim.bootId ? claim.pid : null
}

/**
 * `pid` as it runs now: its start time (clock ticks since boot, /proc/<pid>/stat field 22) and this boot's
 * id. An exited process not yet reaped (a zombie) counts as gone.
 */
function holderOf (pid: number): Holder | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the command name (in parentheses, may hold spaces) start at field 3, state.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    if (fields[0] === 'Z' || fields[0] === 'X') return null
    const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()
    return fields[19] === undefined ? null : { pid, startTicks: fields[19], bootId }
  } catch {
    return null
  }
}
