// Counts, sizes and a SHA-256 digest per collection of a store, the same on every backend:
// what `inspect` shows and what `migrate` compares to prove a copy equal.
//
// Each item is hashed as its canonical text followed by "\n", in the order `scanStore`
// reads them. The canonical text of a record is the compact JSON of its encoded form (the
// codec's Extended JSON) with the keys of every object sorted by code point, so that the
// order a backend keeps fields in does not matter; an output line is the JSON of
// `[executionId, line]`; the current execution is the JSON of its id or `null`. Sizes are the
// UTF-8 bytes of the canonical texts: backend-independent, unlike bytes on disk.

import { Buffer } from "node:buffer";
import { createHash, type Hash } from "node:crypto";
import type { JsonValue } from "../codec.ts";
import { compareCodePoints } from "../query.ts";
import type { StorageAdapter } from "../types.ts";
import { type CollectionName, COLLECTIONS } from "./_document.ts";
import { type ScanOptions, scanStore, type ScanVisitor } from "./_scan.ts";

/** What a store holds in one collection. */
export interface CollectionSummary {
  /** Records; output lines for `outputs`; 1 or 0 for `metadata` (a current execution). */
  count: number;
  /** UTF-8 bytes of the canonical texts. */
  bytes: number;
  /** SHA-256 over the canonical texts, in hex. */
  sha256: string;
}

/** A summary of each collection. */
export type StoreSummary = Record<CollectionName, CollectionSummary>;

/**
 * JSON text with the keys of every object sorted by code point.
 *
 * @param json An encoded value.
 * @returns The text, without whitespace.
 */
export function canonicalJson(json: JsonValue): string {
  if (json === null || typeof json !== "object") return JSON.stringify(json);
  if (Array.isArray(json)) return `[${json.map(canonicalJson).join(",")}]`;
  const keys = Object.keys(json).sort(compareCodePoints);
  return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(json[key])}`).join(",")}}`;
}

/** Counts and hashes one collection's canonical texts. */
class Tally {
  count = 0;
  bytes = 0;
  readonly #hash: Hash = createHash("sha256");

  add(text: string, counts = true): void {
    if (counts) this.count++;
    this.bytes += Buffer.byteLength(text, "utf8");
    this.#hash.update(`${text}\n`, "utf8");
  }

  result(): CollectionSummary {
    return { count: this.count, bytes: this.bytes, sha256: this.#hash.digest("hex") };
  }
}

/**
 * A scan visitor that summarizes what it sees.
 *
 * @returns The visitor, and a function giving the summary once the scan is done.
 */
export function summaryVisitor(): { visitor: ScanVisitor; summary(): StoreSummary } {
  const tallies = Object.fromEntries(COLLECTIONS.map((name) => [name, new Tally()])) as Record<
    CollectionName,
    Tally
  >;
  return {
    visitor: {
      program: (json) => tallies.programs.add(canonicalJson(json)),
      execution: (json) => tallies.executions.add(canonicalJson(json)),
      history: (json) => tallies.history.add(canonicalJson(json)),
      output: (executionId, _from, lines) => {
        for (const line of lines) tallies.outputs.add(JSON.stringify([executionId, line]));
      },
      current: (id) => tallies.metadata.add(JSON.stringify(id), id !== null),
    },
    summary: () =>
      Object.fromEntries(COLLECTIONS.map((name) => [name, tallies[name].result()])) as StoreSummary,
  };
}

/**
 * Reads a whole store and summarizes each collection.
 *
 * @param storage A connected adapter.
 * @param options Page size; `onExecution` is called as each execution's history is read.
 * @returns The summary.
 */
export async function summarizeStore(
  storage: StorageAdapter,
  options: ScanOptions & { onExecution?: (index: number, total: number) => void } = {},
): Promise<StoreSummary> {
  const { visitor, summary } = summaryVisitor();
  visitor.executionDone = options.onExecution;
  await scanStore(storage, visitor, options);
  return summary();
}

/** How two summaries of one collection compare. */
export interface SummaryComparison {
  collection: CollectionName;
  source: CollectionSummary;
  target: CollectionSummary;
  equal: boolean;
}

/**
 * Compares two summaries collection by collection.
 *
 * @param source The first store's summary.
 * @param target The second store's summary.
 * @returns One comparison per collection; `equal` when counts, sizes and digests match.
 */
export function compareSummaries(source: StoreSummary, target: StoreSummary): SummaryComparison[] {
  return COLLECTIONS.map((collection) => ({
    collection,
    source: source[collection],
    target: target[collection],
    equal: source[collection].count === target[collection].count &&
      source[collection].bytes === target[collection].bytes &&
      source[collection].sha256 === target[collection].sha256,
  }));
}
