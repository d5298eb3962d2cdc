/**
 * Streams an execution's history page by page, through any adapter.
 *
 * @module
 */

import { ValidationError } from "./errors.ts";
import { checkHistoryQuery } from "./query.ts";
import type { History, HistoryQuery, StorageAdapter } from "./types.ts";

/**
 * A {@linkcode HistoryQuery} for {@linkcode streamHistory}, with the page size.
 *
 * @example A thousand entries a page, from step 100 on
 * ```ts
 * import type { StreamHistoryQuery } from "@cvm/storage";
 *
 * const query: StreamHistoryQuery = { fromStep: 100, pageSize: 1000 };
 * ```
 */
export interface StreamHistoryQuery extends HistoryQuery {
  /** Entries read per `getHistory` call (a positive integer); default 500. */
  pageSize?: number;
}

const DEFAULT_PAGE_SIZE = 500;

/**
 * Yields an execution's history, or the part `query` selects, in the query's order,
 * reading it one page at a time with `getHistory` and the `after` cursor. However long the
 * history, it holds at most one page in memory; `query.limit` caps the total it yields.
 *
 * The query is checked when iteration starts: an invalid one makes the first `next()`
 * reject with {@linkcode ValidationError}. Errors of `getHistory` reject `next()` as they are.
 *
 * @param storage A connected adapter.
 * @param executionId The execution's id.
 * @param query The step range, cursor, limit, order and page size.
 * @returns An async iterator over the entries.
 *
 * @example Replaying an execution step by step
 * ```ts
 * import { MemoryStorageAdapter, streamHistory } from "@cvm/storage";
 *
 * await using storage = new MemoryStorageAdapter();
 * await storage.connect();
 * for (let step = 0; step < 5; step++) {
 *   await storage.saveHistory({
 *     executionId: "run-1",
 *     step,
 *     pc: step,
 *     instruction: "NOP",
 *     stack: [],
 *     variables: {},
 *     timestamp: new Date(),
 *   });
 * }
 * for await (const entry of streamHistory(storage, "run-1", { pageSize: 2 })) {
 *   console.log(entry.step); // 0, 1, 2, 3, 4
 * }
 * ```
 */
export async function* streamHistory(
  storage: StorageAdapter,
  executionId: string,
  query?: StreamHistoryQuery,
): AsyncIterableIterator<History> {
  const context = typeof executionId === "string"
    ? `Cannot stream history of execution "${executionId}"`
    : "Cannot stream history";
  let pageSize = DEFAULT_PAGE_SIZE;
  let rest: HistoryQuery | undefined;
  if (query !== undefined && query !== null && typeof query === "object" && !isArray(query)) {
    let size: unknown;
    let others: HistoryQuery;
    try {
      ({ pageSize: size, ...others } = query);
    } catch (error) {
      throw new ValidationError(
        `${context}: the query could not be read (${String(error)}); pass a plain object`,
      );
    }
    if (size !== undefined) {
      if (!Number.isSafeInteger(size) || (size as number) < 1) {
        throw new ValidationError(
          `${context}: option "pageSize" is ${
            typeof size === "number" ? size : `a ${typeof size}`
          }; pass a positive integer`,
        );
      }
      pageSize = size as number;
    }
    rest = others;
  } else {
    rest = query;
  }
  const plan = checkHistoryQuery(rest, context);
  let remaining = plan.limit ?? Infinity;
  let after = plan.after && { step: plan.after.step, timestamp: new Date(plan.after.time) };
  while (remaining > 0) {
    const limit = Math.min(pageSize, remaining);
    const page = await storage.getHistory(executionId, {
      fromStep: plan.fromStep,
      toStep: plan.toStep,
      after,
      limit,
      reverse: plan.reverse,
    });
    for (const entry of page) yield entry;
    if (page.length < limit) return;
    remaining -= page.length;
    const last = page[page.length - 1];
    after = { step: last.step, timestamp: new Date(last.timestamp.getTime()) };
  }
}

/** `Array.isArray`, false for a revoked proxy (which the query check then reports). */
function isArray(value: unknown): boolean {
  try {
    return Array.isArray(value);
  } catch {
    return false;
  }
}
