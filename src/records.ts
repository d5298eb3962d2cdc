/**
 * The shape of each record kind: checked before every write, and again on every read.
 *
 * @module
 */

import { decodeValue, encodeValue, type JsonObject } from "./codec.ts";
import { CorruptRecordError, ValidationError } from "./errors.ts";
import { assertId, idProblem, VALID_ID } from "./ids.ts";
import type { Execution, History, Program } from "./types.ts";

/** The three record kinds. */
export type RecordKind = "program" | "execution" | "history";

/** The record type of each kind. */
export interface RecordTypes {
  program: Program;
  execution: Execution;
  history: History;
}

type FieldCheck = (value: unknown) => string | undefined;

const isDate = (value: unknown): value is Date => value instanceof Date;
const string: FieldCheck = (v) => typeof v === "string" ? undefined : "must be a string";
const date: FieldCheck = (v) => isDate(v) ? undefined : "must be a Date";
const optionalDate: FieldCheck = (v) => v === undefined ? undefined : date(v);
const present: FieldCheck = (v) => v === undefined ? "is required" : undefined;
const array: FieldCheck = (v) => Array.isArray(v) ? undefined : "must be an array";
const object: FieldCheck = (v) =>
  v !== null && typeof v === "object" && !Array.isArray(v) && !isDate(v)
    ? undefined
    : "must be a plain object";
const finite: FieldCheck = (v) =>
  typeof v === "number" && Number.isFinite(v) ? undefined : "must be a finite number";
const step: FieldCheck = (v) =>
  Number.isSafeInteger(v) && (v as number) >= 0 ? undefined : "must be a non-negative safe integer";
const state: FieldCheck = (v) =>
  v === "ready" || v === "running" || v === "completed" || v === "error"
    ? undefined
    : 'must be one of "ready", "running", "completed", "error"';
const strings: FieldCheck = (v) =>
  Array.isArray(v) && v.every((line) => typeof line === "string")
    ? undefined
    : "must be an array of strings";
const optionalString: FieldCheck = (v) => v === undefined ? undefined : string(v);

const FIELDS: Record<RecordKind, Record<string, FieldCheck>> = {
  program: {
    name: string,
    source: string,
    bytecode: present,
    created: date,
    updated: optionalDate,
  },
  execution: {
    programId: string,
    state,
    pc: finite,
    stack: array,
    variables: object,
    output: strings,
    error: optionalString,
    created: date,
    updated: optionalDate,
  },
  history: {
    step,
    pc: finite,
    instruction: string,
    stack: array,
    variables: object,
    timestamp: date,
  },
};

/** The field holding the id a record is stored under. */
const KEY_FIELD: Record<RecordKind, "id" | "executionId"> = {
  program: "id",
  execution: "id",
  history: "executionId",
};

/**
 * Checks a record's shape and values and returns its JSON form together with the checked
 * copy it was made from. Take the id (and a history entry's key) from `record`, not from
 * the caller's object, which a getter or proxy could make answer differently.
 *
 * @param kind Which kind of record this is.
 * @param record The record passed by the caller.
 * @returns The JSON form and a fresh record decoded from it; neither shares anything with
 * the caller's object.
 * @throws {ValidationError} For an invalid id, a missing or mistyped field, or a value that
 * cannot round-trip.
 */
export function checkRecord<K extends RecordKind>(
  kind: K,
  record: unknown,
): { json: JsonObject; record: RecordTypes[K] } {
  if (record === null || typeof record !== "object" || Array.isArray(record)) {
    throw new ValidationError(
      `Cannot save ${kind}: expected a ${kind} object, got ${describeType(record)}`,
    );
  }
  const fields = record as Record<string, unknown>;
  const keyField = KEY_FIELD[kind];
  const id = fields[keyField];
  assertId(id, `Cannot save ${kind}`, keyField);
  const context = kind === "history"
    ? `Cannot save history of execution "${id}" at step ${String(fields.step)}`
    : `Cannot save ${kind} "${id}"`;
  const programId = fields.programId;
  if (kind === "execution") assertId(programId, context, "programId");
  const problem = checkFields(kind, fields);
  if (problem !== undefined) {
    throw new ValidationError(`${context}: ${problem}; fix the ${kind} and save it again`);
  }
  const json = encodeValue(record, context, "") as JsonObject;
  // Check again what will be stored: encoding reads each enumerable property once more, so
  // a non-enumerable field, a getter or a proxy could otherwise slip past the checks above
  // and store a record that reads back as corrupt.
  const stored = decodeValue(json) as Record<string, unknown>;
  const again = stored[keyField] !== id
    ? `field "${keyField}" is not an enumerable own property, or changed while it was read`
    : (kind === "execution" && stored.programId !== programId)
    ? 'field "programId" is not an enumerable own property, or changed while it was read'
    : checkFields(kind, stored);
  if (again !== undefined) {
    throw new ValidationError(
      `${context}: ${again}; pass a plain object whose fields are plain data properties`,
    );
  }
  return { json, record: stored as unknown as RecordTypes[K] };
}

/**
 * Turns a stored JSON form back into a record, checking its shape again.
 *
 * @param kind Which kind of record this is.
 * @param json The parsed JSON.
 * @param what Names what was being read, e.g. `program "p1"` or `programs`.
 * @param path The file or document the record came from, for the error.
 * @returns A fresh record.
 * @throws {CorruptRecordError} When the JSON is not a valid record.
 */
export function decodeRecord<K extends RecordKind>(
  kind: K,
  json: unknown,
  what: string,
  path?: string,
): RecordTypes[K] {
  let problem: string | undefined;
  let record: unknown;
  try {
    record = decodeValue(json);
  } catch (error) {
    problem = (error as Error).message;
  }
  if (problem === undefined) {
    if (record === null || typeof record !== "object" || Array.isArray(record)) {
      problem = `it holds ${describeType(record)}`;
    } else {
      const fields = record as Record<string, unknown>;
      problem = idProblem(fields[KEY_FIELD[kind]]) === undefined
        ? checkFields(kind, fields)
        : `field "${KEY_FIELD[kind]}" must be ${VALID_ID}`;
    }
  }
  if (problem !== undefined) {
    const source = path === undefined ? "the stored record" : `file "${path}"`;
    throw new CorruptRecordError(
      `Cannot read ${what}: ${source} does not hold a valid ${kind} (${problem}); ` +
        "restore it from a backup or delete it",
      { path },
    );
  }
  return record as RecordTypes[K];
}

function checkFields(kind: RecordKind, record: Record<string, unknown>): string | undefined {
  for (const [field, check] of Object.entries(FIELDS[kind])) {
    const problem = check(record[field]);
    if (problem !== undefined) return `field "${field}" ${problem}`;
  }
  return undefined;
}

function describeType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

/**
 * Orders records by id in JavaScript string order (UTF-16 code units).
 *
 * @param a A record.
 * @param b Another record.
 * @returns A negative number, zero or a positive number, for `Array.prototype.sort`.
 */
export function compareIds(a: { id: string }, b: { id: string }): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * Orders history entries by step, then by timestamp.
 *
 * @param a A history entry.
 * @param b Another history entry.
 * @returns A negative number, zero or a positive number, for `Array.prototype.sort`.
 */
export function compareHistory(a: History, b: History): number {
  return a.step - b.step || a.timestamp.getTime() - b.timestamp.getTime();
}
