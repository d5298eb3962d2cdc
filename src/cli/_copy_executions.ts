// The heart of `migrate`: copying executions, a page at a time, resumably.
//
// For each page of the source's executions (ascending by id): the target's records for the
// page's id range are listed (one list call, not one lookup per execution), and an
// execution whose record the target holds equal to the source's is complete and skipped.
// The others get their history saved (an entry already there is a no-op retry), then
// their output appended exactly once (only the lines the target does not hold yet at
// their position), then their record, last, so that an equal record marks a finished copy.
//
// Reads follow the adapters: from a source with bulk reads (MongoDB), history and output
// come from one cursor each over the whole collection, consumed page by page alongside
// the execution list (both in code point order); items of ids with no execution record
// (orphans) are reported, not copied. Into a target with bulk reads, the history the
// page's executions already hold comes from one cursor over the target's history,
// consumed likewise, and an entry found equal there is not saved again (on FerretDB a
// repeated save costs a lookup that scans); the cursor reads a page's executions before
// they are written, so it never meets the copy's own writes (a MongoDB index scan does not
// return keys inserted behind it; FerretDB sorts the whole result when it starts). The
// output those executions hold is read in one call per page, which also tells the
// backend where each one's output ends. Elsewhere the public API is read execution by
// execution, which is cheap there.

import {
  type BulkHistoryItem,
  type BulkOutputItem,
  type BulkReader,
  bulkReader,
} from "../_bulk.ts";
import { deepEqual } from "../_deep_equal.ts";
import { ConflictError, StorageError } from "../errors.ts";
import { compareCodePoints } from "../query.ts";
import { historyConflict } from "../records.ts";
import { streamHistory } from "../stream_history.ts";
import type { Execution, History, StorageAdapter } from "../types.ts";
import { appendMissingOutput } from "./_append_missing.ts";
import { ByExecution, outputPages, readOutput } from "./_execution_reads.ts";
import type { Orphan } from "./_file_layout.ts";
import { inKeyOrder, inParallel } from "./_parallel.ts";

/** What the copy counts, and what it could not copy. */
export interface CopyTally {
  executions: { copied: number; complete: number };
  /** History entries saved (entries already there are no-op retries and count too). */
  history: { saved: number };
  outputs: { appended: number };
  /** What could not be copied (a different history entry or output already in the target). */
  problems: string[];
  /** History and output of ids with no execution record, met by a bulk read of the source. */
  orphans: Orphan[];
}

/** How the copy runs. */
export interface CopySettings {
  /** Records read per call, and history entries saved per batch. */
  pageSize: number;
  /** Executions copied at once. */
  concurrency: number;
  /** History entries saved at once, per execution. */
  writes: number;
  /** Copy the history and output of executions whose record the target already holds. */
  recheck: boolean;
  /** Called as the copy goes on. */
  progress: () => void;
}

/** An execution being copied, and whether all of it was. */
interface Task {
  execution: Execution;
  complete: boolean;
}

/**
 * Copies executions page by page. Call {@linkcode ExecutionCopy.page} for each page of
 * the source's executions in order, then {@linkcode ExecutionCopy.finish}; dispose of it
 * (`await using`) to release the source's cursors.
 */
export class ExecutionCopy implements AsyncDisposable {
  readonly #from: StorageAdapter;
  readonly #to: StorageAdapter;
  readonly #settings: CopySettings;
  readonly #tally: CopyTally;
  readonly #target: BulkReader | undefined;
  readonly #targetHistory: ByExecution<BulkHistoryItem> | undefined;
  readonly #history: ByExecution<BulkHistoryItem> | undefined;
  readonly #outputs: ByExecution<BulkOutputItem> | undefined;
  readonly #orphans = { history: new Set<string>(), outputs: new Set<string>() };
  /** The last id of the page before. */
  #after: string | undefined;

  /**
   * @param from The source, connected.
   * @param to The target, connected.
   * @param settings How to copy, and where to count.
   */
  constructor(
    from: StorageAdapter,
    to: StorageAdapter,
    settings: CopySettings & { tally: CopyTally },
  ) {
    this.#from = from;
    this.#to = to;
    this.#settings = settings;
    this.#tally = settings.tally;
    this.#target = bulkReader(to);
    this.#targetHistory = this.#target && new ByExecution(this.#target.history(), "history");
    const source = bulkReader(from);
    if (source !== undefined) {
      this.#history = new ByExecution(source.history(), "history");
      this.#outputs = new ByExecution(outputPages(source.outputs(), () => true), "output");
    }
  }

  /**
   * Copies a page of the source's executions, ascending by id after the pages before.
   *
   * @param executions The page.
   */
  async page(executions: Execution[]): Promise<void> {
    const last = executions[executions.length - 1].id;
    const list = (after: string | undefined, limit: number) =>
      this.#to.listExecutions({ after, limit });
    const held = this.#settings.recheck
      ? new Map<string, Execution>()
      : await recordsThrough(list, { after: this.#after, last, limit: this.#settings.pageSize });
    const page = new Set<string>();
    const tasks = new Map<string, Task>();
    for (const execution of executions) {
      page.add(execution.id);
      if (deepEqual(held.get(execution.id), execution)) {
        this.#tally.executions.complete++;
      } else {
        tasks.set(execution.id, { execution, complete: true });
      }
    }
    this.#settings.progress();
    await this.#copyHistory(tasks, page, last);
    await this.#copyOutput(tasks, page, last);
    const done = [...tasks.values()].filter((task) => task.complete);
    await inParallel(done, this.#settings.writes, async ({ execution }) => {
      // Last: an equal record in the target means this execution was copied in full.
      await this.#to.saveExecution(execution);
      this.#tally.executions.copied++;
      this.#settings.progress();
    });
    this.#after = last;
  }

  /** Reads what the source's bulk reads hold after the last page: orphans. */
  async finish(): Promise<void> {
    for await (const { executionId } of this.#history?.through() ?? []) {
      this.#orphan("history", executionId);
    }
    for await (const { executionId } of this.#outputs?.through() ?? []) {
      this.#orphan("outputs", executionId);
    }
    this.#tally.orphans.sort((a, b) =>
      a.collection === b.collection ? 0 : a.collection === "history" ? -1 : 1
    );
  }

  /** Releases the source's cursors. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.#targetHistory?.close();
    await this.#history?.close();
    await this.#outputs?.close();
  }

  #orphan(collection: "history" | "outputs", executionId: string): void {
    if (this.#orphans[collection].has(executionId)) return;
    this.#orphans[collection].add(executionId);
    this.#tally.orphans.push({
      collection,
      path: `${collection} { executionId: ${JSON.stringify(executionId)} }`,
    });
  }

  async #copyHistory(tasks: Map<string, Task>, page: Set<string>, last: string): Promise<void> {
    const { pageSize, concurrency, writes } = this.#settings;
    const held = await this.#heldHistory(tasks, last);
    const save = async (entry: History) => {
      try {
        const stored = held?.get(entry.executionId)?.get(historyKey(entry));
        if (stored === undefined) {
          await this.#to.saveHistory(entry);
        } else if (!deepEqual(stored, entry)) {
          // What saveHistory would throw.
          throw historyConflict(entry.executionId, entry.step, entry.timestamp.getTime());
        }
        this.#tally.history.saved++;
      } catch (error) {
        if (!(error instanceof ConflictError)) throw error;
        tasks.get(entry.executionId)!.complete = false;
        this.#tally.problems.push(error.message);
      }
    };
    const saveAll = async (entries: History[], limit: number) => {
      await inParallel(entries, limit, save);
      this.#settings.progress();
    };
    if (this.#history === undefined) {
      await inParallel([...tasks.values()], concurrency, async ({ execution }) => {
        let batch: History[] = [];
        for await (const entry of streamHistory(this.#from, execution.id, { pageSize })) {
          batch.push(entry);
          if (batch.length >= pageSize) {
            await saveAll(batch, writes);
            batch = [];
          }
        }
        await saveAll(batch, writes);
      });
      return;
    }
    let batch: History[] = [];
    for await (const item of this.#history.through(last)) {
      if (!tasks.has(item.executionId)) {
        if (!page.has(item.executionId)) this.#orphan("history", item.executionId);
        continue;
      }
      if (item.error !== undefined) throw item.error;
      batch.push(item.entry);
      if (batch.length >= pageSize) {
        await saveAll(batch, concurrency * writes);
        batch = [];
      }
    }
    await saveAll(batch, concurrency * writes);
  }

  /** The target's history of the page's tasks, by execution and key, from its bulk read. */
  async #heldHistory(
    tasks: Map<string, Task>,
    last: string,
  ): Promise<Map<string, Map<string, History>> | undefined> {
    if (this.#targetHistory === undefined) return undefined;
    const held = new Map<string, Map<string, History>>();
    for await (const item of this.#targetHistory.through(last)) {
      if (!tasks.has(item.executionId)) continue;
      if (item.error !== undefined) throw item.error;
      let entries = held.get(item.executionId);
      if (entries === undefined) held.set(item.executionId, entries = new Map());
      entries.set(historyKey(item.entry), item.entry);
    }
    return held;
  }

  async #copyOutput(tasks: Map<string, Task>, page: Set<string>, last: string): Promise<void> {
    const known = this.#target !== undefined && tasks.size > 0
      ? await heldOutput(this.#target, [...tasks.keys()])
      : undefined;
    const append = async (executionId: string, from: number, lines: string[]) => {
      const appended = await appendMissingOutput(
        this.#to,
        executionId,
        from,
        lines,
        { known: known?.get(executionId) },
      );
      this.#tally.outputs.appended += appended;
    };
    const conflict = (task: Task, error: unknown) => {
      if (!(error instanceof StorageError && error.code === "CONFLICT")) throw error;
      task.complete = false;
      this.#tally.problems.push(error.message);
    };
    if (this.#outputs === undefined) {
      await inParallel([...tasks.values()], this.#settings.concurrency, async (task) => {
        const id = task.execution.id;
        try {
          await readOutput(this.#from, id, (from, lines) => append(id, from, lines));
        } catch (error) {
          conflict(task, error);
        }
      });
      return;
    }
    const pages = outputPages(this.#outputs.through(last), (id) => {
      if (!page.has(id)) this.#orphan("outputs", id);
      return tasks.has(id);
    });
    const failed = new Set<string>();
    await inKeyOrder(pages, {
      limit: this.#settings.concurrency,
      key: (item) => item.executionId,
    }, async (item) => {
      const { executionId } = item;
      if (item.error !== undefined) throw item.error;
      // After a conflict, the rest of the execution's output is not copied.
      if (failed.has(executionId)) return;
      try {
        await append(executionId, item.from, item.lines);
      } catch (error) {
        failed.add(executionId);
        conflict(tasks.get(executionId)!, error);
      }
    });
  }
}

/**
 * The records a paged list holds from after `after` through `last`: one list call per
 * page of them, instead of one lookup per id.
 *
 * @param list Reads a page after an id.
 * @param range `after`: the id before the range, or `undefined` from the start; `last`:
 * the last id of the range; `limit`: records per list call.
 * @returns The records by id.
 */
export async function recordsThrough<T extends { id: string }>(
  list: (after: string | undefined, limit: number) => Promise<T[]>,
  range: { after: string | undefined; last: string; limit: number },
): Promise<Map<string, T>> {
  let { after } = range;
  const { last, limit } = range;
  const found = new Map<string, T>();
  for (;;) {
    const page = await list(after, limit);
    for (const record of page) {
      if (compareCodePoints(record.id, last) > 0) return found;
      found.set(record.id, record);
    }
    if (page.length < limit) return found;
    after = page[page.length - 1].id;
  }
}

/** A history entry's key within its execution. */
function historyKey(entry: History): string {
  return `${entry.step}/${entry.timestamp.getTime()}`;
}

/** The whole output the target holds for each execution, read in one bulk call. */
async function heldOutput(target: BulkReader, ids: string[]): Promise<Map<string, string[]>> {
  const held = new Map(ids.map((id) => [id, [] as string[]]));
  for await (const item of target.outputs({ executionIds: ids })) {
    if (item.error !== undefined) throw item.error;
    const lines = held.get(item.executionId);
    // A server that answers more than asked is ignored.
    if (lines !== undefined) { for (const line of item.lines) lines.push(line); }
  }
  return held;
}
