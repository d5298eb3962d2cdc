// What the command knows of the file backend's layout, kept to the minimum `verify`,
// `inspect` and `migrate` need, and built on the backend's own helpers (`idToFileStem`,
// `isTempName`, `isHistoryIndexName`):
//
//   programs/{stem}.json  executions/{stem}.json  history/{stem}/{ms}-{step}.json
//   outputs/{stem}.out    metadata.json           temp files .cvm-….tmp / .del
//   history/.{stem}.idx   (the index of a long history: a cache, safe to delete)
//
// plus `lost+found/`, where `verify --repair` moves what does not belong.

import { lstat, mkdir, readdir, rename, writeFile } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { idToFileStem } from "../ids.ts";
import { isTempName, syncDir } from "../file/_atomic.ts";
import { historyIndexName, isHistoryIndexName } from "../file/_history_index.ts";

/** The record directories, by record kind. */
export const RECORD_DIRS = {
  program: "programs",
  execution: "executions",
  history: "history",
} as const;
/** Where output lives: one log per execution, `outputs/{stem}.out`. */
export const OUTPUTS_DIR = "outputs";
/** The suffix of an output log. */
export const OUTPUT_SUFFIX = ".out";
/** The current-execution pointer. */
export const METADATA_FILE = "metadata.json";
/** Where `verify --repair` moves what does not belong. */
export const LOST_FOUND = "lost+found";
/** Every entry the backend keeps at the top of a data directory. */
export const TOP_LEVEL: readonly string[] = [
  ...Object.values(RECORD_DIRS),
  OUTPUTS_DIR,
  METADATA_FILE,
  LOST_FOUND,
];

export { historyIndexName, isHistoryIndexName, isTempName };

/**
 * The file name of a program or execution.
 *
 * @param id The record's id.
 * @returns `{stem}.json`.
 */
export function recordFileName(id: string): string {
  return `${idToFileStem(id)}.json`;
}

/**
 * The file name of a history entry in its execution's directory.
 *
 * @param step The entry's step.
 * @param time Its timestamp in milliseconds.
 * @returns `{ms}-{step}.json`.
 */
export function historyFileName(step: number, time: number): string {
  return `${time}-${step}.json`;
}

/**
 * The stem an entry of `outputs/` is named for: a directory's name, or a file's name
 * without its extension.
 *
 * @param name The entry's name.
 * @param isDirectory Whether it is a directory.
 * @returns The stem.
 */
export function outputStem(name: string, isDirectory: boolean): string {
  if (isDirectory) return name;
  const dot = name.lastIndexOf(".");
  return dot > 0 ? name.slice(0, dot) : name;
}

/** The kind of a directory entry, without following a symbolic link. */
export type EntryKind = "file" | "directory" | "symlink" | "other";

/**
 * The entries of a directory with their kinds, sorted by name; `[]` if it does not exist.
 *
 * @param dir The directory.
 * @returns The entries.
 */
export async function listDir(dir: string): Promise<{ name: string; kind: EntryKind }[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === "ENOENT" || code === "ENOTDIR") return [];
    throw error;
  }
  return entries.map((entry) => ({
    name: entry.name,
    kind: entry.isSymbolicLink()
      ? "symlink" as const
      : entry.isDirectory()
      ? "directory" as const
      : entry.isFile()
      ? "file" as const
      : "other" as const,
  })).sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

/** History or output stored under an execution id that has no execution record. */
export interface Orphan {
  /** Path relative to the data directory. */
  path: string;
  /** `history` or `outputs`. */
  collection: "history" | "outputs";
}

/**
 * Finds the history directories and output entries of a file store that belong to no
 * execution in `executionIds`. The public API reaches history and output only through an
 * execution, so these are what a copy through it leaves behind.
 *
 * @param dataDir The data directory.
 * @param executionIds The ids of the store's executions.
 * @returns The orphans.
 */
export async function findFileOrphans(
  dataDir: string,
  executionIds: Iterable<string>,
): Promise<Orphan[]> {
  const stems = new Set<string>();
  for (const id of executionIds) stems.add(idToFileStem(id));
  const orphans: Orphan[] = [];
  for (const collection of [RECORD_DIRS.history, OUTPUTS_DIR] as const) {
    for (const { name, kind } of await listDir(join(dataDir, collection))) {
      if (isTempName(name) || (collection === "history" && isHistoryIndexName(name))) continue;
      if (!stems.has(outputStem(name, kind === "directory" || collection === "history"))) {
        orphans.push({ path: `${collection}/${name}`, collection });
      }
    }
  }
  return orphans;
}

/**
 * Bytes on disk under each top-level entry of a data directory (file sizes, links not
 * followed).
 *
 * @param dataDir The data directory.
 * @returns Bytes per entry name, in name order.
 */
export async function diskUsage(dataDir: string): Promise<Record<string, number>> {
  const usage: Record<string, number> = {};
  for (const { name } of await listDir(dataDir)) {
    usage[name] = await bytesUnder(join(dataDir, name));
  }
  return usage;
}

async function bytesUnder(path: string): Promise<number> {
  const info = await lstat(path);
  if (!info.isDirectory()) return info.isFile() ? info.size : 0;
  let total = 0;
  for (const { name } of await listDir(path)) total += await bytesUnder(join(path, name));
  return total;
}

/**
 * Moves a file or directory of a data directory into `lost+found/`, with a note beside it
 * saying where it came from and why. Never replaces anything there.
 *
 * @param dataDir The data directory.
 * @param path The file or directory to move.
 * @param reason Why it is moved.
 * @returns The path it now has, relative to the data directory.
 */
export async function moveToLostFound(
  dataDir: string,
  path: string,
  reason: string,
): Promise<string> {
  const lostFound = join(dataDir, LOST_FOUND);
  await mkdir(lostFound, { recursive: true, mode: 0o700 });
  const from = relative(dataDir, path);
  const stamp = new Date().toISOString().replace(/[-:]/g, "").replace(/\..*/, "");
  const base = `${stamp}-${from.split(sep).join("~")}`;
  let name = base;
  for (
    let n = 2;
    await exists(join(lostFound, name)) || await exists(join(lostFound, `${name}.note`));
    n++
  ) {
    name = `${base}-${n}`;
  }
  const target = join(lostFound, name);
  await writeFile(
    `${target}.note`,
    `Moved by "cvm-storage verify --repair" on ${new Date().toISOString()}\n` +
      `from: ${from}\nwhy: ${reason}\n` +
      `To keep it, fix it and move it back to ${from}; otherwise delete it and this note.\n`,
    { mode: 0o600, flag: "wx" },
  );
  await rename(path, target);
  await syncDir(lostFound);
  await syncDir(join(path, ".."));
  return relative(dataDir, target);
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}
