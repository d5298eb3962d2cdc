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
import { Slicer, sortIndexes } from "./_slices.ts";

/** An entry's key, as its file name gives it. */
export interface HistoryKey {
  step: number;
  time: number;
}

/**
 * A planned listing of one execution's history directory, compact: entry `i` has step
 * `steps[i]` and timestamp `times[i]` (epoch milliseconds), in directory order. Typed
 * arrays hold 100,000 keys in 1.6 MB without an object per entry.
 */
export interface HistoryListing {
  /** How many entries. */
  count: number;
  steps: Float64Array;
  times: Float64Array;
  /** The entries' indexes ascending by key, once a query needed them sorted. */
  sorted?: Uint32Array;
  /** The first `.json` file whose name is no entry's name, if any. */
  stray?: string;
  /** Whether the directory held hidden files (temp files among them). */
  hidden?: true;
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

/** The key `parseName` read last. */
let parsedStep = 0;
let parsedTime = 0;

/**
 * Reads `{time}-{step}.json` into `parsedStep` and `parsedTime`, allocating nothing;
 * `false` for any other name. Only the canonical spelling counts, the one
 * {@linkcode historyFileName} writes: shortest decimal integers, safe, without a `+`,
 * leading zeros, `-0`, exponents or spaces, and a timestamp a `Date` can hold.
 */
function parseName(name: string): boolean {
  const end = name.length - 5;
  if (end < 3 || !name.endsWith(".json")) return false;
  let at = readInteger(name, 0, end);
  if (at < 0 || name.charCodeAt(at) !== 45 /* - */) return false;
  const time = integer;
  at = readInteger(name, at + 1, end);
  if (at !== end || Math.abs(time) > 8.64e15) return false;
  parsedTime = time;
  parsedStep = integer;
  return true;
}

/** The integer `readInteger` read last. */
let integer = 0;

/**
 * Reads a canonical decimal safe integer from `text` at `start` (before `end`) into
 * `integer`, returning where it stops, or -1 when there is none.
 */
function readInteger(text: string, start: number, end: number): number {
  let at = start;
  const negative = text.charCodeAt(at) === 45;
  if (negative) at++;
  const first = at;
  let value = 0;
  for (; at < end; at++) {
    const digit = text.charCodeAt(at) - 48;
    if (digit < 0 || digit > 9) break;
    value = value * 10 + digit;
  }
  const digits = at - first;
  // No digits, a leading zero, `-0`, or more than a safe integer holds.
  if (digits === 0 || digits > 16 || (text.charCodeAt(first) === 48 && (digits > 1 || negative))) {
    return -1;
  }
  if (!Number.isSafeInteger(value)) return -1;
  integer = negative ? -value : value;
  return at;
}

/** The key a history file name stands for, or `undefined` for any other name. */
export function parseHistoryFileName(name: string): HistoryKey | undefined {
  return parseName(name) ? { step: parsedStep, time: parsedTime } : undefined;
}

/**
 * Plans a history directory's listing: the keys, and the first stray record file.
 * Hidden files (temp files among them) and files not ending in `.json` are not entries.
 * Parses in slices, yielding to the event loop between them.
 */
export async function planHistoryListing(names: readonly string[]): Promise<HistoryListing> {
  const steps = new Float64Array(names.length);
  const times = new Float64Array(names.length);
  let count = 0;
  let stray: string | undefined;
  let hidden = false;
  const slicer = new Slicer();
  for (let i = 0; i < names.length; i++) {
    const name = names[i];
    if (name.charCodeAt(0) === 46) {
      hidden = true;
      continue;
    }
    if (!name.endsWith(".json")) continue;
    if (parseName(name)) {
      steps[count] = parsedStep;
      times[count] = parsedTime;
      count++;
    } else {
      stray ??= name;
    }
    if ((i & 1023) === 1023) await slicer.pause();
  }
  const listing: HistoryListing = {
    count,
    steps: count === names.length ? steps : steps.slice(0, count),
    times: count === names.length ? times : times.slice(0, count),
  };
  if (stray !== undefined) listing.stray = stray;
  if (hidden) listing.hidden = true;
  return listing;
}

/**
 * The indexes of the entries a query selects, in the query's order. A small `limit` (the
 * latest entry, a page) is one pass over the keys keeping the best few; anything else
 * sorts the listing's indexes once, in slices, and keeps the order with it.
 */
export async function selectKeys(
  listing: HistoryListing,
  plan: HistoryPlan,
): Promise<number[]> {
  const { limit } = plan;
  if (listing.sorted === undefined && limit !== undefined && limit <= SMALL_LIMIT) {
    return await selectFew(listing, plan, limit);
  }
  const { steps, times } = listing;
  listing.sorted ??= await sortIndexes(
    listing.count,
    (a, b) => compareHistoryKeys(steps[a], times[a], steps[b], times[b]),
  );
  return selectHistory(listing.sorted, plan, (i) => ({ step: steps[i], time: times[i] }));
}

/** The first `limit` entries in the query's order, from keys in any order. */
async function selectFew(
  listing: HistoryListing,
  plan: HistoryPlan,
  limit: number,
): Promise<number[]> {
  const { fromStep, toStep, after, reverse } = plan;
  const { count, steps, times } = listing;
  const sign = reverse ? -1 : 1;
  /** Where entry `i` falls against `(step, time)` in the query's order. */
  const order = (i: number, step: number, time: number) =>
    sign * compareHistoryKeys(steps[i], times[i], step, time);
  const best: number[] = [];
  const slicer = new Slicer();
  for (let i = 0; i < count; i++) {
    if ((i & 1023) === 1023) await slicer.pause();
    const step = steps[i];
    if (fromStep !== undefined && step < fromStep) continue;
    if (toStep !== undefined && step > toStep) continue;
    const time = times[i];
    // Past the cursor in the query's order.
    if (after !== undefined && order(i, after.step, after.time) <= 0) continue;
    if (best.length === limit) {
      const last = best[limit - 1];
      if (order(i, steps[last], times[last]) >= 0) continue;
    }
    best.splice(lowerBound(best, (kept) => order(kept, step, time) > 0), 0, i);
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
  const selected = await selectKeys(listing, plan);
  const { steps, times } = listing;
  const name = (i: number) => historyFileName(steps[selected[i]], times[selected[i]]);
  const entries: History[] = new Array(selected.length);
  let found = 0;
  await readRecords("history", { dir, count: selected.length, name }, what, (entry, i) => {
    const mismatch = entry.executionId !== executionId
      ? "holds an entry of another execution"
      : entry.step !== steps[selected[i]] || entry.timestamp.getTime() !== times[selected[i]]
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
    entries[found++] = entry;
  });
  entries.length = found;
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
