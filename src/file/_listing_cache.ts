// Directory listings, planned once and reused while the directory is unchanged.
//
// Paging through a long history (`streamHistory`) or a long list asks for the same
// listing again and again, and listing 100,000 names costs 0.1–0.6 s. A planned listing is
// reused while the directory's device, inode and modification time are unchanged. Adding,
// removing or renaming an entry sets the modification time to the current time, but only
// to the file system's clock tick, so two changes within one tick may leave it equal. A
// listing is therefore kept only when the directory had not changed for longer than a
// tick before the listing started (see `settleMs`): a later change is then at least a tick
// later and always shows as a new time. Directories being written to right now are listed
// afresh on each call.

import { join } from "../_path.ts";
import { errorCode, type FileType, fs } from "./_fs.ts";
import { corrupt } from "./_record_file.ts";

/**
 * How long a directory with this modification time must have been unchanged before its
 * listing is kept: longer than its file system's timestamp granularity. A time with a
 * millisecond part comes from a file system with fine timestamps, which tick every 10 ms
 * at most (ext4, XFS, Btrfs, tmpfs, APFS, NTFS: the kernel's clock tick; exFAT: 10 ms);
 * one on a whole second may come from a coarse one (ext3 and HFS+: 1 s; FAT: 2 s).
 */
export function settleMs(mtimeMs: number): number {
  return mtimeMs % 1000 === 0 ? 3000 : 250;
}
/**
 * A directory expected to hold at most this many names is listed in one synchronous call:
 * about 13 ms for 10,000 names under Deno, where the asynchronous listing takes 55 ms (a
 * trip to the thread pool per name). The expectation comes from the directory's last
 * listing, scaled by how much its size in bytes has grown since.
 */
export const SYNC_NAMES = 12_000;
/** How many directories' sizes are remembered. */
const SIZES = 64;

interface Entry<T> {
  dev: number;
  ino: number;
  mtimeMs: number;
  value: T;
}

/**
 * Keeps planned listings on disk, where other adapters and processes find them (see
 * `_history_index.ts`). Its calls never fail: what cannot be read or written is skipped.
 */
export interface ListingStore<T> {
  /** The plan kept for `dir` while it is the directory `stat` describes, if any. */
  read(dir: string, stat: FileType): Promise<T | undefined>;
  /** Keeps `plan`, made from a listing of `dir` taken when `stat` described it. */
  write(dir: string, stat: FileType, plan: T): Promise<void>;
}

/** What a listing found at a path that must be a directory. */
export type Listed<T> =
  | { kind: "missing" }
  | { kind: "directory"; value: T }
  | { kind: "symlink" | "other" };

/** Keeps the planned listings of a few directories (least recently used are dropped). */
export class ListingCache<T> {
  readonly #entries = new Map<string, Entry<T>>();
  /** The size in bytes and the name count of recently listed directories. */
  readonly #sizes = new Map<string, { bytes: number; names: number }>();
  readonly #max: number;
  readonly #store: ListingStore<T> | undefined;

  /**
   * @param max How many directories to keep.
   * @param store Where plans are also kept on disk, for other adapters and processes.
   */
  constructor(max: number, store?: ListingStore<T>) {
    this.#max = max;
    this.#store = store;
  }

  /**
   * Lists `dir` (never following a symbolic link) and plans the listing with `plan`, or
   * returns the plan kept from an earlier call when the directory is unchanged.
   */
  async list(dir: string, plan: (names: string[]) => Promise<T>): Promise<Listed<T>> {
    const started = Date.now();
    let stat;
    try {
      stat = await fs.lstat(dir);
    } catch (error) {
      if (errorCode(error) !== "ENOENT") throw error;
      this.#entries.delete(dir);
      return { kind: "missing" };
    }
    if (!stat.isDirectory()) {
      this.#entries.delete(dir);
      return { kind: stat.isSymbolicLink() ? "symlink" : "other" };
    }
    const kept = this.#entries.get(dir);
    if (
      kept !== undefined && kept.dev === stat.dev && kept.ino === stat.ino &&
      kept.mtimeMs === stat.mtimeMs
    ) {
      // Most recently used last.
      this.#entries.delete(dir);
      this.#entries.set(dir, kept);
      return { kind: "directory", value: kept.value };
    }
    this.#entries.delete(dir);
    // Settled: any later change moves the modification time (see the module comment).
    const settled = started - stat.mtimeMs > settleMs(stat.mtimeMs);
    const stored = settled ? await this.#store?.read(dir, stat) : undefined;
    if (stored !== undefined) {
      this.#keep(dir, stat, stored);
      return { kind: "directory", value: stored };
    }
    const last = this.#sizes.get(dir);
    const small = last !== undefined && expectedNames(last, stat.size) <= SYNC_NAMES;
    let names: string[];
    try {
      names = await fs.readDirNames(dir, small);
    } catch (error) {
      if (errorCode(error) === "ENOENT") return { kind: "missing" };
      throw error;
    }
    this.#sizes.delete(dir);
    this.#sizes.set(dir, { bytes: stat.size, names: names.length });
    if (this.#sizes.size > SIZES) this.#sizes.delete(this.#sizes.keys().next().value!);
    const value = await plan(names);
    if (settled) {
      this.#keep(dir, stat, value);
      await this.#store?.write(dir, stat, value);
    }
    return { kind: "directory", value };
  }

  /** Keeps `value` as the plan of `dir` while it is the directory `stat` describes. */
  #keep(dir: string, stat: FileType, value: T): void {
    this.#entries.set(dir, { dev: stat.dev, ino: stat.ino, mtimeMs: stat.mtimeMs, value });
    if (this.#entries.size > this.#max) {
      this.#entries.delete(this.#entries.keys().next().value!);
    }
  }
}

/**
 * How many names a directory holds now, judged from its last listing and its size in
 * bytes, which grows with its entries on most file systems; where it reports no size,
 * four times as many as last time, at most.
 */
function expectedNames(last: { bytes: number; names: number }, bytes: number): number {
  if (last.bytes <= 0) return last.names * 4;
  return last.names * Math.max(1, bytes / last.bytes);
}

/**
 * Lists a directory of record files through `cache`: `undefined` when it does not exist.
 *
 * @param what What the directory holds, for messages: `programs`.
 * @throws {CorruptRecordError} When it is not a directory, or holds a `.json` file whose
 * name no record has.
 */
export async function listRecordDir<T extends { stray?: string }>(
  cache: ListingCache<T>,
  dir: string,
  what: string,
  plan: (names: string[]) => Promise<T>,
): Promise<T | undefined> {
  const listed = await cache.list(dir, plan);
  if (listed.kind === "missing") return undefined;
  if (listed.kind !== "directory") {
    const type = listed.kind === "symlink" ? "a symbolic link, which is never followed" : "a file";
    throw corrupt(`Cannot read ${what}`, dir, `is ${type}, not a directory`, "move it away or");
  }
  const { stray } = listed.value;
  if (stray !== undefined) {
    throw corrupt(
      `Cannot read ${what}`,
      join(dir, stray),
      "is named like a record file, but no record has that name",
      "rename it to end in something other than .json, or",
    );
  }
  return listed.value;
}
