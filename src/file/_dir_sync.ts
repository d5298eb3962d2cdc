// Making directory entries durable: fsync a directory after a file was renamed, linked or
// removed in it. Concurrent writers to one directory share the fsync (group commit): a
// writer whose entry is in place waits for an fsync of the directory that starts after
// that, and one fsync covers every entry made before it started.

import { errorCode, fs } from "./_fs.ts";

/** Makes the entries of `dir` (creations, renames, deletions) durable, on its own. */
export async function syncDir(dir: string): Promise<void> {
  let handle;
  try {
    handle = await fs.openDir(dir);
  } catch (error) {
    // Windows cannot open a directory; its file systems order metadata themselves.
    if (errorCode(error) === "EISDIR" || errorCode(error) === "EPERM") return;
    throw error;
  }
  try {
    await handle.sync();
  } catch (error) {
    if (errorCode(error) !== "EINVAL" && errorCode(error) !== "EPERM") throw error;
  } finally {
    await handle.close();
  }
}

/** A promise and the functions that settle it (not `Promise.withResolvers`: Node 20 lacks it). */
interface Deferred {
  promise: Promise<void>;
  resolve(): void;
  reject(error: unknown): void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((yes, no) => {
    resolve = yes;
    reject = no;
  });
  return { promise, resolve, reject };
}

/**
 * Writers to one directory that share an fsync. Writers join the open epoch when they
 * start, even while they wait for a file descriptor; the first of them to put its file in
 * place closes the epoch (later writers join a new one), and the epoch's fsync starts once
 * every writer in it has put its file in place or failed, and the previous fsync of the
 * directory has ended. So writers running side by side share one fsync, as a hand-written
 * batch would, and each is acknowledged only by an fsync that started after its entry was
 * made.
 */
interface Epoch {
  /** Writers that joined and have not finished (put their file in place, or failed). */
  writers: number;
  /** Whether a writer put its file in place and waits for this epoch's fsync. */
  wanted: boolean;
  done: Deferred;
}

interface DirState {
  /** The epoch new writers join, until a writer closes it. */
  open?: Epoch;
  /** Closed epochs waiting for their fsync, oldest first. */
  queue: Epoch[];
  /** Whether an fsync of the directory is running. */
  running: boolean;
}

const states = new Map<string, DirState>();

/** A writer's share in the next fsync of its directory: see {@linkcode joinDirSync}. */
export interface DirSyncShare {
  /**
   * Leaves the epoch. With `placed`, the writer's entry is in place: resolves once an fsync
   * of the directory that started after that has ended (and rejects if it failed).
   */
  leave(placed: boolean): Promise<void>;
}

/**
 * Joins the writers of `dir` that will share its next fsync. Call it when a write starts,
 * and leave exactly once: with `true` once the file is in place and closed (then await the
 * result), with `false` on failure.
 */
export function joinDirSync(dir: string): DirSyncShare {
  let state = states.get(dir);
  if (state === undefined) states.set(dir, state = { queue: [], running: false });
  const epoch = state.open ??= { writers: 0, wanted: false, done: deferred() };
  epoch.writers++;
  let left = false;
  return {
    leave(placed: boolean): Promise<void> {
      if (left) throw new Error("Internal error: a writer left its directory's fsync twice");
      left = true;
      epoch.writers--;
      if (placed && !epoch.wanted) {
        epoch.wanted = true;
        if (state.open === epoch) state.open = undefined;
        state.queue.push(epoch);
      }
      pump(dir, state);
      return placed ? epoch.done.promise : Promise.resolve();
    },
  };
}

/** Starts the next fsync of `dir` when one is due and none is running. */
function pump(dir: string, state: DirState): void {
  if (state.running) return;
  const epoch = state.queue[0];
  if (epoch === undefined || epoch.writers > 0) {
    if (epoch === undefined && (state.open === undefined || state.open.writers === 0)) {
      states.delete(dir);
    }
    return;
  }
  state.queue.shift();
  state.running = true;
  syncDir(dir).then(epoch.done.resolve, epoch.done.reject).finally(() => {
    state.running = false;
    pump(dir, state);
  });
}

/**
 * Makes every entry of `dir` made before this call durable, sharing the fsync with
 * concurrent writers (see {@linkcode joinDirSync}). An fsync that fails fails every caller
 * it served.
 */
export function syncDirShared(dir: string): Promise<void> {
  return joinDirSync(dir).leave(true);
}
