// History file names and query planning from the directory listing.
//
// An entry lives in `history/{execution stem}/{timestamp}-{step}.json`, with the timestamp
// in epoch milliseconds. Both numbers are written in their shortest decimal form and may be
// negative: `1700000000000--1.json` is step -1, `-5000-3.json` is a date before 1970. The
// timestamp's only `-` is its sign, so the separator is the first `-` after the first
// character, and a name is read back only when writing its key gives the same name. A
// query is answered from the names alone; only the entries it selects are opened.

import { join } from "../_path.ts";
import { deepEqual } from "../_deep_equal.ts";
import { decodeRecord } from "../records.ts";
import { compareHistoryKeys, type HistoryPlan, lowerBound, selectHistory } from "../query.ts";
import type { History } from "../types.ts";
import { writeAtomic } from "./_atomic.ts";
import { errorCode } from "./_fs.ts";
import { type ListingCache, listRecordDir } from "./_listing_cache.ts";
import { corrupt, readRecord, readRecords } from "./_record_file.ts";
import { Slicer, sortInSlices } from "./_slices.ts";

/** An entry's key, as its file name gives it. */
export interface HistoryKey {
  step: number;
  time: number;
}

/** A planned listing of one execution's history directory. */
export interface HistoryListing {
  /** The entries' keys, in directory order. */
  keys: HistoryKey[];
  /** The keys ascending, once a query needed them sorted. */
  sorted?: HistoryKey[];
  /** The first `.json` file whose name is no entry's name, if any. */
  stray?: string;
}

/** Queries with at most this `limit` are answered by one pass over unsorted keys. */
const SMALL_LIMIT = 256;

/**
 * The file name of the entry with this key.
 *
 * @param step A safe integer.
 * @param time Epoch milliseconds of a valid `Date`.
 */
export function historyFileName(step: number, time: number): string {
  return `${time}-${step}.json`;
}

/** The key a history file name stands for, or `undefined` for any other name. */
export function parseHistoryFileName(name: string): HistoryKey | undefined {
  if (!name.endsWith(".json")) return undefined;
  const dash = name.indexOf("-", 1);
  if (dash < 0) return undefined;
  const time = Number(name.slice(0, dash));
  const step = Number(name.slice(dash + 1, -5));
  if (!Number.isSafeInteger(step) || !Number.isSafeInteger(time) || Math.abs(time) > 8.64e15) {
    return undefined;
  }
  // Only the canonical spelling: no leading zeros, `+`, `-0`, exponents or spaces.
  return historyFileName(step, time) === name ? { step, time } : undefined;
}

/**
 * Plans a history directory's listing: the keys, and the first stray record file.
 * Hidden files (temp files among them) and files not ending in `.json` are not entries.
 * Parses and sorts in slices, yielding to the event loop between them.
 */
export async function planHistoryListing(names: readonly string[]): Promise<HistoryListing> {
  const keys: HistoryKey[] = [];
  let stray: string | undefined;
  const slicer = new Slicer();
  for (let i = 0; i < names.length; i++) {
    const name = names[i];
    if (name.charCodeAt(0) === 46 || !name.endsWith(".json")) continue;
    const key = parseHistoryFileName(name);
    if (key !== undefined) keys.push(key);
    else stray ??= name;
    if ((i & 1023) === 1023) await slicer.pause();
  }
  return stray === undefined ? { keys } : { keys, stray };
}

const ascending = (a: HistoryKey, b: HistoryKey) =>
  compareHistoryKeys(a.step, a.time, b.step, b.time);

/**
 * The keys a query selects, in the query's order. A small `limit` (the latest entry, a
 * page) is one pass over the keys keeping the best few; anything else sorts the listing
 * once, in slices, and keeps the order with it.
 */
export async function selectKeys(
  listing: HistoryListing,
  plan: HistoryPlan,
): Promise<HistoryKey[]> {
  const { limit } = plan;
  if (listing.sorted === undefined && limit !== undefined && limit <= SMALL_LIMIT) {
    return await selectFew(listing.keys, plan, limit);
  }
  listing.sorted ??= await sortInSlices(listing.keys.slice(), ascending);
  return selectHistory(listing.sorted, plan, (key) => key);
}

/** The first `limit` keys in the query's order, from keys in any order. */
async function selectFew(
  keys: readonly HistoryKey[],
  plan: HistoryPlan,
  limit: number,
): Promise<HistoryKey[]> {
  const { fromStep, toStep, after, reverse } = plan;
  const order = reverse ? (a: HistoryKey, b: HistoryKey) => ascending(b, a) : ascending;
  const best: HistoryKey[] = [];
  const slicer = new Slicer();
  for (let i = 0; i < keys.length; i++) {
    if ((i & 1023) === 1023) await slicer.pause();
    const key = keys[i];
    if (fromStep !== undefined && key.step < fromStep) continue;
    if (toStep !== undefined && key.step > toStep) continue;
    // Past the cursor in the query's order.
    if (after !== undefined && order(key, { step: after.step, time: after.time }) <= 0) continue;
    if (best.length === limit && order(key, best[limit - 1]) >= 0) continue;
    best.splice(lowerBound(best, (kept) => order(kept, key) > 0), 0, key);
    if (best.length > limit) best.pop();
  }
  return best;
}

/**
 * Reads the entries of one execution's history directory that `plan` selects, opening
 * only their files.
 *
 * @throws {CorruptRecordError} When an entry cannot be read, is another execution's, or is
 * not the entry its name says; when the directory holds a stray `.json` file.
 */
export async function readHistory(
  cache: ListingCache<HistoryListing>,
  dir: string,
  executionId: string,
  plan: HistoryPlan,
): Promise<History[]> {
  const what = `history of execution "${executionId}"`;
  const listing = await listRecordDir(cache, dir, what, planHistoryListing);
  if (listing === undefined) return [];
  const keys = await selectKeys(listing, plan);
  const name = (i: number) => historyFileName(keys[i].step, keys[i].time);
  const entries: History[] = [];
  await readRecords("history", { dir, count: keys.length, name }, what, (entry, i) => {
    const mismatch = entry.executionId !== executionId
      ? "holds an entry of another execution"
      : entry.step !== keys[i].step || entry.timestamp.getTime() !== keys[i].time
      ? "holds an entry whose step and timestamp give another file name"
      : undefined;
    if (mismatch !== undefined) {
      throw corrupt(
        `Cannot read ${what}`,
        join(dir, name(i)),
        mismatch,
        "move it to where its execution, step and timestamp put it, or",
      );
    }
    entries.push(entry);
  });
  return entries;
}

/**
 * Puts an entry's file in place, never replacing one: `"created"`, or `"same"` when a
 * deep-equal entry is stored under its name already (a retry), or `"different"`.
 *
 * @throws {CorruptRecordError} When the stored entry cannot be read to compare.
 */
export async function createEntry(
  dir: string,
  name: string,
  text: string,
  options: { fsync: boolean; what: string; onMissingDir?: () => Promise<void> },
): Promise<"created" | "same" | "different"> {
  const path = join(dir, name);
  // Twice at most: the stored entry may be deleted (with its execution) in between.
  for (let attempt = 0;; attempt++) {
    try {
      await writeAtomic(dir, name, text, {
        placement: "create",
        fsync: options.fsync,
        onMissingDir: options.onMissingDir,
      });
      return "created";
    } catch (error) {
      if (errorCode(error) !== "EEXIST") throw error;
      const stored = await readRecord("history", path, options.what);
      if (stored === null && attempt === 0) continue;
      if (stored === null) return "different";
      const entry = decodeRecord("history", JSON.parse(text), options.what);
      return deepEqual(stored, entry) ? "same" : "different";
    }
  }
}
