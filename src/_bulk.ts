// Bulk reads: one pass over a whole collection instead of one query per execution. Internal,
// for the command-line tool (migrate, export, inspect, verify): not part of the public API.
//
// Per-execution reads are cheap on the file and memory backends, but on MongoDB served by
// FerretDB v1 every query except an `_id` lookup scans its collection, so reading each
// execution's history and output costs one scan per execution; paging through the
// collection with one cursor costs one scan in all. An adapter that can read a whole
// collection in order offers it as a method under the symbol `BULK` (defined on its
// prototype, not declared in its type); `bulkReader()` finds it, and callers fall back to
// the public API when there is none.
//
// What a bulk read yields is what the public API answers, item for item: the entries
// `getHistory(id)` returns and the lines `getOutput(id)` returns, decoded the same way, for
// every execution id that has any, executions in code point order (the order of
// `listExecutions`). It also yields those of ids with no execution record (orphans), which
// the public API cannot list: callers skip or report them. A stored item that does not
// decode is yielded as its execution's error (what `getHistory(id)` or `getOutput(id)`
// would throw) in its place, so that a caller treats it as the per-execution call would:
// an error for that execution only, and nothing at all for an orphan.

import type { StorageError } from "./errors.ts";
import type { History, StorageAdapter } from "./types.ts";

/** The key of the bulk-read method. `Symbol.for`, so that copies of the library agree. */
export const BULK: unique symbol = Symbol.for("@cvm/storage/bulk");

/** A history entry of a bulk read, or the error reading it raised. */
export type BulkHistoryItem =
  | { executionId: string; entry: History; error?: undefined }
  | { executionId: string; entry?: undefined; error: StorageError };

/**
 * Consecutive lines of an execution's output, the first at index `from` (counted as
 * `getOutput` counts), or the error reading them raised.
 */
export type BulkOutputItem =
  | { executionId: string; from: number; lines: string[]; error?: undefined }
  | { executionId: string; from?: undefined; lines?: undefined; error: StorageError };

/** Options for {@linkcode BulkReader.outputs}. */
export interface BulkOutputOptions {
  /** Only these executions' output (any order); default all. */
  executionIds?: readonly string[];
}

/** The bulk reads an adapter offers. Each read holds one cursor until it is finished or returned. */
export interface BulkReader {
  /**
   * Every history entry, ascending by execution id in code point order, then step, then
   * timestamp.
   */
  history(): AsyncIterableIterator<BulkHistoryItem>;
  /**
   * Every output line, by execution id in code point order, each execution's lines in
   * order, in runs of consecutive lines.
   */
  outputs(options?: BulkOutputOptions): AsyncIterableIterator<BulkOutputItem>;
}

/** An adapter with bulk reads. */
export interface BulkReadable {
  /** The adapter's bulk reads; they need it connected. */
  [BULK](): BulkReader;
}

/**
 * The bulk reads of an adapter, if it offers them.
 *
 * @param storage An adapter.
 * @returns Its reader, or `undefined` for an adapter whose per-execution reads are cheap.
 */
export function bulkReader(storage: StorageAdapter): BulkReader | undefined {
  const read = (storage as Partial<BulkReadable>)[BULK];
  return typeof read === "function" ? read.call(storage) : undefined;
}

/**
 * Makes the instances of an adapter class offer bulk reads, without declaring a member
 * in its public type.
 *
 * @param adapter The class.
 * @param reader Gives an instance's reader.
 */
export function offerBulkReads<T extends StorageAdapter>(
  adapter: { prototype: T },
  reader: (instance: T) => BulkReader,
): void {
  Object.defineProperty(adapter.prototype, BULK, {
    value(this: T): BulkReader {
      return reader(this);
    },
  });
}
