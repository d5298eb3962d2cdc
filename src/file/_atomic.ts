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

const IN_FLIGHT = Symbol.for("@cvm/storage/in-flight-temp-files");

/**
 * The temp files this process is writing right now, which `connect` must leave alone.
 * Kept on `globalThis` so that two copies of this module in one process share it.
 */
function inFlight(): Set<string> {
  const global = globalThis as { [IN_FLIGHT]?: Set<string> };
  return global[IN_FLIGHT] ??= new Set();
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
  inFlight().add(temp);
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
    inFlight().delete(temp);
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

/**
 * Removes the temp files and half-deleted directories in `dir` left by writers that died,
 * and never one that a live writer may still be using: a leftover of this process is
 * removed unless one of its writes is using it, and one of another process only once that
 * process is known to be gone. Where that cannot be told (Deno without `--allow-run`), the
 * leftover stays, invisible, for a later `connect` that can tell.
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
    const stale = pid === process.pid ? !inFlight().has(path) : (await isAlive(pid)) === false;
    if (stale) await fs.rm(path, { recursive: true, force: true });
  }
}

/** Whether process `pid` runs on this machine; `undefined` if that cannot be told. */
async function isAlive(pid: number): Promise<boolean | undefined> {
  // Linux's /proc answers without sending a signal (Deno lets it be read only with
  // --allow-all); a signal 0 answers elsewhere (Deno needs --allow-run for it).
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
