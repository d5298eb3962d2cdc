// Bulk reads (see src/_bulk.ts): the whole `history` collection, or the `outputs` of many
// executions, through one cursor each, decoded as getHistory and getOutput decode them.
//
// On MongoDB the sorts below are answered from the indexes `{ executionId, step,
// timestamp }` and `{ executionId, end }` as the documents stream. FerretDB v1 uses no
// index but `_id`: it reads the collection once and sorts it in memory before the first
// batch (20,000 history documents: about 3 s, then the batches follow quickly), which is
// still one scan in all where per-execution queries cost one scan each. Bulk cursors get
// no `maxTimeMS` (it would bound the whole read, not one batch); each batch is bounded by
// the call's deadline.

import type { BulkHistoryItem, BulkOutputItem } from "../_bulk.ts";
import { CorruptRecordError } from "../errors.ts";
import { type Call, cursorBatches } from "./_call.ts";
import type { StoredDocument } from "./_connection.ts";
import { outputDocument, type OutputEnds, readLine } from "./_output.ts";
import { decodeDocument } from "./_records.ts";

/** Documents per batch of a bulk read. */
const BATCH = 1000;

/** Every history entry, by execution id, step and timestamp. */
export async function* bulkHistory(call: Call, dbName: string): AsyncGenerator<BulkHistoryItem> {
  const cursor = call.session.history.find({}, {
    sort: { executionId: 1, step: 1, timestamp: 1 },
    batchSize: BATCH,
  });
  for await (const batch of cursorBatches(call, cursor)) {
    for (const document of batch) {
      const executionId = document.executionId;
      // No getHistory call reaches an entry without a string execution id.
      if (typeof executionId !== "string") continue;
      yield historyItem(executionId, document, dbName);
    }
  }
}

function historyItem(executionId: string, document: StoredDocument, dbName: string) {
  try {
    const what = `history of execution "${executionId}"`;
    return { executionId, entry: decodeDocument("history", document, what, dbName) };
  } catch (error) {
    if (!(error instanceof CorruptRecordError)) throw error;
    return { executionId, error };
  }
}

/**
 * The output of the executions named (all when `executionIds` is undefined), by execution
 * id, each execution's documents in order, as runs of lines. After reading named
 * executions to the end, `ends` holds where each one's output ends (0 for none), so
 * that appending to them next needs no query for it.
 */
export async function* bulkOutputs(
  call: Call,
  dbName: string,
  options: { executionIds?: readonly string[]; ends: OutputEnds },
): AsyncGenerator<BulkOutputItem> {
  const { executionIds, ends } = options;
  const filter = executionIds === undefined ? {} : { executionId: { $in: [...executionIds] } };
  const cursor = call.session.outputs.find(filter, {
    sort: { executionId: 1, end: 1 },
    batchSize: BATCH,
  });
  // Per execution: lines so far, where its output ends (as appendOutput finds it), and
  // whether a document failed to read (getOutput would stop there).
  let current: { id: string; count: number; end: number; failed: boolean } | undefined;
  const seen = new Map<string, number | undefined>();
  const finish = (done: typeof current) => {
    if (done !== undefined && executionIds !== undefined) {
      seen.set(done.id, done.failed ? undefined : done.end);
    }
  };
  for await (const batch of cursorBatches(call, cursor)) {
    for (const document of batch) {
      const executionId = document.executionId;
      if (typeof executionId !== "string") continue;
      if (current?.id !== executionId) {
        finish(current);
        current = { id: executionId, count: 0, end: 0, failed: false };
      }
      if (current.failed) continue;
      const item = outputItem(current, document, dbName);
      if (item.error !== undefined) current.failed = true;
      yield item;
    }
  }
  finish(current);
  for (const id of executionIds ?? []) {
    const end = seen.has(id) ? seen.get(id) : 0;
    if (end !== undefined) ends.set(id, end);
  }
}

function outputItem(
  current: { id: string; count: number; end: number },
  document: StoredDocument,
  dbName: string,
): BulkOutputItem {
  const executionId = current.id;
  const what = `output of execution "${executionId}"`;
  try {
    const { start, lines, legacy } = outputDocument(document, what, dbName);
    const decoded = lines.map((line) => readLine(line, document, what, dbName));
    const from = current.count;
    current.count += decoded.length;
    // As appendOutput finds the end: the last document's, or the original's line count.
    current.end = legacy ? Math.max(current.end, decoded.length) : start + decoded.length;
    return { executionId, from, lines: decoded };
  } catch (error) {
    if (!(error instanceof CorruptRecordError)) throw error;
    return { executionId, error };
  }
}
