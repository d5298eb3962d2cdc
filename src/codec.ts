/**
 * The one codec every backend shares: it checks that a value can round-trip and turns it
 * into MongoDB Extended JSON v2 in its relaxed form, the JSON the file backend writes, and
 * back.
 *
 * - `Date` → `{"$date": "<ISO 8601>"}` (`{"$date": {"$numberLong": "<ms>"}}` outside the
 *   years 0–9999, which ISO 8601 cannot write in four digits);
 * - `NaN`, `Infinity`, `-Infinity`, `-0` → `{"$numberDouble": "NaN"}` (`"Infinity"`,
 *   `"-Infinity"`, `"-0.0"`); every other number is a plain JSON number;
 * - `Uint8Array` → `{"$binary": {"base64": "…", "subType": "00"}}`;
 * - strings stay strings, lone surrogates included (`JSON.stringify` escapes them);
 * - an object key that starts with `$` gets one more `$` (`"$x"` → `"$$x"`), so no user
 *   object is ever read as an encoded value, by this codec or by the `bson` package.
 *
 * Decoding also reads what version 0.1 wrote: `{"$escape": <object>}` wrapped a user
 * object whose only key started with `$`, and other keys were written as they were.
 *
 * @module
 */

import { ValidationError } from "./errors.ts";
import { isoText, parseIsoTime } from "./_iso_time.ts";

/** A value JSON can represent. */
export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;
/** A JSON object. */
export interface JsonObject {
  [key: string]: JsonValue;
}

/**
 * How deeply values may nest (a record is depth 1). Deeper values, and circular ones, are
 * a `ValidationError`, so that every backend and runtime can read back what it stored.
 */
export const MAX_DEPTH = 512;

const DATE = "$date";
const DOUBLE = "$numberDouble";
const BINARY = "$binary";
const LONG = "$numberLong";
const INT = "$numberInt";
/** Version 0.1's escape for a user object whose only key started with `$`. */
const LEGACY_ESCAPE = "$escape";
/** Dates from 0000-01-01 to 9999-12-31 are written as ISO 8601 strings. */
const MIN_ISO_TIME = -62167219200000;
const MAX_ISO_TIME = 253402300799999;

/** Why a value cannot be stored, and where; turned into a message by the caller. */
class Unstorable {
  constructor(readonly path: readonly (string | number)[], readonly what: string) {}
}

/**
 * Checks that `value` can round-trip and returns its Extended JSON form, sharing nothing
 * with `value`. Each property is read exactly once.
 *
 * @param value Plain data: objects, arrays, strings, numbers, booleans, `null`, `Date`s
 * and `Uint8Array`s.
 * @param context Names the operation for error messages, e.g. `Cannot save program "p1"`.
 * @returns The encoded form.
 * @throws {ValidationError} Naming the first value that cannot be stored and its path.
 */
export function encodeValue(value: unknown, context: string): JsonValue {
  const path: (string | number)[] = [];
  const stack: object[] = [];

  const fail = (what: string): never => {
    throw new Unstorable(path.slice(), what);
  };

  const encode = (value: unknown): JsonValue => {
    switch (typeof value) {
      case "string":
      case "boolean":
        return value;
      case "number":
        return Number.isFinite(value) && !Object.is(value, -0) ? value : encodeDouble(value);
      case "undefined":
        return fail("is undefined");
      case "bigint":
        return fail("is a BigInt");
      case "symbol":
        return fail("is a symbol");
      case "function":
        return fail("is a function");
    }
    if (value === null) return null;
    const object = value as object;
    if (stack.length >= MAX_DEPTH) {
      return fail(
        stack.includes(object)
          ? "refers back to itself (a circular reference)"
          : `is nested more than ${MAX_DEPTH} levels deep`,
      );
    }
    stack.push(object);
    try {
      if (Array.isArray(object)) return encodeArray(object);
      const prototype = Object.getPrototypeOf(object);
      if (prototype === Object.prototype || prototype === null) {
        return encodeObject(object as Record<string, unknown>);
      }
      if (object instanceof Date) return encodeDate(object, prototype);
      if (object instanceof Uint8Array && prototype === Uint8Array.prototype) {
        return encodeBytes(object);
      }
      return fail(`is an instance of ${describeClass(object)}`);
    } finally {
      stack.pop();
    }
  };

  const encodeArray = (array: unknown[]): JsonValue[] => {
    if (Object.getPrototypeOf(array) !== Array.prototype) {
      fail(`is an instance of ${describeClass(array)}`);
    }
    const length = array.length;
    const out: JsonValue[] = new Array(length);
    for (let i = 0; i < length; i++) {
      path.push(i);
      const item = array[i];
      if (item === undefined) fail(i in array ? "is undefined" : "is a hole in a sparse array");
      out[i] = encode(item);
      path.pop();
    }
    // Own properties beyond the indices and `length` would be lost.
    if (Reflect.ownKeys(array).length !== length + 1) {
      fail("is an array with properties besides its items");
    }
    return out;
  };

  const encodeObject = (object: Record<string, unknown>): JsonObject => {
    if (Object.getOwnPropertySymbols(object).length > 0) fail("has a symbol key");
    const out: JsonObject = {};
    for (const key of Object.keys(object)) {
      path.push(key);
      const item = object[key];
      // Dropped, as JSON.stringify drops them.
      if (item !== undefined) setOwn(out, key.charCodeAt(0) === 36 ? `$${key}` : key, encode(item));
      path.pop();
    }
    return out;
  };

  const encodeDate = (date: Date, prototype: unknown): JsonValue => {
    if (prototype !== Date.prototype) fail(`is an instance of ${describeClass(date)}`);
    if (Reflect.ownKeys(date).length !== 0) fail("is a Date with properties of its own");
    const time = Date.prototype.getTime.call(date);
    if (Number.isNaN(time)) fail("is an invalid Date");
    return { [DATE]: dateText(time) };
  };

  try {
    return encode(value);
  } catch (error) {
    if (error instanceof Unstorable) {
      throw new ValidationError(
        `${context}: ${describePath(error.path)} ${error.what}, which cannot be stored; use ` +
          "plain objects, arrays, strings, numbers, booleans, null, valid Dates and Uint8Arrays",
      );
    }
    if (error instanceof ValidationError) throw error;
    if (error instanceof RangeError) {
      throw new ValidationError(
        `${context}: ${describePath(path)} is nested too deeply to store; flatten it`,
      );
    }
    // A getter or a proxy trap threw while the value was read.
    throw new ValidationError(
      `${context}: reading ${describePath(path)} threw (${describeError(error)}); pass plain ` +
        "data whose properties can be read",
    );
  }
}

/** The `$date` payload for a time in milliseconds since the epoch. */
function dateText(time: number): string | JsonObject {
  return time >= MIN_ISO_TIME && time <= MAX_ISO_TIME ? isoText(time) : { [LONG]: String(time) };
}

function encodeDouble(value: number): JsonObject {
  const text = Number.isNaN(value)
    ? "NaN"
    : value === Infinity
    ? "Infinity"
    : value === -Infinity
    ? "-Infinity"
    : "-0.0";
  return { [DOUBLE]: text };
}

function encodeBytes(bytes: Uint8Array): JsonObject {
  return { [BINARY]: { base64: toBase64(bytes), subType: "00" } };
}

/**
 * Turns an Extended JSON form back into the value it encodes, in place: `json` must be a
 * fresh tree (from `JSON.parse` or `structuredClone`) that nothing else holds.
 *
 * @param json An encoded value.
 * @returns The value; containers of `json` are reused.
 * @throws {TypeError} When an encoded value is malformed (a `$date` that is not a date);
 * callers report it as a corrupt record.
 */
export function decodeValue(json: unknown): unknown {
  if (json === null || typeof json !== "object") return json;
  if (Array.isArray(json)) {
    for (let i = 0; i < json.length; i++) {
      const item = json[i];
      if (item !== null && typeof item === "object") json[i] = decodeValue(item);
    }
    return json;
  }
  const object = json as Record<string, unknown>;
  let count = 0;
  let first = "";
  let escaped = false;
  for (const key in object) {
    if (count++ === 0) first = key;
    if (key.charCodeAt(0) === 36) escaped = true;
  }
  if (escaped && count === 1) {
    const tagged = decodeTag(first, object[first]);
    if (tagged !== NOT_A_TAG) return tagged;
  }
  decodeProperties(object);
  return escaped ? unescapeKeys(object) : object;
}

function decodeProperties(object: Record<string, unknown>): void {
  for (const key in object) {
    const item = object[key];
    if (item === null || typeof item !== "object") continue;
    const decoded = decodeValue(item);
    if (decoded !== item) setOwn(object, key, decoded);
  }
}

const NOT_A_TAG = Symbol("not a tag");

/** The value a single-key object `{ [key]: value }` encodes, or `NOT_A_TAG`. */
function decodeTag(key: string, value: unknown): unknown {
  switch (key) {
    case DATE:
      return decodeDate(value);
    case DOUBLE:
      return decodeDouble(value);
    case BINARY:
      return decodeBinary(value);
    case LONG:
    case INT: {
      const number = typeof value === "string" && /^-?\d+$/.test(value) ? Number(value) : NaN;
      if (Number.isNaN(number)) throw new TypeError(`"${key}" must hold an integer string`);
      return number;
    }
    case LEGACY_ESCAPE:
      if (value === null || typeof value !== "object" || Array.isArray(value)) {
        throw new TypeError(`"${LEGACY_ESCAPE}" must hold an object`);
      }
      // Version 0.1 wrote the keys of an escaped object as they were.
      decodeProperties(value as Record<string, unknown>);
      return value;
  }
  return NOT_A_TAG;
}

function decodeDate(value: unknown): Date {
  const time = typeof value === "string"
    ? parseIsoTime(value)
    : scalarTag(value) === LONG
    ? Number(decodeTag(LONG, (value as JsonObject)[LONG]))
    : NaN;
  const date = new Date(time);
  if (Number.isNaN(date.getTime())) {
    throw new TypeError(`"${DATE}" must hold an ISO 8601 date string or {"${LONG}": "<ms>"}`);
  }
  return date;
}

function decodeDouble(value: unknown): number {
  switch (value) {
    case "NaN":
      return NaN;
    case "Infinity":
      return Infinity;
    case "-Infinity":
      return -Infinity;
    case "-0.0":
    case "-0":
      return -0;
  }
  const number = typeof value === "string" && value.trim() !== "" ? Number(value) : NaN;
  if (Number.isNaN(number)) throw new TypeError(`"${DOUBLE}" must hold a number string`);
  return number;
}

function decodeBinary(value: unknown): Uint8Array {
  const binary = value as { base64?: unknown; subType?: unknown } | null;
  if (
    binary === null || typeof binary !== "object" || typeof binary.base64 !== "string" ||
    (binary.subType !== "00" && binary.subType !== "0")
  ) {
    throw new TypeError(`"${BINARY}" must hold {"base64": "…", "subType": "00"}`);
  }
  return fromBase64(binary.base64);
}

/** Removes the `$` the encoder added to keys starting with `$`. */
function unescapeKeys(object: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(object)) {
    // `$$x` is the escaped `$x`; a lone `$x` was written as it was by version 0.1.
    setOwn(out, key.startsWith("$$") ? key.slice(1) : key, object[key]);
  }
  return out;
}

/** Sets an own property, even one named `__proto__`. */
export function setOwn<T>(object: Record<string, T>, key: string, value: T): void {
  if (key === "__proto__") {
    Object.defineProperty(object, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else {
    object[key] = value;
  }
}

/**
 * Whether an encoded value is an object that encodes a scalar (`$date`, `$numberDouble`,
 * `$binary`, `$numberLong`, `$numberInt`), as opposed to a user object or array.
 *
 * @param json An encoded value.
 * @returns The tag, such as `"$date"`, or `undefined`.
 */
export function scalarTag(json: unknown): string | undefined {
  if (json === null || typeof json !== "object" || Array.isArray(json)) return undefined;
  let tag: string | undefined;
  for (const key in json) {
    if (tag !== undefined) return undefined;
    tag = key;
  }
  return tag === DATE || tag === DOUBLE || tag === BINARY || tag === LONG || tag === INT
    ? tag
    : undefined;
}

/**
 * The time an encoded `$date` holds, in milliseconds since the epoch.
 *
 * @param json An encoded value.
 * @returns The time, or `undefined` when `json` is not a valid encoded date.
 */
export function encodedTime(json: unknown): number | undefined {
  if (scalarTag(json) !== DATE) return undefined;
  try {
    return decodeDate((json as JsonObject)[DATE]).getTime();
  } catch {
    return undefined;
  }
}

/**
 * The number an encoded number holds: a plain JSON number or a `$numberDouble`.
 *
 * @param json An encoded value.
 * @returns The number, or `undefined` when `json` does not encode one.
 */
export function encodedNumber(json: unknown): number | undefined {
  if (typeof json === "number") return json;
  const tag = scalarTag(json);
  if (tag !== DOUBLE && tag !== INT && tag !== LONG) return undefined;
  try {
    return decodeTag(tag, (json as JsonObject)[tag]) as number;
  } catch {
    return undefined;
  }
}

/**
 * Formats an encoded value for people: two-space indents, and each `$date`,
 * `$numberDouble` and `$binary` on one line. Parsing the text gives `json` back.
 *
 * @param json An encoded value.
 * @returns The text, ending in a newline.
 * @throws {RangeError} When the text would be longer than the runtime's longest string.
 */
export function formatJson(json: JsonValue): string {
  const text = `${JSON.stringify(json, null, 2)}\n`;
  // A newline in the text is always formatting (newlines in strings are escaped), and user
  // keys never start with a single `$`, so only real encoded values are joined. Each `"$`
  // is a candidate: the pattern is tried, anchored, at the `{` that opens its object.
  let out = "";
  let from = 0;
  for (let at = text.indexOf('"$'); at >= 0; at = text.indexOf('"$', at)) {
    let open = at - 1;
    while (text.charCodeAt(open) === 32) open--;
    at += 2;
    if (text.charCodeAt(open) !== 10 || text.charCodeAt(open - 1) !== 123) continue;
    ONE_LINE.lastIndex = open - 1;
    const match = ONE_LINE.exec(text);
    if (match === null) continue;
    const [, tag, value, long, base64, subType] = match;
    out += text.slice(from, open - 1);
    out += tag !== undefined
      ? `{ "$${tag}": ${value} }`
      : long !== undefined
      ? `{ "$date": { "$numberLong": ${long} } }`
      : `{ "$binary": { "base64": ${base64}, "subType": ${subType} } }`;
    from = at = ONE_LINE.lastIndex;
  }
  return from === 0 ? text : out + text.slice(from);
}

/** An encoded scalar as `JSON.stringify` indents it, to be written on one line. */
const ONE_LINE = new RegExp(
  String.raw`\{\n *"\$(?:(date|numberDouble)": ("[^"\\]*")` +
    String.raw`|date": \{\n *"\$numberLong": ("[^"\\]*")\n *\}` +
    String.raw`|binary": \{\n *"base64": ("[^"\\]*"),\n *"subType": ("[^"\\]*")\n *\})\n *\}`,
  "y",
);

function describePath(path: readonly (string | number)[]): string {
  if (path.length === 0) return "the value";
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(key)) out += out === "" ? key : `.${key}`;
    else out += `[${JSON.stringify(key)}]`;
  }
  return `field "${out}"`;
}

function describeClass(object: object): string {
  try {
    const name = (object as { constructor?: { name?: unknown } }).constructor?.name;
    return typeof name === "string" && name !== "" ? name : "a class";
  } catch {
    return "a class";
  }
}

function describeError(error: unknown): string {
  try {
    return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  } catch {
    return "an unprintable value";
  }
}

const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** Standard base64 with padding. */
export function toBase64(bytes: Uint8Array): string {
  let out = "";
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out += BASE64[n >> 18] + BASE64[(n >> 12) & 63] + BASE64[(n >> 6) & 63] + BASE64[n & 63];
  }
  if (i < bytes.length) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8);
    out += BASE64[n >> 18] + BASE64[(n >> 12) & 63];
    out += i + 1 < bytes.length ? `${BASE64[(n >> 6) & 63]}=` : "==";
  }
  return out;
}

const BASE64_VALUES = new Int16Array(128).fill(-1);
for (let i = 0; i < BASE64.length; i++) BASE64_VALUES[BASE64.charCodeAt(i)] = i;

/** Decodes standard base64 (padding optional); throws `TypeError` on anything else. */
export function fromBase64(text: string): Uint8Array {
  const body = text.endsWith("==")
    ? text.slice(0, -2)
    : text.endsWith("=")
    ? text.slice(0, -1)
    : text;
  if (body.length % 4 === 1) throw new TypeError('"$binary" holds invalid base64');
  const out = new Uint8Array(Math.floor((body.length * 3) / 4));
  let bits = 0;
  let buffer = 0;
  let j = 0;
  for (let i = 0; i < body.length; i++) {
    const code = body.charCodeAt(i);
    const value = code < 128 ? BASE64_VALUES[code] : -1;
    if (value < 0) throw new TypeError('"$binary" holds invalid base64');
    buffer = (buffer << 6) | value;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[j++] = (buffer >> bits) & 0xff;
    }
  }
  return out;
}
