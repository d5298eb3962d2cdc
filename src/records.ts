/**
 * The shape of each record kind: checked once, on the encoded form, before every write and
 * after every read, so that what is stored is exactly what was checked.
 *
 * @module
 */

import {
  decodeValue,
  encodedNumber,
  encodedTime,
  encodeValue,
  type JsonObject,
  scalarTag,
} from "./codec.ts";
import { ConflictError, CorruptRecordError, ValidationError } from "./errors.ts";
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

/** A record that passed the checks: its encoded form and the fields backends key on. */
export interface CheckedRecords {
  program: { json: JsonObject; id: string };
  execution: { json: JsonObject; id: string; programId: string; state: string };
  history: { json: JsonObject; executionId: string; step: number; time: number };
}

/** Checks one encoded field; returns what is wrong with it, or `undefined`. */
type FieldCheck = (json: unknown) => string | undefined;

const string: FieldCheck = (j) => typeof j === "string" ? undefined : "must be a string";
const date: FieldCheck = (j) => encodedTime(j) !== undefined ? undefined : "must be a valid Date";
const optional = (check: FieldCheck): FieldCheck => (j) => j === undefined ? undefined : check(j);
const nullable = (check: FieldCheck): FieldCheck => (j) => j === null ? undefined : check(j);
const present: FieldCheck = (j) => j === undefined ? "is required" : undefined;
const array: FieldCheck = (j) => Array.isArray(j) ? undefined : "must be an array";
const object: FieldCheck = (j) =>
  j !== null && typeof j === "object" && !Array.isArray(j) && scalarTag(j) === undefined
    ? undefined
    : "must be a plain object";
const number: FieldCheck = (j) => encodedNumber(j) !== undefined ? undefined : "must be a number";
const step: FieldCheck = (j) =>
  typeof j === "number" && Number.isSafeInteger(j) ? undefined : "must be a safe integer";
const state: FieldCheck = (j) => idProblem(j) === undefined ? undefined : `must be ${VALID_ID}`;
const strings: FieldCheck = (j) =>
  Array.isArray(j) && j.every((line) => typeof line === "string")
    ? undefined
    : "must be an array of strings";

const FIELDS: Record<RecordKind, [string, FieldCheck][]> = {
  program: [
    ["name", string],
    ["source", string],
    ["bytecode", present],
    ["created", date],
    ["updated", optional(nullable(date))],
  ],
  execution: [
    ["programId", string],
    ["state", state],
    ["pc", number],
    ["stack", array],
    ["variables", object],
    ["output", optional(strings)],
    ["error", optional(nullable(string))],
    ["created", date],
    ["updated", optional(nullable(date))],
  ],
  history: [
    ["step", step],
    ["pc", number],
    ["instruction", string],
    ["stack", array],
    ["variables", object],
    ["timestamp", date],
  ],
};

/** The field holding the id a record is stored under. */
const KEY_FIELD: Record<RecordKind, "id" | "executionId"> = {
  program: "id",
  execution: "id",
  history: "executionId",
};

/**
 * Checks a record's shape and values and returns its encoded form with the fields backends
 * key on. Each property of the caller's object is read once, so a getter or proxy cannot
 * make what is stored differ from what was checked.
 *
 * @param kind Which kind of record this is.
 * @param record The record passed by the caller.
 * @returns The encoded form, sharing nothing with the caller's object, and its key fields.
 * @throws {ValidationError} For an invalid id, a missing or mistyped field, or a value that
 * cannot round-trip.
 */
export function checkRecord<K extends RecordKind>(kind: K, record: unknown): CheckedRecords[K] {
  if (record === null || typeof record !== "object") {
    throw new ValidationError(
      `Cannot save ${kind}: expected a ${kind} object, got ${describeType(record)}`,
    );
  }
  // Encoded before the array check: Array.isArray throws on a revoked proxy, and the
  // codec turns that into a ValidationError.
  const encoded = encodeValue(record, `Cannot save ${kind}`);
  if (Array.isArray(encoded) || scalarTag(encoded) !== undefined) {
    const got = Array.isArray(encoded)
      ? "an array"
      : scalarTag(encoded) === "$date"
      ? "a Date"
      : "a Uint8Array";
    throw new ValidationError(`Cannot save ${kind}: expected a ${kind} object, got ${got}`);
  }
  const json = encoded as JsonObject;
  const keyField = KEY_FIELD[kind];
  const id = json[keyField];
  assertId(id, `Cannot save ${kind}`, keyField);
  const context = kind === "history"
    ? `Cannot save history of execution "${id}" at step ${describeStep(json.step)}`
    : `Cannot save ${kind} "${id}"`;
  if (kind === "execution") assertId(json.programId, context, "programId");
  const problem = checkFields(kind, json);
  if (problem !== undefined) {
    throw new ValidationError(`${context}: ${problem}; fix the ${kind} and save it again`);
  }
  return keyFields(kind, json) as CheckedRecords[K];
}

function keyFields(kind: RecordKind, json: JsonObject): CheckedRecords[RecordKind] {
  switch (kind) {
    case "program":
      return { json, id: json.id as string };
    case "execution":
      return {
        json,
        id: json.id as string,
        programId: json.programId as string,
        state: json.state as string,
      };
    case "history":
      return {
        json,
        executionId: json.executionId as string,
        step: json.step as number,
        time: encodedTime(json.timestamp) as number,
      };
  }
}

/**
 * Checks a stored record's encoded form and decodes it, in place.
 *
 * @param kind Which kind of record this is.
 * @param json The parsed JSON; it is decoded in place, so pass a tree nothing else holds.
 * @param what Names what was being read, e.g. `program "p1"` or `programs`.
 * @param path The file or document the record came from, for the error.
 * @returns The record.
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
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    problem = `it holds ${describeType(json)}`;
  } else {
    const fields = json as JsonObject;
    const key = KEY_FIELD[kind];
    problem = idProblem(fields[key]) === undefined
      ? (kind === "execution" && idProblem(fields.programId) !== undefined
        ? `field "programId" must be ${VALID_ID}`
        : checkFields(kind, fields))
      : `field "${key}" must be ${VALID_ID}`;
  }
  if (problem === undefined) {
    try {
      record = decodeValue(json);
    } catch (error) {
      problem = (error as Error).message;
    }
  }
  if (problem !== undefined) {
    const source = path === undefined ? "the stored record" : `"${path}"`;
    throw new CorruptRecordError(
      `Cannot read ${what}: ${source} does not hold a valid ${kind} (${problem}); ` +
        "restore it from a backup or delete it",
      { path },
    );
  }
  return record as RecordTypes[K];
}

function checkFields(kind: RecordKind, json: JsonObject): string | undefined {
  for (const [field, check] of FIELDS[kind]) {
    const problem = check(json[field]);
    if (problem !== undefined) return `field "${field}" ${problem}`;
  }
  return undefined;
}

function describeStep(step: unknown): string {
  return typeof step === "number" ? String(step) : "(invalid)";
}

function describeType(value: unknown): string {
  if (value === null) return "null";
  if (typeof value !== "object") return `a ${typeof value}`;
  try {
    return Array.isArray(value) ? "an array" : "an object";
  } catch {
    // A revoked proxy.
    return "an object";
  }
}

/**
 * Checks the lines passed to `appendOutput` and copies them, reading each once.
 *
 * @param lines What the caller passed.
 * @param context Names the call for error messages.
 * @returns A copy of the lines.
 * @throws {ValidationError} When `lines` is not an array of strings.
 */
export function checkOutputLines(lines: unknown, context: string): string[] {
  let copy: string[];
  try {
    // Inside the try: Array.isArray throws on a revoked proxy.
    if (!Array.isArray(lines)) {
      throw new ValidationError(
        `${context}: lines must be an array of strings, not ${describeType(lines)}`,
      );
    }
    copy = Array.from(lines);
  } catch (error) {
    if (error instanceof ValidationError) throw error;
    throw new ValidationError(
      `${context}: lines could not be read (${String(error)}); pass an array of strings`,
    );
  }
  for (let i = 0; i < copy.length; i++) {
    if (typeof copy[i] !== "string") {
      throw new ValidationError(
        `${context}: line ${i} is ${describeType(copy[i])}, not a string; pass an array of ` +
          "strings",
      );
    }
  }
  return copy;
}

/**
 * The error for a history entry whose key holds a different entry.
 *
 * @param executionId The entry's execution.
 * @param step The entry's step.
 * @param time The entry's timestamp, in milliseconds.
 * @param options The underlying error, and whether the call may have stored anything.
 * @returns The error to throw.
 */
export function historyConflict(
  executionId: string,
  step: number,
  time: number,
  options: { cause?: unknown } = {},
): ConflictError {
  return new ConflictError(
    `Cannot save history of execution "${executionId}" at step ${step}: a different entry ` +
      `with timestamp ${new Date(time).toISOString()} is already stored under that key; ` +
      "history is append-only, so the stored entry was kept (read it with getHistory)",
    options,
  );
}
