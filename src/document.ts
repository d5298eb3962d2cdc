/**
 * Records as native MongoDB documents, and back: the shape the MongoDB backend stores and
 * the shape `mongoimport` lines carry.
 *
 * A record becomes one document with the record's own fields: `Date`s are BSON dates,
 * `Uint8Array`s BSON binary (subtype 0), numbers doubles or ints as the driver chooses,
 * strings, booleans, `null`, arrays and objects as themselves. Programs and executions
 * get their `id` as `_id`, history entries `"<executionId>/<step>/<ISO timestamp>"`, so
 * that the hot lookups are `_id` lookups (the one index FerretDB v1 uses).
 *
 * What BSON or the server cannot hold goes into the **tagged form**: an object with the
 * single key {@linkcode TAG} (`"__cvm_ejson"`) whose value is the Extended JSON text of
 * the value, exactly as the file backend writes it (the codec's encoded form). That is:
 *
 * - strings that are not well-formed Unicode (BSON strings are UTF-8);
 * - values nested 100 or more levels deep, counting the document as level 1 (MongoDB
 *   stores at most 100 levels);
 * - on FerretDB, which holds less: `NaN`, `Infinity`, `-Infinity`, `-0`, and arrays
 *   directly inside arrays.
 *
 * An object whose keys BSON or the server cannot hold (a key starting with `$`,
 * containing `.` or NUL, or not well-formed; on FerretDB also a key containing a control
 * character, `"` or `\\`; the key `__cvm_ejson` itself; `_id` at the top level) keeps its other keys as ordinary fields and carries those members in one
 * more field, `__cvm_ejson`, holding the Extended JSON text of an object of them. The
 * two uses agree: an object whose only key is `__cvm_ejson` is the value its text holds.
 *
 * ```js ignore
 * // variables: { x: 1, "a.b": 2, half: "\ud83d", nan: NaN } on FerretDB:
 * { x: 1, half: { __cvm_ejson: '"\\ud83d"' }, nan: { __cvm_ejson: '{"$numberDouble":"NaN"}' },
 *   __cvm_ejson: '{"a.b":2}' }
 * ```
 *
 * Every ordinary field stays an ordinary field, queryable as it is
 * (`db.executions.find({ state: "running" })`).
 *
 * The module imports no driver: binary goes in as `Uint8Array` and comes out of any
 * object whose `_bsontype` is `"Binary"` (the driver's `Binary`).
 *
 * @module
 */

import {
  decodeValue,
  encodedTime,
  encodeValue,
  type JsonObject,
  type JsonValue,
  scalarTag,
  setOwn,
  toBase64,
} from "./codec.ts";
import type { RecordKind } from "./records.ts";

/** The key of the tagged form. */
export const TAG = "__cvm_ejson";

/**
 * The deepest level (the document is level 1) at which a container is stored as a
 * native object or array; deeper ones are tagged.
 */
export const MAX_NATIVE_LEVEL = 99;

/** The server a document is meant for: FerretDB holds less than MongoDB. */
export type DocumentServer = "mongodb" | "ferretdb";

/** Options for {@linkcode toDocument} and {@linkcode toDocumentValue}. */
export interface DocumentOptions {
  /**
   * `"ferretdb"` also tags `NaN`, `±Infinity`, `-0` and arrays directly inside arrays,
   * which FerretDB v1 rejects or changes. Default `"mongodb"`.
   */
  server?: DocumentServer;
}

/** A native document: plain objects, arrays, strings, numbers, booleans, `null`, `Date`s and `Uint8Array`s. */
export type NativeDocument = Record<string, unknown>;

/**
 * Thrown by {@linkcode fromDocument} and {@linkcode fromDocumentValue} for a document this
 * library cannot read; the caller reports it as a corrupt record.
 */
export class DocumentError extends Error {
  /**
   * Creates the error.
   *
   * @param message What is wrong, naming the field.
   */
  constructor(message: string) {
    super(message);
    this.name = "DocumentError";
  }
}

/**
 * The `_id` the MongoDB backend gives a history entry: `"<executionId>/<step>/<ISO
 * timestamp>"`. Unique per key: the step and the timestamp contain no `/`, so the text
 * splits back into its parts from the right.
 *
 * @param executionId The entry's execution.
 * @param step The entry's step.
 * @param time The entry's timestamp, in milliseconds since the epoch.
 * @returns The `_id`.
 */
export function historyDocumentId(executionId: string, step: number, time: number): string {
  return historyIdText(executionId, step, new Date(time).toISOString());
}

/** `historyDocumentId` from the timestamp's ISO text. */
function historyIdText(executionId: string, step: number, iso: string): string {
  return `${executionId}/${step}/${iso}`;
}

/**
 * An upper bound on a native document's size as BSON, cheap enough to spare most writes
 * the driver's exact count: each UTF-16 code unit of a key or string counts as the three
 * bytes it can take in UTF-8, each number as a double.
 *
 * @example
 * ```ts ignore
 * bsonSizeBound({ _id: "e1", pc: 3 }); // 43 (BSON.calculateObjectSize says 25)
 * ```
 *
 * @param document A document made by `toDocument`.
 * @returns At least its BSON size; `Infinity` when it holds a value the mapping never makes.
 */
export function bsonSizeBound(document: Record<string, unknown>): number {
  let bytes = 5;
  for (const key of Object.keys(document)) bytes += 2 + 3 * key.length + valueBound(document[key]);
  return bytes;
}

/** `bsonSizeBound` of one value, without its type byte and key. */
function valueBound(value: unknown): number {
  switch (typeof value) {
    case "string":
      return 5 + 3 * value.length;
    case "number":
      return 8;
    case "boolean":
      return 1;
    case "object":
      break;
    default:
      return Infinity;
  }
  if (value === null) return 0;
  if (Array.isArray(value)) {
    // Each item's key is its index as text: at most as many digits as the length has.
    const key = 2 + String(value.length).length;
    let bytes = 5;
    for (let i = 0; i < value.length; i++) bytes += key + valueBound(value[i]);
    return bytes;
  }
  const prototype = Object.getPrototypeOf(value);
  if (prototype === Object.prototype) return bsonSizeBound(value as Record<string, unknown>);
  if (prototype === Date.prototype) return 8;
  if (prototype === Uint8Array.prototype) return 5 + (value as Uint8Array).length;
  return Infinity;
}

/**
 * Turns a checked record's encoded form (`checkRecord(kind, record).json`) into the
 * document the MongoDB backend stores, `_id` first.
 *
 * @example
 * ```ts ignore
 * // checkRecord comes from src/records.ts.
 * const { json } = checkRecord("execution", {
 *   id: "e1", programId: "p1", state: "running", pc: NaN, stack: [[1, 2]],
 *   variables: { "$x": 1 }, created: new Date(0),
 * });
 * const document = toDocument("execution", json, { server: "ferretdb" });
 * // { _id: "e1", id: "e1", programId: "p1", state: "running",
 * //   pc: { __cvm_ejson: '{"$numberDouble":"NaN"}' }, stack: [{ __cvm_ejson: "[1,2]" }],
 * //   variables: { __cvm_ejson: '{"$$x":1}' }, created: new Date(0) }
 * ```
 *
 * @param kind The record kind.
 * @param json The record's encoded form; it is not changed.
 * @param options The server the document is meant for.
 * @returns A new document.
 */
export function toDocument(
  kind: RecordKind,
  json: JsonObject,
  options: DocumentOptions = {},
): NativeDocument {
  const ferret = options.server === "ferretdb";
  return convertObject(json, 1, ferret, documentId(kind, json)) as NativeDocument;
}

function documentId(kind: RecordKind, json: JsonObject): string {
  if (kind !== "history") return json.id as string;
  const executionId = json.executionId as string;
  const step = json.step as number;
  // The codec writes times in years 0-9999 as `toISOString()` does: the id's own text.
  const stamp = (json.timestamp as JsonObject).$date;
  return typeof stamp === "string"
    ? historyIdText(executionId, step, stamp)
    : historyDocumentId(executionId, step, encodedTime(json.timestamp) as number);
}

/**
 * Turns one encoded value into its native form, tagging what the server cannot hold.
 *
 * @example
 * ```ts ignore
 * toDocumentValue("\ud83d"); // { __cvm_ejson: '"\\ud83d"' }
 * toDocumentValue({ $date: "1970-01-01T00:00:00.000Z" }); // new Date(0)
 * ```
 *
 * @param json An encoded value (from the codec); it is not changed.
 * @param options The server the value is meant for.
 * @param level The level of the container holding the value (the document is 1).
 * @returns The native value.
 */
export function toDocumentValue(
  json: JsonValue,
  options: DocumentOptions = {},
  level = 1,
): unknown {
  return convert(json, level + 1, options.server === "ferretdb", false);
}

/** `level` is the level `json` itself would occupy if it is a container. */
function convert(json: JsonValue, level: number, ferret: boolean, inArray: boolean): unknown {
  if (typeof json === "string") return json.isWellFormed() ? json : tag(json);
  if (json === null || typeof json !== "object") return json;
  if (level > MAX_NATIVE_LEVEL) return tag(json);
  if (Array.isArray(json)) {
    if (ferret && inArray) return tag(json);
    const out = new Array(json.length);
    for (let i = 0; i < json.length; i++) out[i] = convert(json[i], level + 1, ferret, true);
    return out;
  }
  const scalar = scalarTag(json);
  if (scalar !== undefined) {
    if (ferret && scalar !== "$date" && scalar !== "$binary") return tag(json);
    // Decoding a scalar's encoded form reads it without changing it.
    return decodeValue(json);
  }
  return convertObject(json, level, ferret, undefined);
}

/** A user object (keys escaped as the codec escapes them); `_id` is set for documents. */
function convertObject(
  json: JsonObject,
  level: number,
  ferret: boolean,
  id: string | undefined,
): Record<string, unknown> {
  const out: Record<string, unknown> = id === undefined ? {} : { _id: id };
  let extra: JsonObject | undefined;
  for (const key of Object.keys(json)) {
    const value = json[key];
    // The codec writes a user key `$x` as `$$x`; every such key needs the tagged form.
    if (
      key.charCodeAt(0) === 36 || !isPlainKey(key, ferret) || (id !== undefined && key === "_id")
    ) {
      extra ??= {};
      setOwn(extra, key, value);
    } else {
      setOwn(out, key, convert(value, level + 1, ferret, false));
    }
  }
  if (extra !== undefined) out[TAG] = JSON.stringify(extra);
  return out;
}

function isPlainKey(key: string, ferret: boolean): boolean {
  return key !== TAG && !key.includes(".") && !key.includes("\0") && key.isWellFormed() &&
    !(ferret && hasFerretProblem(key));
}

/** Whether FerretDB v1 would store the key but fail to read it back. */
function hasFerretProblem(key: string): boolean {
  for (let i = 0; i < key.length; i++) {
    const unit = key.charCodeAt(i);
    // Control characters, `"` and `\`.
    if (unit < 0x20 || unit === 0x22 || unit === 0x5c) return true;
  }
  return false;
}

function tag(json: JsonValue): { [TAG]: string } {
  return { [TAG]: JSON.stringify(json) };
}

/**
 * Turns a stored document into the record's encoded form, for `decodeRecord(kind, json,
 * …)`: it reads the tagged form, drops `_id`, and reads what version 0.1 of this library
 * wrote (`{ id, doc: "<JSON text>" }`, history `{ executionId, step, timestamp, doc }`).
 *
 * @example
 * ```ts ignore
 * // decodeRecord comes from src/records.ts.
 * const json = fromDocument("program", {
 *   _id: "p1", id: "p1", name: "P", source: "", bytecode: [], created: new Date(0),
 * });
 * const program = decodeRecord("program", json, 'program "p1"');
 * ```
 *
 * @param kind The record kind.
 * @param document A document as the driver returned it; it is not changed.
 * @returns A fresh encoded form.
 * @throws {DocumentError} For a value this library does not store (an `ObjectId`, a
 * `Decimal128`…) or a tagged form that does not parse, naming the field.
 */
export function fromDocument(kind: RecordKind, document: NativeDocument): JsonObject {
  const legacy = legacyText(kind, document);
  if (legacy !== undefined) {
    try {
      return JSON.parse(legacy);
    } catch (error) {
      throw new DocumentError(`its "doc" field is not valid JSON (${(error as Error).message})`);
    }
  }
  const out = read(document, [], true);
  if (out === null || typeof out !== "object" || Array.isArray(out)) {
    throw new DocumentError("its tagged form does not hold an object");
  }
  return out as JsonObject;
}

/**
 * Turns one stored value into its encoded form: the inverse of
 * {@linkcode toDocumentValue}.
 *
 * @example
 * ```ts ignore
 * fromDocumentValue({ __cvm_ejson: '"\\ud83d"' }); // "\ud83d"
 * fromDocumentValue(new Date(0)); // { $date: "1970-01-01T00:00:00.000Z" }
 * ```
 *
 * @param value A value as the driver returned it; it is not changed.
 * @returns A fresh encoded value.
 * @throws {DocumentError} For a value this library does not store.
 */
export function fromDocumentValue(value: unknown): JsonValue {
  return read(value, [], false);
}

/** The keys each kind's documents had in version 0.1, which stored the record as text. */
const LEGACY_KEYS: Record<RecordKind, readonly string[]> = {
  program: ["_id", "id", "doc"],
  execution: ["_id", "id", "programId", "doc"],
  history: ["_id", "executionId", "step", "timestamp", "doc"],
};

/** The JSON text of a version 0.1 document, or `undefined` for a native one. */
function legacyText(kind: RecordKind, document: NativeDocument): string | undefined {
  if (typeof document.doc !== "string") return undefined;
  const allowed = LEGACY_KEYS[kind];
  for (const key in document) if (!allowed.includes(key)) return undefined;
  return document.doc;
}

function read(value: unknown, path: (string | number)[], top: boolean): JsonValue {
  switch (typeof value) {
    case "string":
    case "boolean":
      return value;
    case "number":
      return Number.isFinite(value) && !Object.is(value, -0)
        ? value
        : encodeValue(value, "") as JsonValue;
  }
  if (value === null) return null;
  if (typeof value !== "object") unreadable(path, `a ${typeof value}`);
  const object = value as Record<string, unknown>;
  if (Array.isArray(object)) {
    const out: JsonValue[] = new Array(object.length);
    for (let i = 0; i < object.length; i++) {
      path.push(i);
      out[i] = read(object[i], path, false);
      path.pop();
    }
    return out;
  }
  if (object instanceof Date) {
    if (Number.isNaN(object.getTime())) unreadable(path, "a date out of range");
    return encodeValue(object, "") as JsonValue;
  }
  const bsonType = (object as { _bsontype?: unknown })._bsontype;
  if (bsonType !== undefined) return readBson(object, bsonType, path);
  if (object instanceof Uint8Array) {
    return { $binary: { base64: toBase64(object), subType: "00" } };
  }
  const prototype = Object.getPrototypeOf(object);
  if (prototype !== Object.prototype && prototype !== null) {
    unreadable(path, `an instance of ${String(object.constructor?.name ?? "a class")}`);
  }
  return readObject(object, path, top);
}

function readObject(
  object: Record<string, unknown>,
  path: (string | number)[],
  top: boolean,
): JsonValue {
  const out: JsonObject = {};
  let tagged: JsonValue | undefined;
  let count = 0;
  for (const key of Object.keys(object)) {
    if (top && key === "_id") continue;
    count++;
    const item = object[key];
    if (key === TAG) {
      tagged = parseTag(item, path);
      continue;
    }
    path.push(key);
    setOwn(out, key.charCodeAt(0) === 36 ? `$${key}` : key, read(item, path, false));
    path.pop();
  }
  if (tagged === undefined) return out;
  if (count === 1) return tagged;
  if (tagged === null || typeof tagged !== "object" || Array.isArray(tagged)) {
    unreadable([...path, TAG], "a tagged value beside other fields");
  }
  for (const key of Object.keys(tagged)) {
    if (Object.hasOwn(out, key)) unreadable([...path, TAG], `a second "${key}"`);
    setOwn(out, key, (tagged as JsonObject)[key]);
  }
  return out;
}

function parseTag(text: unknown, path: (string | number)[]): JsonValue {
  if (typeof text !== "string") unreadable([...path, TAG], "a value that is not a string");
  try {
    return JSON.parse(text);
  } catch {
    return unreadable([...path, TAG], "text that is not valid JSON");
  }
}

function readBson(object: object, bsonType: unknown, path: (string | number)[]): JsonValue {
  if (bsonType === "Binary") {
    const binary = object as { sub_type?: unknown; buffer?: Uint8Array; position?: number };
    // Subtype 2 is the old form of generic binary.
    if ((binary.sub_type === 0 || binary.sub_type === 2) && binary.buffer instanceof Uint8Array) {
      const bytes = binary.buffer.subarray(0, binary.position ?? binary.buffer.length);
      return { $binary: { base64: toBase64(bytes), subType: "00" } };
    }
    return unreadable(path, `BSON binary of subtype ${String(binary.sub_type)}`);
  }
  if (bsonType === "Int32" || bsonType === "Double") {
    return read(Number((object as { value?: unknown }).value), path, false);
  }
  return unreadable(path, `a BSON ${String(bsonType)}`);
}

function unreadable(path: readonly (string | number)[], what: string): never {
  const field = path.length === 0
    ? "the document"
    : `field "${path.map((p) => typeof p === "number" ? `[${p}]` : p).join(".")}"`;
  throw new DocumentError(`${field} holds ${what}, which this library does not store`);
}
