// Output and the current execution, in the collections `outputs` and `metadata` (the
// names the original CVM used).
//
// Each `appendOutput` call inserts one document holding all its lines:
// `{ _id: "<executionId>/<start>", executionId, start, end, lines }`, where `start` is the
// index of its first line and `end` the index after its last. A document is only ever
// inserted, never updated (FerretDB v1 applies concurrent updates of one document
// non-atomically), and its `_id` makes its place unique: an appender inserts at the end of
// the last document it knows of, and when another appender took that place first (a
// duplicate key), it moves to the end of that document and tries again. So the documents
// of an execution form one chain from line 0, each call's lines contiguous and in order,
// none lost, whatever the number of appenders and processes.
//
// The original CVM kept all of an execution's lines in one document
// `{ executionId, lines }`; such a document reads as the lines before the first of ours.

import { fromDocumentValue, type NativeDocument, toDocumentValue } from "../document.ts";
import { idProblem, VALID_ID } from "../ids.ts";
import type { OutputPlan } from "../query.ts";
import { type Call, readCursor } from "./_call.ts";
import type { StoredDocument } from "./_connection.ts";
import { isDuplicateKey } from "./_errors.ts";
import { checkSize, corrupt } from "./_records.ts";

/** The `_id` of the metadata document holding the current execution (the original's). */
const CURRENT = "current";
/** After this many moves along the chain, an appender asks for its end instead. */
const MAX_HOPS = 8;
/** How many executions' output ends an adapter remembers. */
const MAX_REMEMBERED = 1024;

/** Where each execution's output ends, as this adapter last saw it. */
export class OutputEnds {
  #ends = new Map<string, number>();

  /** The remembered end, if any. */
  get(executionId: string): number | undefined {
    return this.#ends.get(executionId);
  }

  /** Remembers an end, forgetting the oldest when there are too many. */
  set(executionId: string, end: number): void {
    this.#ends.delete(executionId);
    if (this.#ends.size >= MAX_REMEMBERED) {
      this.#ends.delete(this.#ends.keys().next().value as string);
    }
    this.#ends.set(executionId, end);
  }

  /** Forgets an execution's end. */
  delete(executionId: string): void {
    this.#ends.delete(executionId);
  }
}

/** Appends lines (already checked) as one document after the execution's last. */
export async function appendLines(
  call: Call,
  executionId: string,
  lines: string[],
  ends: OutputEnds,
  context: { what: string; dbName: string },
): Promise<void> {
  const { outputs } = call.session;
  const native = lines.map((line) => toDocumentValue(line));
  let start = ends.get(executionId) ?? await findEnd(call, executionId, context.dbName);
  for (let hops = 1;; hops++) {
    const document: NativeDocument = {
      _id: `${executionId}/${start}`,
      executionId,
      start,
      end: start + lines.length,
      lines: native,
    };
    checkSize(call.session, document, context.what);
    try {
      await call.step(() => outputs.insertOne(document as StoredDocument));
      ends.set(executionId, start + lines.length);
      return;
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
    }
    // Another appender took this place: continue after its lines.
    const taken = hops < MAX_HOPS
      ? await call.step(() =>
        outputs.findOne({ _id: document._id as string }, { projection: { end: 1 } })
      )
      : null;
    const next = typeof taken?.end === "number"
      ? taken.end
      : await findEnd(call, executionId, context.dbName);
    if (!(next > start)) {
      corrupt("output", taken ?? document, context.what, context.dbName, "is out of order");
    }
    start = next;
  }
}

/** The index after the execution's last stored line. */
async function findEnd(call: Call, executionId: string, dbName: string): Promise<number> {
  const { outputs } = call.session;
  const last = await call.step(() =>
    outputs.findOne({ executionId }, {
      sort: { end: -1 },
      projection: { end: 1 },
      maxTimeMS: call.timeoutMS,
    })
  );
  if (last === null) return 0;
  if (typeof last.end === "number") return last.end;
  // The original's single document: its lines come first.
  const legacy = await call.step(() => outputs.findOne({ _id: last._id }));
  const what = `output of execution "${executionId}"`;
  return Array.isArray(legacy?.lines)
    ? legacy.lines.length
    : corrupt("output", last, what, dbName, 'has no "end" and no "lines"');
}

/** An execution's output lines, or the range the plan selects. */
export async function readLines(
  call: Call,
  executionId: string,
  plan: OutputPlan,
  dbName: string,
): Promise<string[]> {
  const { from, limit } = plan;
  const what = `output of execution "${executionId}"`;
  // Documents whose lines end after `from`, and the original's, which has no `end`.
  const filter = from === 0 ? { executionId } : { executionId, end: { $not: { $lte: from } } };
  const cursor = call.session.outputs.find(filter, {
    sort: { end: 1 },
    maxTimeMS: call.timeoutMS,
  });
  const out: string[] = [];
  await readCursor(call, cursor, (document) => {
    const { start, lines } = outputDocument(document, what, dbName);
    for (let i = Math.max(0, from - start); i < lines.length; i++) {
      if (limit !== undefined && out.length >= limit) return false;
      out.push(readLine(lines[i], document, what, dbName));
    }
    return limit === undefined || out.length < limit;
  });
  return out;
}

/**
 * An output document's first line index and its stored lines (not decoded yet); the
 * original's single document, which has no `end`, starts at 0.
 *
 * @throws {CorruptRecordError} When it does not hold "start", "end" and "lines".
 */
export function outputDocument(
  document: StoredDocument,
  what: string,
  dbName: string,
): { start: number; lines: unknown[]; legacy: boolean } {
  const lines = document.lines;
  const legacy = document.end === undefined;
  const start = legacy ? 0 : document.start;
  if (
    !Array.isArray(lines) ||
    (!legacy && (typeof start !== "number" || document.end !== start + lines.length))
  ) {
    corrupt("output", document, what, dbName, 'does not hold "start", "end" and "lines"');
  }
  return { start, lines, legacy };
}

/**
 * One stored output line, decoded.
 *
 * @throws {CorruptRecordError} When it is not a string.
 */
export function readLine(
  value: unknown,
  document: StoredDocument,
  what: string,
  dbName: string,
): string {
  let line: unknown;
  try {
    line = fromDocumentValue(value);
  } catch {
    // A value of a BSON type this library never writes.
  }
  return typeof line === "string"
    ? line
    : corrupt("output", document, what, dbName, "holds a line that is not a string");
}

/** Deletes an execution's output. */
export async function deleteLines(call: Call, executionId: string): Promise<void> {
  await call.step(() => call.session.outputs.deleteMany({ executionId }));
}

/** The stored current-execution id, or `null`. */
export async function readCurrent(call: Call, dbName: string): Promise<string | null> {
  const document = await call.step(() => call.session.metadata.findOne({ _id: CURRENT }));
  const id = document?.currentExecutionId ?? null;
  if (id !== null && idProblem(id) !== undefined) {
    corrupt(
      "metadata",
      document!,
      "the current execution",
      dbName,
      `holds a "currentExecutionId" that is not ${VALID_ID}`,
    );
  }
  return id;
}

/** Stores the current-execution id (`null` clears it). */
export async function writeCurrent(call: Call, id: string | null): Promise<void> {
  const { metadata } = call.session;
  const document = { _id: CURRENT, currentExecutionId: id };
  try {
    await call.step(() => metadata.replaceOne({ _id: CURRENT }, document, { upsert: true }));
  } catch (error) {
    // Two first writes at once: the loser replaces the winner's document.
    if (!isDuplicateKey(error)) throw error;
    await call.step(() => metadata.replaceOne({ _id: CURRENT }, document));
  }
}
