// Programs, executions and history as documents: finding each whatever its shape (this
// library's `_id` = id, or the ObjectId `_id` the original CVM and version 0.1 left),
// writing them, and reading them back as records.

import type { Collection, Document } from "mongodb";
import { deepEqual } from "../_deep_equal.ts";
import type { JsonObject } from "../codec.ts";
import { bsonSizeBound, DocumentError, fromDocument, type NativeDocument } from "../document.ts";
import { CorruptRecordError, ValidationError } from "../errors.ts";
import type { HistoryPlan, ListPlan } from "../query.ts";
import { decodeRecord, historyConflict, type RecordTypes } from "../records.ts";
import type { Execution, History } from "../types.ts";
import { type Call, readCursor } from "./_call.ts";
import { COLLECTIONS, type Session, type StoredDocument } from "./_connection.ts";
import { isDuplicateKey } from "./_errors.ts";
import { historyQuery, listQuery } from "./_queries.ts";

/** Programs and executions: the records stored under their own id. */
export type Kind = "program" | "execution";

/** MongoDB's largest document. */
export const MAX_DOCUMENT_BYTES = 16 * 1024 * 1024;
/** Concurrent saves of a new id can both try to insert; the loser tries again this often. */
const SAVE_ATTEMPTS = 3;

function collection(session: Session, kind: Kind): Collection<StoredDocument> {
  return kind === "program" ? session.programs : session.executions;
}

/**
 * Checks a document against MongoDB's 16 MiB limit, as the driver would send it.
 *
 * @throws {ValidationError} When it is larger.
 */
export function checkSize(session: Session, document: NativeDocument, what: string): void {
  if (bsonSizeBound(document) <= MAX_DOCUMENT_BYTES) return;
  const bytes = session.bson.calculateObjectSize(document);
  if (bytes > MAX_DOCUMENT_BYTES) {
    throw new ValidationError(
      `${what}: it is ${bytes} bytes as a BSON document, more than the ` +
        `${MAX_DOCUMENT_BYTES} MongoDB stores in one document; keep large data elsewhere ` +
        "and store a reference to it",
    );
  }
}

/** The document of a program or execution, or `null`. */
export async function findRecord(call: Call, kind: Kind, id: string): Promise<Document | null> {
  const target = collection(call.session, kind);
  const document = await call.step(() => target.findOne({ _id: id }));
  if (document !== null) return document;
  // The original CVM and version 0.1 gave their documents an ObjectId `_id`.
  return await call.step(() => target.findOne({ id }));
}

/** Inserts or replaces a program or execution. */
export async function saveRecord(
  call: Call,
  kind: Kind,
  id: string,
  document: NativeDocument,
): Promise<void> {
  const target = collection(call.session, kind);
  const { _id: _, ...fields } = document;
  for (let attempt = 1;; attempt++) {
    try {
      await call.step(() =>
        target.replaceOne({ _id: id }, document as StoredDocument, { upsert: true })
      );
      return;
    } catch (error) {
      // The unique index on `id`: an older document holds this id under an ObjectId `_id`
      // (it is rewritten in place, keeping its `_id`), or a concurrent save inserted first.
      if (!isDuplicateKey(error) || attempt >= SAVE_ATTEMPTS) throw error;
    }
    const result = await call.step(() => target.replaceOne({ id }, fields));
    if (result.matchedCount > 0) return;
  }
}

/** Deletes a program or execution; whether it existed. */
export async function deleteRecord(call: Call, kind: Kind, id: string): Promise<boolean> {
  const target = collection(call.session, kind);
  const result = await call.step(() => target.deleteOne({ _id: id }));
  if (result.deletedCount > 0) return true;
  const legacy = await call.step(() => target.deleteOne({ id }));
  return legacy.deletedCount > 0;
}

/** A page of programs or executions, decoded. */
export async function listRecords<K extends Kind>(
  call: Call,
  kind: K,
  plan: ListPlan,
  dbName: string,
): Promise<RecordTypes[K][]> {
  const { filter, sort, limit, checkState } = listQuery(plan);
  const target = collection(call.session, kind);
  const what = `${kind}s`;
  const out: RecordTypes[K][] = [];
  // Documents from version 0.1 may match `state` only by their text: read past them.
  const cursor = checkState
    ? target.find(filter, { sort, batchSize: limit, maxTimeMS: call.timeoutMS })
    : target.find(filter, { sort, limit, maxTimeMS: call.timeoutMS });
  await readCursor(call, cursor, (document) => {
    const record = decodeDocument(kind, document, what, dbName);
    if (!checkState || (record as Execution).state === plan.state) out.push(record);
    return limit === undefined || out.length < limit;
  });
  return out;
}

/** Appends a history entry; an identical entry already stored makes it a no-op. */
export async function insertHistory(
  call: Call,
  document: NativeDocument,
  json: JsonObject,
  dbName: string,
): Promise<void> {
  const { history } = call.session;
  const executionId = json.executionId as string;
  const step = json.step as number;
  const timestamp = document.timestamp as Date;
  for (let attempt = 1;; attempt++) {
    try {
      await call.step(() => history.insertOne(document as StoredDocument));
      return;
    } catch (error) {
      if (!isDuplicateKey(error) || attempt >= SAVE_ATTEMPTS) throw error;
    }
    // Older documents with this key have an ObjectId `_id`.
    const stored = await call.step(() => history.findOne({ _id: document._id as string })) ??
      await call.step(() => history.findOne({ executionId, step, timestamp }));
    if (stored === null) continue;
    const what = `history of execution "${executionId}"`;
    const found = decodeDocument("history", stored, what, dbName);
    if (deepEqual(found, decodeRecord("history", structuredClone(json), what))) return;
    throw historyConflict(executionId, step, timestamp.getTime());
  }
}

/** An execution's history, or the part the plan selects, decoded. */
export async function readHistory(
  call: Call,
  executionId: string,
  plan: HistoryPlan,
  dbName: string,
): Promise<History[]> {
  const { filter, sort, limit } = historyQuery(executionId, plan);
  const what = `history of execution "${executionId}"`;
  const out: History[] = [];
  const cursor = call.session.history.find(filter, {
    sort,
    limit,
    maxTimeMS: call.timeoutMS,
  });
  await readCursor(call, cursor, (document) => {
    out.push(decodeDocument("history", document, what, dbName));
    return true;
  });
  return out;
}

/**
 * Decodes a stored document into a record, checking that it is the record it is filed
 * under.
 *
 * @throws {CorruptRecordError} Naming the collection and the document.
 */
export function decodeDocument<K extends keyof RecordTypes>(
  kind: K,
  document: Document,
  what: string,
  dbName: string,
): RecordTypes[K] {
  let json: JsonObject;
  try {
    json = fromDocument(kind, document);
  } catch (error) {
    if (!(error instanceof DocumentError)) throw error;
    return corrupt(kind, document, what, dbName, error.message.replace(/^its /, "has its "));
  }
  let record: RecordTypes[K];
  try {
    record = decodeRecord(kind, json, what);
  } catch (error) {
    if (!(error instanceof CorruptRecordError)) throw error;
    const problem = /does not hold a valid \w+ \((.*)\); restore/s.exec(error.message)?.[1];
    return corrupt(kind, document, what, dbName, `is not a valid ${kind} (${problem ?? "?"})`);
  }
  const id = (record as { id?: string }).id;
  const mismatch = kind === "history"
    ? historyMismatch(document, record as History)
    : (typeof document._id === "string" && document._id !== id) || document.id !== id
    ? `holds ${kind} ${JSON.stringify(id)}`
    : undefined;
  if (mismatch !== undefined) corrupt(kind, document, what, dbName, mismatch);
  return record;
}

function historyMismatch(document: Document, entry: History): string | undefined {
  const indexed = document.timestamp;
  if (
    document.executionId === entry.executionId && document.step === entry.step &&
    indexed instanceof Date && indexed.getTime() === entry.timestamp.getTime()
  ) {
    return undefined;
  }
  return `holds the entry of execution ${JSON.stringify(entry.executionId)} at step ` +
    `${entry.step}, ${entry.timestamp.toISOString()}, but is indexed under another key`;
}

/** Throws the error for a document that does not hold the record it should. */
export function corrupt(
  kind: keyof RecordTypes | "output" | "metadata",
  document: Document,
  what: string,
  dbName: string,
  problem: string,
): never {
  const name = `${dbName}.${COLLECTIONS[kind]}`;
  throw new CorruptRecordError(
    `Cannot read ${what}: the document ${describeId(document._id)} in collection "${name}" ` +
      `${problem}; restore it from a backup or delete it`,
    { path: name },
  );
}

function describeId(id: unknown): string {
  if (typeof id === "string") return `{ _id: ${JSON.stringify(id)} }`;
  const hex = (id as { toHexString?: () => string } | null)?.toHexString?.();
  return typeof hex === "string" ? `{ _id: ObjectId("${hex}") }` : "without a readable _id";
}
