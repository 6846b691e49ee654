// Where a client keeps its stream positions between runs, so a restart pulls only what it missed.
// Engines implement SeqStore; MemorySeqStore is the default (positions last as long as the process).
//
// Contract: load returns the last state saved for the user, or the empty state if none; the state
// returned is the caller's to change (no aliasing with the store); save replaces the user's state whole.

/** Positions of one user's streams: last delivered userSeq, and per group conversation its conversationSeq. */
export interface SyncState {
  userSeq: number
  groups: Record<string, number>
}

export interface SeqStore {
  load(userId: string): Promise<SyncState>
  save(userId: string, state: SyncState): Promise<void>
}

export function emptySyncState (): SyncState {
  return { userSeq: 0, groups: {} }
}

export function copySyncState (state: SyncState): SyncState {
  return { userSeq: state.userSeq, groups: { ...state.groups } }
}

function isSeq (value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
}

/** Checks data read back from storage; persisted text may come from an older or broken client. */
export function isSyncState (value: unknown): value is SyncState {
  if (typeof value !== 'object' || value === null) return false
  const { userSeq, groups } = value as { userSeq?: unknown; groups?: unknown }
  if (!isSeq(userSeq) || typeof groups !== 'object' || groups === null || Array.isArray(groups)) return false
  return Object.values(groups).every(isSeq)
}

export class MemorySeqStore implements SeqStore {
  readonly #states = new Map<string, SyncState>()

  async load (userId: string): Promise<SyncState> {
    const state = this.#states.get(userId)
    return state === undefined ? emptySyncState() : copySyncState(state)
  }

  async save (userId: string, state: SyncState): Promise<void> {
    this.#states.set(userId, copySyncState(state))
  }
}
