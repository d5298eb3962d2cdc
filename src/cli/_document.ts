// The documents `export` writes and `import` reads, one per line, in MongoDB Extended JSON
// v2 (relaxed): `{"collection": "<name>", "document": {…}}`.
//
// A record's document is exactly what the MongoDB backend stores (`toDocument` of
// src/document.ts): the record's own fields, `_id` the record's id (history:
// `"<executionId>/<step>/<ISO timestamp>"`), and what BSON cannot hold in the tagged form.
// Exports use the form the backend writes on FerretDB, which also tags `NaN`, `±Infinity`,
// `-0` and arrays inside arrays, so that an export loads into MongoDB and FerretDB alike;
// the backend reads both forms on both servers.
//
// Output and the current execution have the shapes the MongoDB backend stores them in:
// `{"_id": "<executionId>/<start>", "executionId", "start", "end", "lines": [...]}` per
// chunk of an execution's output (`start` the index of its first line, `end` the index
// after its last; an export writes chunks of up to 1000 lines, a chain from line 0), and
// `{"_id": "current", "currentExecutionId": <id or null>}`. So every collection of an
// export, loaded with `mongoimport`, is what the MongoDB backend reads.

import { decodeValue, encodeValue, type JsonObject, type JsonValue } from "../codec.ts";
import {
  DocumentError,
  fromDocument,
  fromDocumentValue,
  type NativeDocument,
  toDocument,
  toDocumentValue,
} from "../document.ts";
import { idProblem } from "../ids.ts";
import type { RecordKind } from "../records.ts";

/** The collections of an export, in the order it writes them. */
export const COLLECTIONS = ["programs", "executions", "history", "outputs", "metadata"] as const;

/** A collection of an export (and of the MongoDB backend). */
export type CollectionName = typeof COLLECTIONS[number];

/** The record kind each record collection holds. */
export const RECORD_COLLECTIONS: Record<RecordKind, CollectionName> = {
  program: "programs",
  execution: "executions",
  history: "history",
};

/**
 * Documents in the form the MongoDB backend writes on FerretDB, which holds less than
 * MongoDB: `NaN`, `±Infinity`, `-0` and arrays inside arrays are tagged too, so that an
 * export loads into either server; the backend reads both forms on both.
 */
const PORTABLE = { server: "ferretdb" } as const;

/** The `_id` of the metadata document. */
const CURRENT_ID = "current";

/**
 * The document for a record: the MongoDB backend's own (`toDocument`), as Extended JSON.
 *
 * @param kind The record kind.
 * @param json The record's encoded form (`checkRecord(kind, record).json`); not changed.
 * @returns The document, as Extended JSON.
 */
export function recordDocument(kind: RecordKind, json: JsonObject): JsonObject {
  return encodeValue(toDocument(kind, json, PORTABLE), "Cannot export") as JsonObject;
}

/**
 * The encoded record a document holds: the inverse of {@linkcode recordDocument}.
 *
 * @param kind The record kind.
 * @param document A document parsed from a line; it is not changed.
 * @returns A fresh encoded form, for `decodeRecord`.
 * @throws {TypeError} When the document is not one this library stores.
 */
export function documentRecord(kind: RecordKind, document: JsonObject): JsonObject {
  try {
    return fromDocument(kind, decodeValue(structuredClone(document)) as NativeDocument);
  } catch (error) {
    if (error instanceof DocumentError) throw new TypeError(error.message);
    throw error;
  }
}

/**
 * The document for a chunk of an execution's output.
 *
 * @param executionId The execution.
 * @param start The index of the chunk's first line in the execution's output.
 * @param lines The lines.
 * @returns The document.
 */
export function outputDocument(executionId: string, start: number, lines: string[]): JsonObject {
  const native = lines.map((line) => toDocumentValue(line, PORTABLE));
  return encodeValue(
    {
      _id: `${executionId}/${start}`,
      executionId,
      start,
      end: start + lines.length,
      lines: native,
    },
    "Cannot export",
  ) as JsonObject;
}

/** A chunk of output read from a document. */
export interface OutputChunk {
  executionId: string;
  start: number;
  lines: string[];
}

/**
 * Reads an output document.
 *
 * @param document The document.
 * @returns The chunk.
 * @throws {TypeError} Saying which field is wrong.
 */
export function readOutputDocument(document: JsonObject): OutputChunk {
  const { executionId, start, end } = document;
  let lines: unknown = document.lines;
  try {
    if (Array.isArray(lines)) {
      lines = lines.map((line) => fromDocumentValue(decodeValue(structuredClone(line))));
    }
  } catch (error) {
    if (error instanceof DocumentError) throw new TypeError(`its "lines" ${error.message}`);
    throw error;
  }
  const problem = idProblem(executionId);
  if (problem !== undefined) throw new TypeError(`its "executionId" ${problem}`);
  if (typeof start !== "number" || !Number.isSafeInteger(start) || start < 0) {
    throw new TypeError('its "start" is not a non-negative integer');
  }
  if (!Array.isArray(lines) || !lines.every((line) => typeof line === "string")) {
    throw new TypeError('its "lines" is not an array of strings');
  }
  if (end !== undefined && end !== start + lines.length) {
    throw new TypeError('its "end" is not "start" plus the number of lines');
  }
  return { executionId: executionId as string, start, lines: lines as string[] };
}

/**
 * The document for the current-execution pointer.
 *
 * @param current The id, or `null`.
 * @returns The document.
 */
export function metadataDocument(current: string | null): JsonObject {
  return { _id: CURRENT_ID, currentExecutionId: current };
}

/**
 * Reads the metadata document.
 *
 * @param document The document.
 * @returns The current-execution id, or `null`.
 * @throws {TypeError} Saying which field is wrong.
 */
export function readMetadataDocument(document: JsonObject): string | null {
  const current: JsonValue | undefined = document.currentExecutionId;
  if (document._id !== CURRENT_ID) throw new TypeError(`its "_id" is not "${CURRENT_ID}"`);
  if (current === null) return null;
  const problem = idProblem(current);
  if (problem !== undefined) throw new TypeError(`its "currentExecutionId" ${problem}`);
  return current as string;
}
