// Reading the history and output of many executions: through the adapter's bulk reads
// (src/_bulk.ts) where it has them, one pass over each collection, else execution by
// execution through the public API. Both ways give the same items in the same order for
// the executions asked for, and the same errors; the bulk reads also meet history and
// output of ids that have no execution record (orphans), which callers skip or report.

import { type BulkHistoryItem, type BulkOutputItem, bulkReader } from "../_bulk.ts";
import { StorageError } from "../errors.ts";
import { compareCodePoints } from "../query.ts";
import { streamHistory } from "../stream_history.ts";
import type { History, StorageAdapter } from "../types.ts";

/** Output lines per page (and per exported output document). */
export const OUTPUT_PAGE = 1000;

/**
 * The items of a bulk read, checked to come in execution id order (code point order, as
 * `listExecutions` lists), read up to a given execution at a time.
 */
export class ByExecution<T extends { executionId: string }> {
  readonly #iterator: AsyncIterator<T>;
  readonly #what: string;
  #next: T | undefined;
  #done = false;
  #last: string | undefined;

  /**
   * @param items The bulk read.
   * @param what What it reads, for the error: `history`, `output`.
   */
  constructor(items: AsyncIterable<T>, what: string) {
    this.#iterator = items[Symbol.asyncIterator]();
    this.#what = what;
  }

  /**
   * Yields the items of executions up to `lastId` (inclusive), or all that are left.
   *
   * @throws {StorageError} When the store yields an execution id before a smaller one.
   */
  async *through(lastId?: string): AsyncGenerator<T> {
    for (;;) {
      const item = await this.#peek();
      if (item === undefined) return;
      if (lastId !== undefined && compareCodePoints(item.executionId, lastId) > 0) return;
      this.#next = undefined;
      yield item;
    }
  }

  /** Stops the read, releasing its cursor. */
  async close(): Promise<void> {
    if (this.#done) return;
    this.#done = true;
    await this.#iterator.return?.();
  }

  async #peek(): Promise<T | undefined> {
    if (this.#next !== undefined || this.#done) return this.#next;
    const result = await this.#iterator.next();
    if (result.done) {
      this.#done = true;
      return undefined;
    }
    const id = result.value.executionId;
    if (this.#last !== undefined && compareCodePoints(this.#last, id) > 0) {
      throw new StorageError(
        `Cannot read ${this.#what} in bulk: the store gave execution ${JSON.stringify(id)} ` +
          `after ${JSON.stringify(this.#last)}, not in code point order (does the collection ` +
          "have a collation?); read the store through the public API, execution by execution",
      );
    }
    this.#last = id;
    this.#next = result.value;
    return this.#next;
  }
}

/**
 * Regroups output runs into pages of up to {@linkcode OUTPUT_PAGE} lines counted from each
 * execution's first line, the pages `readOutput` reads, dropping the executions `keep`
 * refuses. An execution's error ends its pages (its earlier pages are yielded, not the
 * part of a page read before the error).
 *
 * @param items Runs in execution order.
 * @param keep Whether to yield an execution's pages.
 * @returns The pages, and the errors in place.
 */
export async function* outputPages(
  items: AsyncIterable<BulkOutputItem>,
  keep: (executionId: string) => boolean,
): AsyncGenerator<BulkOutputItem> {
  let page: { executionId: string; from: number; lines: string[] } | undefined;
  let failed: string | undefined;
  for await (const item of items) {
    const { executionId } = item;
    if (executionId === failed || !keep(executionId)) continue;
    if (page !== undefined && page.executionId !== executionId) {
      if (page.lines.length > 0) yield page;
      page = undefined;
    }
    if (item.error !== undefined) {
      page = undefined;
      failed = executionId;
      yield item;
      continue;
    }
    page ??= { executionId, from: 0, lines: [] };
    for (const line of item.lines) {
      page.lines.push(line);
      if (page.lines.length === OUTPUT_PAGE) {
        yield page;
        page = { executionId, from: page.from + OUTPUT_PAGE, lines: [] };
      }
    }
  }
  if (page !== undefined && page.lines.length > 0) yield page;
}

/**
 * Reads an execution's output page by page through the public API.
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

/** What to do with what {@linkcode readHistoryOf} and {@linkcode readOutputOf} read. */
export interface ExecutionReadHandlers<T> {
  /** Reading execution `index` of the ids begins (bulk reads: when its first item comes). */
  start?(index: number): void;
  /** An item of execution `index`. */
  item(item: T, index: number): void | Promise<void>;
  /**
   * Reading an execution failed; the rest of it is skipped. Default: the failure is
   * thrown. A failure of the whole bulk read is thrown either way.
   */
  error?(executionId: string, error: unknown): void;
  /** A bulk read met items of an id that is not among the ids (once per id). */
  orphan?(executionId: string): void;
}

/**
 * Reads the history of the executions `ids` (ascending in code point order), one
 * execution after another, each ascending by step and timestamp.
 *
 * @param storage A connected adapter.
 * @param ids The executions.
 * @param handlers What to do with each entry.
 * @param options Entries per page, for reads through the public API.
 */
export async function readHistoryOf(
  storage: StorageAdapter,
  ids: readonly string[],
  handlers: ExecutionReadHandlers<History>,
  options: { pageSize: number },
): Promise<void> {
  const bulk = bulkReader(storage);
  if (bulk !== undefined) {
    const items = new ByExecution(bulk.history(), "history");
    await readInBulk(items, ids, handlers, (item) => item.entry);
    return;
  }
  for (const [index, id] of ids.entries()) {
    handlers.start?.(index);
    try {
      for await (const entry of streamHistory(storage, id, options)) {
        await handlers.item(entry, index);
      }
    } catch (error) {
      if (handlers.error === undefined) throw error;
      handlers.error(id, error);
    }
  }
}

/** A page of an execution's output: its lines from index `from`. */
export interface OutputPage {
  from: number;
  lines: string[];
}

/**
 * Reads the output of the executions `ids` (ascending in code point order), one execution
 * after another, in pages of {@linkcode OUTPUT_PAGE} lines.
 *
 * @param storage A connected adapter.
 * @param ids The executions.
 * @param handlers What to do with each page.
 */
export async function readOutputOf(
  storage: StorageAdapter,
  ids: readonly string[],
  handlers: ExecutionReadHandlers<OutputPage>,
): Promise<void> {
  const bulk = bulkReader(storage);
  if (bulk !== undefined) {
    const pages = outputPages(bulk.outputs(), () => true);
    await readInBulk(new ByExecution(pages, "output"), ids, handlers, ({ from, lines }) => ({
      from,
      lines,
    }));
    return;
  }
  for (const [index, id] of ids.entries()) {
    handlers.start?.(index);
    try {
      await readOutput(storage, id, (from, lines) => handlers.item({ from, lines }, index));
    } catch (error) {
      if (handlers.error === undefined) throw error;
      handlers.error(id, error);
    }
  }
}

/** Joins a bulk read with the ids, both in code point order. */
async function readInBulk<I extends BulkHistoryItem | BulkOutputItem, T>(
  items: ByExecution<I>,
  ids: readonly string[],
  handlers: ExecutionReadHandlers<T>,
  value: (item: Exclude<I, { error: StorageError }>) => T,
): Promise<void> {
  let index = -1;
  let failed: string | undefined;
  let orphan: string | undefined;
  try {
    for await (const item of items.through()) {
      const id = item.executionId;
      // Both ascend, so the ids before this one have nothing (more) to read.
      while (index + 1 < ids.length && compareCodePoints(ids[index + 1], id) <= 0) {
        index++;
        handlers.start?.(index);
      }
      if (index < 0 || ids[index] !== id) {
        if (orphan !== id) handlers.orphan?.(id);
        orphan = id;
        continue;
      }
      if (id === failed) continue;
      if (item.error !== undefined) {
        if (handlers.error === undefined) throw item.error;
        failed = id;
        handlers.error(id, item.error);
        continue;
      }
      await handlers.item(value(item as Exclude<I, { error: StorageError }>), index);
    }
    // (Not `start?.(++index)`: a missing `start` would skip the increment.)
    while (index + 1 < ids.length) {
      index++;
      handlers.start?.(index);
    }
  } finally {
    await items.close();
  }
}
