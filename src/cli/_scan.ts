// Reads a whole store through the public API, in one defined order: programs and
// executions ascending by id, then each execution's history (ascending by step, then
// timestamp) and output, in execution id order, then the current execution. Export,
// inspect and the digests that prove a migration equal all read a store this way.
//
// History and output are reached through their execution: history or output stored under
// an id that has no execution record (an orphan) cannot be enumerated through the API and
// is not read.

import type { JsonObject } from "../codec.ts";
import { checkRecord } from "../records.ts";
import { streamHistory } from "../stream_history.ts";
import type { Execution, History, Program, StorageAdapter } from "../types.ts";
import type { CollectionName } from "./_document.ts";

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
/** Output lines per page (and per exported output document). */
export const OUTPUT_PAGE = 1000;

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
    for (const [index, id] of ids.entries()) {
      visitor.executionDone?.(index, ids.length);
      for await (const entry of streamHistory(storage, id, { pageSize })) {
        await visitor.history(checkRecord("history", entry).json, entry);
      }
    }
  }

  if (wanted("outputs") && visitor.output) {
    for (const id of ids) {
      await readOutput(storage, id, (from, lines) => visitor.output!(id, from, lines));
    }
  }

  if (wanted("metadata") && visitor.current) {
    await visitor.current(await storage.getCurrentExecutionId());
  }
  return ids;
}

/**
 * Reads an execution's output page by page.
 *
 * @param storage A connected adapter.
 * @param executionId The execution.
 * @param page Called with each page and the index of its first line.
 * @param from The index to start at.
 * @returns The number of lines read.
 */
export async function readOutput(
  storage: StorageAdapter,
  executionId: string,
  page: (from: number, lines: string[]) => void | Promise<void>,
  from = 0,
): Promise<number> {
  let index = from;
  for (;;) {
    const lines = await storage.getOutput(executionId, { from: index, limit: OUTPUT_PAGE });
    if (lines.length > 0) await page(index, lines);
    index += lines.length;
    if (lines.length < OUTPUT_PAGE) return index - from;
  }
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
