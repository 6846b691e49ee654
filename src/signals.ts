// Process signals: how shutdown takes them over from libraries that installed their own.

/**
 * Makes `listener` the only one for `signal`. Ours is added before the others are removed: were the
 * listener count to drop to zero, Node would close the signal's libuv handle, and a signal already
 * caught by that handle but not yet dispatched (one that came during this synchronous code) would be
 * dropped with it: the process would neither stop nor die (seen as a Ctrl-C right after the banner).
 */
export function takeOverSignal (signal: NodeJS.Signals, listener: () => void, times: 'once' | 'always'): void {
  const previous = process.listeners(signal)
  if (times === 'once') process.once(signal, listener)
  else process.on(signal, listener)
  for (const other of previous) process.off(signal, other as () => void)
}
