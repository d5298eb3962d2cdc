// A long history's planned listing, kept on disk, so that another adapter or process
// answers its first query without listing the directory again.
//
// Listing 100,000 names costs 0.2–0.5 s under Deno; reading their keys back from one file
// costs a few milliseconds. The index of `history/{stem}/` is the hidden file
// `history/.{stem}.idx`, beside the directory (a file inside would change the directory it
// describes). It is written, without fsync, when the listing cache keeps a listing of at
// least `MIN_INDEXED` entries and no hidden file (the directory had settled: see
// `_listing_cache.ts`), and it records the directory's device, inode and modification time
// at that listing. It is used only while the directory has exactly those: every change
// since moved the modification time. So a valid index also tells `connect` that the
// directory holds no temp file, sparing it a listing. An index that is damaged (checked by
// its size and a checksum), stale, or not a regular file is ignored and the directory
// listed: it is a cache, never a record, and deleting it loses nothing.
//
// Format, in the host's byte order (device and inode numbers tie an index to the machine
// that wrote it): eight float64s — MAGIC, VERSION, device, inode, modification time in
// whole milliseconds, entry count, checksum, 0 — then the entries' steps and timestamps
// (epoch milliseconds), `count` float64s each, in directory order.

import { dirname, join } from "../_path.ts";
import { writeAtomic } from "./_atomic.ts";
import { type FileType, fs, openFlags } from "./_fs.ts";
import type { HistoryListing } from "./_history_files.ts";
import type { ListingStore } from "./_listing_cache.ts";
import { MAX_RECORD_BYTES, openFile, readFileBytes } from "./_record_file.ts";
import { Slicer } from "./_slices.ts";

/** Shorter histories are listed in milliseconds: they get no index. */
export const MIN_INDEXED = 10_000;
const MAGIC = 0x4356_4d49_4458; // "CVMIDX"
const VERSION = 1;
/** Float64s before the entries. */
const HEADER = 8;
/** The most entries an index holds: it stays within the record file limit. */
const MAX_INDEXED = Math.floor((MAX_RECORD_BYTES - HEADER * 8) / 16);

/** The index file's name for the history directory `history/{stem}`: `.{stem}.idx`. */
export function historyIndexName(stem: string): string {
  return `.${stem}.idx`;
}

/** Whether `name`, in `history/`, is an index file's name. */
export function isHistoryIndexName(name: string): boolean {
  return name.length > 5 && name.startsWith(".") && name.endsWith(".idx");
}

/** The parent of `dir` and the index file's name there. */
function place(dir: string): [root: string, name: string] {
  const root = dirname(dir);
  return [root, historyIndexName(dir.slice(root.length + 1))];
}

/** Keeps history listings in index files. */
export const historyIndex: ListingStore<HistoryListing> = {
  async read(dir, stat) {
    const [root, name] = place(dir);
    try {
      const bytes = await readFileBytes(join(root, name), "history index");
      return bytes === null ? undefined : await decodeIndex(bytes, stat);
    } catch {
      // Not a regular file, too large, unreadable: list the directory instead.
      return undefined;
    }
  },
  async write(dir, stat, listing) {
    if (listing.count < MIN_INDEXED || listing.count > MAX_INDEXED) return;
    // An index also tells `connect` that the directory holds no temp file to clean up.
    if (listing.stray !== undefined || listing.hidden) return;
    const [root, name] = place(dir);
    try {
      const bytes = await encodeIndex(listing, stat);
      await writeAtomic(root, name, bytes, { placement: "replace", fsync: false });
    } catch {
      // Read-only data directory, no write permission, disk full: no index, no harm.
    }
  },
};

/**
 * Whether the history directory `dir` has an index written for it as it is now, and so is
 * unchanged since a listing that found no hidden file in it: no temp file for `connect` to
 * clean up. Only the index's header is read (its identity, size and format): the entries
 * it holds do not matter here, and a store may hold many long histories.
 */
export async function isIndexed(dir: string): Promise<boolean> {
  const [root, name] = place(dir);
  try {
    const stat = await fs.lstat(dir);
    if (!stat.isDirectory()) return false;
    const opened = await openFile(join(root, name), openFlags().read, "Cannot read history index");
    if (opened === null) return false;
    try {
      const header = new Float64Array(HEADER);
      const bytes = new Uint8Array(header.buffer);
      const { bytesRead } = await opened.handle.read(bytes, 0, bytes.length, 0);
      return bytesRead === bytes.length && headerFits(header, stat, opened.stat.size);
    } finally {
      await opened.handle.close();
    }
  } catch {
    return false;
  }
}

/**
 * Removes the index of the history directory `dir`, if any; for `deleteExecution`. Never
 * fails: an index that cannot be removed (a directory in its place, say) is stale from now
 * on, and ignored.
 */
export async function removeHistoryIndex(dir: string): Promise<void> {
  const [root, name] = place(dir);
  await fs.unlink(join(root, name)).catch(() => {});
}

/** The identity an index records for its directory. */
function identity(stat: FileType): [number, number, number] {
  return [stat.dev, stat.ino, Math.floor(stat.mtimeMs)];
}

async function encodeIndex(listing: HistoryListing, stat: FileType): Promise<Uint8Array> {
  const { count } = listing;
  const numbers = new Float64Array(HEADER + 2 * count);
  numbers.set(listing.steps.subarray(0, count), HEADER);
  numbers.set(listing.times.subarray(0, count), HEADER + count);
  const [dev, ino, mtime] = identity(stat);
  const sum = await checksum(numbers);
  numbers.set([MAGIC, VERSION, dev, ino, mtime, count, sum, 0]);
  return new Uint8Array(numbers.buffer);
}

async function decodeIndex(
  bytes: Uint8Array,
  stat: FileType,
): Promise<HistoryListing | undefined> {
  if (bytes.byteLength < HEADER * 8 || bytes.byteLength % 8 !== 0) return undefined;
  // Float64 views need 8-byte alignment.
  const aligned = bytes.byteOffset % 8 === 0 ? bytes : bytes.slice();
  const numbers = new Float64Array(aligned.buffer, aligned.byteOffset, aligned.byteLength / 8);
  if (!headerFits(numbers, stat, bytes.byteLength)) return undefined;
  if (await checksum(numbers) !== numbers[6]) return undefined;
  const count = numbers[5];
  return {
    count,
    steps: numbers.subarray(HEADER, HEADER + count),
    times: numbers.subarray(HEADER + count),
  };
}

/**
 * Whether an index starting with `header` and `bytes` long is one of this format, written
 * for the directory `stat` describes, and as long as its entry count says.
 */
function headerFits(header: Float64Array, stat: FileType, bytes: number): boolean {
  const [dev, ino, mtime] = identity(stat);
  return header[0] === MAGIC && header[1] === VERSION && header[2] === dev &&
    header[3] === ino && header[4] === mtime && bytes === (HEADER + 2 * header[5]) * 8;
}

/**
 * A 32-bit FNV-1a hash of the entries' bytes (a word at a time) and their count, in
 * slices: a torn or zero-filled index never matches it.
 */
async function checksum(numbers: Float64Array): Promise<number> {
  const words = new Uint32Array(
    numbers.buffer,
    numbers.byteOffset + HEADER * 8,
    (numbers.length - HEADER) * 2,
  );
  let hash = Math.imul(0x811c9dc5 ^ (numbers.length - HEADER), 0x01000193);
  const slicer = new Slicer();
  for (let i = 0; i < words.length; i++) {
    hash = Math.imul(hash ^ words[i], 0x01000193);
    if ((i & 0xffff) === 0xffff) await slicer.pause();
  }
  return hash >>> 0;
}
