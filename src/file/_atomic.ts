// Atomic, durable file writes: write a uniquely named temp file in the target's directory,
// fsync it, move it into place (rename to replace, link to never replace), fsync the
// directory. A reader sees the old file or the new one, never a part of either.

import { randomBytes } from "node:crypto";
import { join } from "node:path";
import process from "node:process";
import { errorCode, fs } from "./_fs.ts";

/** Temp files and directories being deleted: `.cvm-<pid>-<random>.tmp` / `.del`. */
const TEMP = /^\.cvm-(\d+)-[0-9a-f]{16}\.(tmp|del)$/;

/** A fresh name for a temp file (`.tmp`) or a directory being deleted (`.del`). */
export function tempName(suffix: "tmp" | "del"): string {
  return `.cvm-${process.pid}-${randomBytes(8).toString("hex")}.${suffix}`;
}

/** Whether `name` is a temp file or a directory being deleted. */
export function isTempName(name: string): boolean {
  return TEMP.test(name);
}

/** How a new file is put in place. */
export type Placement = "replace" | "create";

/**
 * Writes `text` to `dir/name` atomically. With `"replace"`, an existing file is replaced;
 * with `"create"`, an existing file is kept and the call fails with `EEXIST`.
 * Nothing is left behind on failure.
 */
export async function writeAtomic(
  dir: string,
  name: string,
  text: string,
  options: { placement: Placement; fsync: boolean },
): Promise<void> {
  const temp = join(dir, tempName("tmp"));
  const target = join(dir, name);
  let moved = false;
  try {
    const handle = await fs.open(temp, "wx", 0o600);
    try {
      await handle.writeFile(text, "utf8");
      if (options.fsync) await handle.sync();
    } finally {
      await handle.close();
    }
    if (options.placement === "replace") {
      await fs.rename(temp, target);
      moved = true;
    } else {
      await fs.link(temp, target);
    }
  } finally {
    // A link leaves the temp name behind, and so does a failure: remove it. If that
    // fails too, `connect` removes it later; it is invisible to readers meanwhile.
    if (!moved) await fs.unlink(temp).catch(() => {});
  }
  if (options.fsync) await syncDir(dir);
}

/** Makes the entries of `dir` (creations, renames, deletions) durable. */
export async function syncDir(dir: string): Promise<void> {
  let handle;
  try {
    handle = await fs.open(dir, "r");
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

/**
 * Creates `dir` (its parent must exist) and makes the creation durable.
 * Returns `false` if it already existed.
 */
export async function makeDir(dir: string, parent: string, sync: boolean): Promise<boolean> {
  try {
    await fs.mkdir(dir, { mode: 0o700 });
  } catch (error) {
    if (errorCode(error) === "EEXIST") return false;
    throw error;
  }
  if (sync) await syncDir(parent);
  return true;
}

/** Temp files of this process younger than this may belong to a write in progress. */
const STALE_AFTER_MS = 60 * 60 * 1000;

/**
 * Removes the temp files and half-deleted directories in `dir` left by writers that died.
 * A leftover is removed when its process is gone, or, where that cannot be told (no
 * permission, or the process is this one), when it is older than an hour.
 */
export async function removeStaleTemps(dir: string): Promise<void> {
  let names: string[];
  try {
    names = await fs.readDirNames(dir);
  } catch (error) {
    if (errorCode(error) === "ENOENT" || errorCode(error) === "ENOTDIR") return;
    throw error;
  }
  for (const name of names) {
    const match = TEMP.exec(name);
    if (match === null) continue;
    const path = join(dir, name);
    const pid = Number(match[1]);
    let stale = pid !== process.pid && (await isAlive(pid)) === false;
    if (!stale) {
      const info = await fs.stat(path).catch(() => undefined);
      stale = info !== undefined && Date.now() - info.mtimeMs > STALE_AFTER_MS;
    }
    if (stale) await fs.rm(path, { recursive: true, force: true });
  }
}

/** Whether process `pid` runs on this machine; `undefined` if that cannot be told. */
async function isAlive(pid: number): Promise<boolean | undefined> {
  // Linux's /proc answers without the permission Deno needs to send a signal.
  if (await fs.stat("/proc/self").then(() => true, () => false)) {
    return await fs.stat(`/proc/${pid}`).then(
      () => true,
      (error) => errorCode(error) === "ENOENT" ? false : undefined,
    );
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    if (errorCode(error) === "ESRCH") return false;
    if (errorCode(error) === "EPERM") return true;
    return undefined;
  }
}
