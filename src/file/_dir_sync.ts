// Making directory entries durable: fsync a directory after a file was renamed, linked or
// removed in it. Concurrent writers to one directory share the fsync (group commit): a
// writer whose entry is in place waits for the next fsync of the directory that starts
// after that, and one fsync covers every entry made before it started.

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

/** The fsync running for a directory, and the one queued after it. */
interface DirState {
  running: Promise<void>;
  next?: { promise: Promise<void>; resolve(): void; reject(error: unknown): void };
}

const states = new Map<string, DirState>();

/**
 * Makes every entry of `dir` made before this call durable, sharing the fsync with
 * concurrent callers: if none is running, one starts now; if one is running (it may have
 * started before the caller's entry was made), the caller waits for the next, which starts
 * when that one ends and serves everyone who came meanwhile. An fsync that fails fails
 * every caller it served.
 */
export function syncDirShared(dir: string): Promise<void> {
  const state = states.get(dir);
  if (state === undefined) return start(dir);
  if (state.next === undefined) {
    // Not Promise.withResolvers: Node 20 lacks it.
    let resolve!: () => void;
    let reject!: (error: unknown) => void;
    const promise = new Promise<void>((yes, no) => {
      resolve = yes;
      reject = no;
    });
    state.next = { promise, resolve, reject };
  }
  return state.next.promise;
}

function start(dir: string): Promise<void> {
  const state: DirState = { running: syncDir(dir) };
  states.set(dir, state);
  const settle = () => {
    const next = state.next;
    if (next === undefined) {
      states.delete(dir);
      return;
    }
    start(dir).then(next.resolve, next.reject);
  };
  state.running.then(settle, settle);
  return state.running;
}
