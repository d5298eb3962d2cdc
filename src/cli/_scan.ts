// Reads a whole store through the public API, in one defined order: programs and
// executions ascending by id, then each execution's history (ascending by step, then
// timestamp) and output, in execution id order, then the current execution. Export,
// inspect and the digests that prove a migration equal all read a store this way.
//
// History and output are reached through their execution: history or output stored under
// an id that has no execution record (an orphan) is not read. Where the adapter has bulk
// reads (MongoDB), history and output are read with one pass over each collection, which
// gives the same items in the same order (see _execution_reads.ts), orphans skipped.

import type { JsonObject } from "../codec.ts";
import { checkRecord } from "../records.ts";
import type { Execution, History, Program, StorageAdapter } from "../types.ts";
import type { CollectionName } from "./_document.ts";
import { readHistoryOf, readOutputOf } from "./_execution_reads.ts";

export { OUTPUT_PAGE, readOutput } from "./_execution_reads.ts";

/** What a scan calls for each thing it reads; each may be async. */
export interface ScanVisitor {
  /** A program, with its encoded form. */
  program?(json: JsonObject, record: Program): void | Promise<void>;
  /** An execution, with its encoded form. */
  execution?(json: JsonObject, record: Execution): void | Promise<void>;
  /** A history entry, with its encoded form. */
  history?(json: JsonObject, record: History): void | Promise<void>;
  /** A page of an execution's output lines, the first of which has index `from`. */
  output?(executionId: string, from: number, lines: string[]): void | Promise<void>;
  /** The current execution. */
  current?(id: string | null): void | Promise<void>;
  /** Called when reading an execution's history and output begins. */
  executionDone?(index: number, total: number): void;
}

/** Options for {@linkcode scanStore}. */
export interface ScanOptions {
  /** Records (and output lines) read per call. Default 500 (output 1000). */
  pageSize?: number;
  /** Only these collections; default all. */
  collections?: ReadonlySet<CollectionName>;
}

/** Default records per page. */
export const PAGE_SIZE = 500;

/**
 * Reads a store in the order described above, calling `visitor` for each item.
 *
 * @param storage A connected adapter.
 * @param visitor What to do with each item.
 * @param options Page size and collections.
 * @returns The ids of the executions read, in order.
 */
export async function scanStore(
  storage: StorageAdapter,
  visitor: ScanVisitor,
  options: ScanOptions = {},
): Promise<string[]> {
  const pageSize = options.pageSize ?? PAGE_SIZE;
  const wanted = (name: CollectionName) =>
    options.collections === undefined || options.collections.has(name);

  if (wanted("programs") && visitor.program) {
    for await (
      const program of pages((after) => storage.listPrograms({ after, limit: pageSize }))
    ) {
      await visitor.program(checkRecord("program", program).json, program);
    }
  }

  const ids: string[] = [];
  const visitExecutions = wanted("executions") && visitor.execution;
  for await (
    const execution of pages((after) => storage.listExecutions({ after, limit: pageSize }))
  ) {
    ids.push(execution.id);
    if (visitExecutions) {
      await visitor.execution!(checkRecord("execution", execution).json, execution);
    }
  }

  if (wanted("history") && visitor.history) {
    const history = visitor.history;
    await readHistoryOf(storage, ids, {
      start: (index) => visitor.executionDone?.(index, ids.length),
      item: (entry) => history(checkRecord("history", entry).json, entry),
    }, { pageSize });
  }

  if (wanted("outputs") && visitor.output) {
    const output = visitor.output;
    await readOutputOf(storage, ids, {
      item: ({ from, lines }, index) => output(ids[index], from, lines),
    });
  }

  if (wanted("metadata") && visitor.current) {
    await visitor.current(await storage.getCurrentExecutionId());
  }
  return ids;
}

/**
 * Yields the pages of a paged list, asking for each page after the last id of the one
 * before, until a page is empty.
 *
 * @param list Reads the page after an id (`undefined` for the first).
 * @returns The pages, in order.
 */
export async function* pageBatches<T extends { id: string }>(
  list: (after: string | undefined) => Promise<T[]>,
): AsyncGenerator<T[]> {
  let after: string | undefined;
  for (;;) {
    const page = await list(after);
    if (page.length === 0) return;
    yield page;
    after = page[page.length - 1].id;
  }
}

/**
 * Yields the records of a paged list, one by one.
 *
 * @param list Reads the page after an id (`undefined` for the first).
 * @returns The records, in order.
 */
export async function* pages<T extends { id: string }>(
  list: (after: string | undefined) => Promise<T[]>,
): AsyncGenerator<T> {
  for await (const page of pageBatches(list)) yield* page;
}
