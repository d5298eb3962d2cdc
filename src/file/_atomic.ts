// Atomic, durable file writes: write a uniquely named temp file in the target's directory,
// fsync it, move it into place (rename to replace, link to never replace), fsync the
// directory. A reader sees the old file or the new one, never a part of either, and the
// write resolves only once both the file and its directory entry are durable.

import { join } from "../_path.ts";
import { joinDirSync } from "./_dir_sync.ts";
import { errorCode, fs } from "./_fs.ts";
import { createTemp } from "./_temp_files.ts";

// What the adapter imported from here before temp files and directory syncs had modules
// of their own.
export { syncDir } from "./_dir_sync.ts";
export { isTempName, removeStaleTemps, tempName } from "./_temp_files.ts";

/** How a new file is put in place. */
export type Placement = "replace" | "create";

/** Options for {@linkcode writeAtomic}. */
export interface WriteOptions {
  /** `"replace"` an existing file, or `"create"` only, failing with `EEXIST`. */
  placement: Placement;
  /** Whether to make the file and its directory entry durable before resolving. */
  fsync: boolean;
  /**
   * Called once when `dir` does not exist (the temp file cannot be created: `ENOENT`), to
   * create it; the write is then tried again. Without it, the write fails.
   */
  onMissingDir?: () => Promise<void>;
}

const MAYBE_STORED = Symbol("maybeStored");

/** Marks `error` as having happened after the new file was in place. */
function markMaybeStored(error: unknown): unknown {
  const marked = error instanceof Error ? error : new Error(String(error), { cause: error });
  Object.defineProperty(marked, MAYBE_STORED, { value: true });
  return marked;
}

/**
 * Whether a write failed after its new file was in place (a directory fsync or a close
 * failed), so that its data may be stored, even durably: a `maybeStored` failure.
 */
export function isMaybeStored(error: unknown): boolean {
  return (error as { [MAYBE_STORED]?: boolean } | null)?.[MAYBE_STORED] === true;
}

/** How often a write starts over when its temp file was removed under it. */
const VANISHED_RETRIES = 3;

/**
 * Writes `data` (a text, as UTF-8, or bytes) to `dir/name` atomically. With `"replace"`,
 * an existing file is replaced; with `"create"`, an existing file is kept and the call
 * fails with `EEXIST`. Nothing is left behind on failure. An error thrown after the new
 * file was in place is marked (see {@linkcode isMaybeStored}).
 */
export async function writeAtomic(
  dir: string,
  name: string,
  data: string | Uint8Array,
  options: WriteOptions,
): Promise<void> {
  const target = join(dir, name);
  let madeDir = false;
  for (let attempt = 0;; attempt++) {
    // Writers side by side share the directory's fsync (see `_dir_sync.ts`); joining before
    // the temp file exists lets writers still waiting for a descriptor share it too.
    const share = options.fsync ? joinDirSync(dir) : undefined;
    let temp;
    try {
      temp = await createTemp(dir);
    } catch (error) {
      share?.leave(false);
      if (errorCode(error) !== "ENOENT" || options.onMissingDir === undefined || madeDir) {
        throw error;
      }
      madeDir = true;
      await options.onMissingDir();
      continue;
    }
    const { file, path } = temp;
    let placed = false;
    let vanished = false;
    try {
      await file.writeFile(data);
      if (options.fsync) await file.sync();
      try {
        if (options.placement === "replace") await fs.rename(path, target);
        else await fs.link(path, target);
        placed = true;
      } catch (error) {
        // Someone removed the temp file (a `connect` of an older version that could not
        // tell it was in use): write it again under a new name.
        vanished = errorCode(error) === "ENOENT" && attempt < VANISHED_RETRIES &&
          await file.links().then((links) => links === 0, () => false);
        if (!vanished) throw error;
      }
    } catch (error) {
      share?.leave(false);
      await fs.unlink(path).catch(() => {});
      await file.close().catch(() => {});
      throw error;
    }
    try {
      // A link leaves the temp name behind. If removing it fails, a later `connect` does;
      // it is invisible to readers meanwhile. The file stays locked until this is done.
      if (options.placement === "create" || vanished) await fs.unlink(path).catch(() => {});
      await file.close();
    } catch (error) {
      share?.leave(false);
      throw placed ? markMaybeStored(error) : error;
    }
    if (vanished) {
      share?.leave(false);
      continue;
    }
    if (share !== undefined) {
      try {
        await share.leave(true);
      } catch (error) {
        throw markMaybeStored(error);
      }
    }
    return;
  }
}

/**
 * Creates `dir` with mode `0700`; its parent must exist. Returns `false` if it already
 * existed. The caller makes the creation durable by syncing the parent.
 */
export async function makeDir(dir: string): Promise<boolean> {
  try {
    await fs.mkdir(dir, { mode: 0o700 });
    return true;
  } catch (error) {
    if (errorCode(error) === "EEXIST") return false;
    throw error;
  }
}
