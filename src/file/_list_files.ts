// Program and execution lists, planned from file names.
//
// Lists are ordered by id in code point order, and a file's stem encodes its id (see
// `idToFileStem`): a plain stem is the id itself and an escaped stem (`~…`) decodes to it,
// so a page is chosen from the names and only its files are opened. A stem that was
// shortened (`{prefix}~{sha-256}`, for ids whose stem would exceed 250 bytes) keeps only a
// prefix of the id: every id it can stand for starts with that prefix, which places it
// before or after a given id unless that id also starts with the prefix. Such files are
// opened, and their ids read, only when the prefix cannot place them outside the page.

import { join } from "../_path.ts";
import { idProblem, idToFileStem } from "../ids.ts";
import { compareCodePoints, type ListPlan, lowerBound } from "../query.ts";
import type { RecordTypes } from "../records.ts";
import { type ListingCache, listRecordDir } from "./_listing_cache.ts";
import { corrupt, readRecords } from "./_record_file.ts";
import { Slicer, sortInSlices } from "./_slices.ts";

/** A record file whose name gives its id. */
interface Named {
  id: string;
  name: string;
}

/** A record file with a shortened name, which gives only a prefix of its id. */
interface Shortened {
  prefix: string;
  name: string;
}

/** A planned listing of `programs/` or `executions/`. */
export interface RecordListing {
  /** Files whose names give their ids, ascending by id. */
  named: Named[];
  /** Files with shortened names. */
  shortened: Shortened[];
  /** The first `.json` file whose name no id maps to, if any. */
  stray?: string;
}

/** Plans a listing; parses and sorts in slices, yielding between them. */
export async function planRecordListing(names: readonly string[]): Promise<RecordListing> {
  const named: Named[] = [];
  const shortened: Shortened[] = [];
  let stray: string | undefined;
  const slicer = new Slicer();
  for (let i = 0; i < names.length; i++) {
    const name = names[i];
    if (name.charCodeAt(0) === 46 || !name.endsWith(".json")) continue;
    const found = stemToId(name.slice(0, -5));
    if (found === undefined) stray ??= name;
    else if ("id" in found) named.push({ id: found.id, name });
    else shortened.push({ prefix: found.prefix, name });
    if ((i & 255) === 255) await slicer.pause();
  }
  const sorted = await sortInSlices(named, (a, b) => compareCodePoints(a.id, b.id));
  const listing: RecordListing = { named: sorted, shortened };
  if (stray !== undefined) listing.stray = stray;
  return listing;
}

const HEX = /^[0-9a-f]{64}$/;

/**
 * The id a file stem stands for; the known prefix of the id for a shortened stem;
 * `undefined` when no id maps to this stem.
 */
export function stemToId(stem: string): { id: string } | { prefix: string } | undefined {
  const cut = stem.indexOf("~", 1);
  if (cut > 0) {
    if (!HEX.test(stem.slice(cut + 1))) return undefined;
    const head = stem.slice(0, cut);
    const prefix = head.startsWith("~") ? unescapeStem(head.slice(1), true) : head;
    return prefix === undefined ? undefined : { prefix };
  }
  const id = stem.startsWith("~") ? unescapeStem(stem.slice(1), false) : stem;
  if (id === undefined || idProblem(id) !== undefined || idToFileStem(id) !== stem) {
    return undefined;
  }
  return { id };
}

/**
 * Reverses `idToFileStem`'s escapes: `^x` is an uppercase letter, `%xx` a UTF-8 byte.
 * With `partial`, the text may end inside a character, which is dropped.
 */
function unescapeStem(text: string, partial: boolean): string | undefined {
  // ignoreBOM: a U+FEFF in an id is a character, not a byte order mark.
  const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  let out = "";
  let bytes: number[] = [];
  const flush = (stream: boolean) => {
    if (bytes.length > 0 || !stream) out += decoder.decode(new Uint8Array(bytes), { stream });
    bytes = [];
  };
  try {
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      if (c === "%") {
        const hex = text.slice(i + 1, i + 3);
        if (!/^[0-9a-f]{2}$/.test(hex)) {
          if (partial && i + hex.length + 1 === text.length) break;
          return undefined;
        }
        bytes.push(parseInt(hex, 16));
        i += 2;
        continue;
      }
      flush(false);
      if (c === "^") {
        const letter = text[i + 1];
        if (letter === undefined && partial) break;
        if (letter === undefined || letter < "a" || letter > "z") return undefined;
        out += letter.toUpperCase();
        i++;
      } else if ((c >= "a" && c <= "z") || (c >= "0" && c <= "9") || "_.-".includes(c)) {
        out += c;
      } else {
        return undefined;
      }
    }
    // A shortened stem may end inside a character's bytes: keep the complete characters.
    flush(partial);
  } catch {
    return undefined;
  }
  return out;
}

/**
 * Where every id starting with `prefix` falls relative to `id`: -1 all before it, 1 all
 * after it, 0 when `id` itself starts with `prefix` (either side).
 */
export function comparePrefix(prefix: string, id: string): number {
  const n = Math.min(prefix.length, id.length);
  const order = compareCodePoints(prefix.slice(0, n), id.slice(0, n));
  if (order !== 0) return Math.sign(order);
  return prefix.length > id.length ? 1 : 0;
}

type ListKind = "program" | "execution";

/** The test an execution query's `programId` and `state` make; `undefined` for none. */
export function executionFilter(
  plan: ListPlan,
): ((execution: RecordTypes["execution"]) => boolean) | undefined {
  const { programId, state } = plan;
  if (programId === undefined && state === undefined) return undefined;
  return (execution) =>
    (programId === undefined || execution.programId === programId) &&
    (state === undefined || execution.state === state);
}

/**
 * Reads a page of `programs/` or `executions/`: the records after `plan.after`, ascending
 * by id, that `keep` accepts, at most `plan.limit` of them. Without `keep`, it opens only
 * the page's files (and the shortened ones whose prefix cannot place them outside the
 * page); with `keep`, it opens files in id order until the page is full.
 *
 * @throws {CorruptRecordError} When a file it opens cannot be read or holds the record of
 * another id, or a `.json` file's name is no id's.
 */
export async function readList<K extends ListKind>(
  kind: K,
  cache: ListingCache<RecordListing>,
  dir: string,
  plan: ListPlan,
  keep?: (record: RecordTypes[K]) => boolean,
): Promise<RecordTypes[K][]> {
  const what = `${kind}s`;
  const listing = await listRecordDir(cache, dir, what, planRecordListing);
  if (listing === undefined) return [];
  /** Reads files in order, checking that each holds the record its name says. */
  const read = async (names: string[]) => {
    const records: (RecordTypes[K] | null)[] = names.map(() => null);
    const files = { dir, count: names.length, name: (i: number) => names[i] };
    await readRecords(kind, files, what, (record, i) => {
      if (`${idToFileStem(record.id)}.json` !== names[i]) {
        throw corrupt(
          `Cannot list ${what}`,
          join(dir, names[i]),
          `holds the ${kind} of an id whose file name differs`,
          "move it to the file of its own id, or",
        );
      }
      records[i] = record;
    });
    return records;
  };
  const { after } = plan;
  const limit = plan.limit ?? Infinity;
  const { named } = listing;
  const start = after === undefined
    ? 0
    : lowerBound(named, (file) => compareCodePoints(file.id, after) > 0);
  // The last id the page can reach, when the named files alone fill it.
  const last = keep === undefined && start + limit <= named.length
    ? named[start + limit - 1].id
    : undefined;
  const candidates = listing.shortened.filter((file) =>
    (after === undefined || comparePrefix(file.prefix, after) >= 0) &&
    (last === undefined || comparePrefix(file.prefix, last) <= 0)
  );
  // Merge the shortened files, once read, into the named ones by id. The listing may be
  // kept for later calls: it is copied, never changed.
  const queue: Named[] = named.slice(start);
  const known = new Map<string, RecordTypes[K]>();
  if (candidates.length > 0) {
    const records = await read(candidates.map((file) => file.name));
    records.forEach((record, i) => {
      if (record === null) return;
      const { name } = candidates[i];
      if (after !== undefined && compareCodePoints(record.id, after) <= 0) return;
      known.set(name, record);
      const at = lowerBound(queue, (file) => compareCodePoints(file.id, record.id) > 0);
      queue.splice(at, 0, { id: record.id, name });
    });
  }
  const page: RecordTypes[K][] = [];
  const slicer = new Slicer();
  let next = 0;
  while (page.length < limit && next < queue.length) {
    // Unfiltered, only as many files as the page still needs; filtered, a batch at a time.
    const count = keep === undefined ? limit - page.length : Math.max(64, limit - page.length);
    const batch = queue.slice(next, next + count);
    next += batch.length;
    const unread = batch.filter((file) => !known.has(file.name)).map((file) => file.name);
    const records = unread.length === 0 ? [] : await read(unread);
    records.forEach((record, i) => {
      if (record !== null) known.set(unread[i], record);
    });
    for (const file of batch) {
      const record = known.get(file.name);
      known.delete(file.name);
      if (record === undefined || (keep !== undefined && !keep(record))) continue;
      page.push(record);
      if (page.length === limit) break;
    }
    await slicer.pause();
  }
  return page;
}
