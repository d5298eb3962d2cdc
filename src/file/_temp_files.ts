// Temp files: how they are named and created, and when `connect` may remove one.
//
// A temp file is named `.cvm-<pid>-<space>-<mode><token>.tmp` (a directory being deleted:
// `.del`): the writer's process id; which process-id space that pid belongs to (a digest of
// the host name and the Linux pid namespace, or `x` where that cannot be told without
// asking for permissions); `l` if the writer holds an advisory lock (`flock`) on the file
// for as long as it uses it, else `u`; 16 random hex digits. 0.1 wrote
// `.cvm-<pid>-<token>.tmp`, which is still recognised.
//
// `connect` removes a temp file only when its writer is proven to be done with it:
//
// 1. Never one that names this process (pid and space). Deno Workers, Node worker_threads
//    and other copies of the library share the process id, and no thread can see another's
//    writes in flight. (A temp file this process failed to remove waits for a `connect`
//    after the process has exited; it is invisible meanwhile.)
// 2. An `l` file once an exclusive lock on it is granted at once. Its writer takes the lock
//    right after creating the file and keeps it until the file is in place (renamed or
//    linked), so a free lock means the writer has closed the file or died. In the moment
//    between creating and locking, a `connect` may take the lock first and remove the file:
//    the writer, once it holds the lock, sees that its file has no name left and starts
//    over with a new one. Locks are the kernel's (Deno's `FsFile.tryLock`), so this holds
//    across threads, processes and containers on one machine, with no extra permission.
// 3. Any other file of another process once its pid space is this process's and the system
//    says no process has that pid (/proc or `kill(pid, 0)`; Deno needs `--allow-run` for
//    it and records no space, so there it applies to 0.1's names only). A pid that was
//    reused keeps the file: that errs on the safe side.
//
// Anything else stays, invisible to every read, for a later `connect` that can tell.

import { join } from "../_path.ts";
import {
  type DirEntry,
  errorCode,
  fs,
  loadProcessFacts,
  type NewFile,
  type ProcessFacts,
  processFacts,
  processGone,
} from "./_fs.ts";

const TEMP = /^\.cvm-(\d+)-(?:(x|[0-9a-f]{12})-([lu]))?[0-9a-f]{16}\.(tmp|del)$/;

/** Whether the advisory locks of this runtime work here; `false` once one failed. */
let locksWork = true;

const HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, "0"));
/** Random bytes drawn ahead, 8 per name: one `getRandomValues` call serves 512 names. */
const pool = new Uint8Array(4096);
let used = pool.length;

function randomHex(): string {
  if (used === pool.length) {
    crypto.getRandomValues(pool);
    used = 0;
  }
  let hex = "";
  for (const end = used + 8; used < end; used++) hex += HEX[pool[used]];
  return hex;
}

function facts(): ProcessFacts {
  const known = processFacts();
  if (known === undefined) {
    throw new Error("Internal error: the process facts are not loaded; call connect() first");
  }
  return known;
}

/**
 * A fresh name for a temp file (`tmp`) or a directory being deleted (`del`), for a writer
 * that does (`locked`) or does not hold a lock on it. Needs `loadProcessFacts()` first.
 */
export function tempName(suffix: "tmp" | "del", locked = false): string {
  const { pid, space } = facts();
  return `.cvm-${pid}-${space}-${locked ? "l" : "u"}${randomHex()}.${suffix}`;
}

/** Whether `name` is a temp file or a directory being deleted. */
export function isTempName(name: string): boolean {
  return TEMP.test(name);
}

/**
 * Creates a temp file in `dir` (mode `0600`), locked where the runtime can lock, so that
 * no `connect` removes it while it is in use (see the rule above).
 */
export async function createTemp(dir: string): Promise<{ file: NewFile; path: string }> {
  const { canLock } = processFacts() ?? await loadProcessFacts();
  for (;;) {
    const locked = canLock && locksWork;
    const path = join(dir, tempName("tmp", locked));
    const file = await fs.createFile(path, 0o600);
    if (!locked) return { file, path };
    let held: boolean | undefined;
    try {
      held = file.tryLock();
    } catch {
      // ENOLCK, EOPNOTSUPP: a file system without flock. Name files `u` from now on.
      locksWork = false;
      await discard(file, path);
      continue;
    }
    // Not held: a `connect` holds it and is removing the file. No name left: it did.
    if (held && await file.links() > 0) return { file, path };
    await discard(file, path);
  }
}

async function discard(file: NewFile, path: string): Promise<void> {
  await fs.unlink(path).catch(() => {});
  await file.close().catch(() => {});
}

/**
 * Removes the temp files and half-deleted directories in `dir` whose writers are proven
 * done with them (see the rule above). Follows no symbolic link: an entry that is not what
 * its name says (a link, a FIFO) is left alone.
 *
 * @returns The entries `dir` held (temp files included), for a caller that walks it too;
 * `undefined` when it is not a directory.
 */
export async function removeStaleTemps(dir: string): Promise<DirEntry[] | undefined> {
  let entries;
  try {
    entries = await fs.readDirEntries(dir);
  } catch (error) {
    if (errorCode(error) === "ENOENT" || errorCode(error) === "ENOTDIR") return undefined;
    throw error;
  }
  const own = await loadProcessFacts();
  for (const { name, kind } of entries) {
    const match = TEMP.exec(name);
    if (match === null) continue;
    const [, pidText, space, mode, suffix] = match;
    if (kind !== (suffix === "tmp" ? "file" : "directory")) continue;
    const pid = Number(pidText);
    const path = join(dir, name);
    if (pid === own.pid && (space === undefined || space === own.space)) continue;
    if (mode === "l" && own.canLock && await removeIfUnlocked(path)) continue;
    const sameSpace = space === undefined || (space !== "x" && space === own.space);
    if (sameSpace && (await processGone(pid)) === true) {
      await fs.rm(path, { recursive: true, force: true });
    }
  }
  return entries;
}

/** Removes `path` if no one holds its lock; `true` if it is gone. */
async function removeIfUnlocked(path: string): Promise<boolean> {
  let probe;
  try {
    probe = await fs.openLock(path);
  } catch (error) {
    return errorCode(error) === "ENOENT";
  }
  try {
    if (!tryLock(probe)) return false;
    // The lock is held while removing, so that the writer, if it locked a moment too late,
    // finds its file without a name and starts over.
    await fs.unlink(path).catch((error) => {
      if (errorCode(error) !== "ENOENT") throw error;
    });
    return true;
  } finally {
    await probe.close();
  }
}

function tryLock(probe: { tryLock(): boolean }): boolean {
  try {
    return probe.tryLock();
  } catch {
    return false; // No locks on this file system: the pid rule decides.
  }
}
