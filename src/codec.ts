/**
 * Converts record values to and from the JSON form every backend stores.
 *
 * `Date`s become `{ "$date": "<ISO 8601>" }` (MongoDB Extended JSON). A user object with
 * a single `$`-prefixed key, which could be mistaken for such a wrapper, is stored as
 * `{ "$escape": <object> }` so it comes back exactly as it was saved.
 *
 * @module
 */

import { ValidationError } from "./errors.ts";

/** A value JSON can represent. */
export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;
/** A JSON object. */
export interface JsonObject {
  [key: string]: JsonValue;
}

const DATE = "$date";
const ESCAPE = "$escape";

/**
 * Checks that `value` can round-trip and returns its JSON form.
 *
 * @param value Plain data: objects, arrays, strings, finite numbers, booleans, null, Dates.
 * @param context Names the operation for error messages, e.g. `Cannot save program "p1"`.
 * @param path Where `value` sits in the record, e.g. `bytecode`; `""` for the record itself.
 * @throws {ValidationError} Naming the first value that cannot be stored and its path.
 */
export function encodeValue(value: unknown, context: string, path: string): JsonValue {
  const fail = (where: string, what: string): never => {
    throw new ValidationError(
      `${context}: ${where} ${what}, which cannot be stored; use plain objects, arrays, ` +
        `strings, finite numbers, booleans, null and valid Dates`,
    );
  };
  const ancestors = new Set<object>();

  const encode = (value: unknown, path: string): JsonValue => {
    switch (typeof value) {
      case "string":
        if (!value.isWellFormed()) fail(describe(path), "is a string with a lone surrogate");
        return value;
      case "number":
        if (!Number.isFinite(value)) fail(describe(path), `is ${value}`);
        // JSON has no -0: store 0, so that every backend returns the same number.
        return value === 0 ? 0 : value;
      case "boolean":
        return value;
      case "undefined":
        return fail(describe(path), "is undefined");
      case "bigint":
        return fail(describe(path), "is a BigInt");
      case "symbol":
        return fail(describe(path), "is a symbol");
      case "function":
        return fail(describe(path), "is a function");
    }
    if (value === null) return null;
    const object = value as object;
    if (object instanceof Date) {
      const time = object.getTime();
      if (Number.isNaN(time)) fail(describe(path), "is an invalid Date");
      return { [DATE]: object.toISOString() };
    }
    if (ancestors.has(object)) fail(describe(path), "refers back to itself (a circular reference)");
    ancestors.add(object);
    try {
      if (Array.isArray(object)) return encodeArray(object, path);
      const prototype = Object.getPrototypeOf(object);
      if (prototype !== Object.prototype && prototype !== null) {
        const name = object.constructor?.name ?? "an object with a custom prototype";
        fail(describe(path), `is an instance of ${name}`);
      }
      return encodeObject(object as Record<string, unknown>, path);
    } finally {
      ancestors.delete(object);
    }
  };

  const encodeArray = (array: unknown[], path: string): JsonValue[] => {
    const out: JsonValue[] = [];
    for (let i = 0; i < array.length; i++) {
      const itemPath = `${path}[${i}]`;
      if (!(i in array)) fail(describe(itemPath), "is a hole in a sparse array");
      out.push(encode(array[i], itemPath));
    }
    return out;
  };

  const encodeObject = (object: Record<string, unknown>, path: string): JsonObject => {
    if (Object.getOwnPropertySymbols(object).length > 0) fail(describe(path), "has a symbol key");
    const out: JsonObject = {};
    const keys = Object.keys(object);
    for (const key of keys) {
      const keyPath = joinPath(path, key);
      if (!key.isWellFormed()) fail(describe(keyPath), "is a key with a lone surrogate");
      const item = object[key];
      // Dropped, as JSON.stringify drops them.
      if (item === undefined) continue;
      setOwn(out, key, encode(item, keyPath));
    }
    const kept = Object.keys(out);
    return kept.length === 1 && kept[0].startsWith("$") ? { [ESCAPE]: out } : out;
  };

  try {
    return encode(value, path);
  } catch (error) {
    if (error instanceof RangeError) {
      throw new ValidationError(
        `${context}: ${describe(path)} is nested too deeply to store; flatten it`,
      );
    }
    throw error;
  }
}

/**
 * Turns a JSON form made by {@linkcode encodeValue} back into the value.
 *
 * @param json Parsed JSON.
 * @returns A fresh value, sharing nothing with `json`.
 * @throws {TypeError} When a `$date` wrapper does not hold a valid date string; callers
 * report it as a corrupt record.
 */
export function decodeValue(json: unknown): unknown {
  if (json === null || typeof json !== "object") return json;
  if (Array.isArray(json)) return json.map(decodeValue);
  const object = json as Record<string, unknown>;
  const keys = Object.keys(object);
  if (keys.length === 1 && keys[0] === DATE) return decodeDate(object[DATE]);
  if (keys.length === 1 && keys[0] === ESCAPE) {
    const inner = object[ESCAPE];
    if (inner === null || typeof inner !== "object" || Array.isArray(inner)) {
      throw new TypeError(`"${ESCAPE}" must hold an object`);
    }
    return decodeObject(inner as Record<string, unknown>);
  }
  return decodeObject(object);
}

function decodeObject(object: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(object)) setOwn(out, key, decodeValue(object[key]));
  return out;
}

function decodeDate(iso: unknown): Date {
  const date = typeof iso === "string" ? new Date(iso) : new Date(Number.NaN);
  if (Number.isNaN(date.getTime())) {
    throw new TypeError(`"${DATE}" must hold an ISO 8601 date string, not ${JSON.stringify(iso)}`);
  }
  return date;
}

/** Sets an own property, even one named `__proto__`. */
function setOwn<T>(object: Record<string, T>, key: string, value: T): void {
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

function joinPath(path: string, key: string): string {
  if (!/^[A-Za-z_$][\w$]*$/.test(key)) return `${path}[${JSON.stringify(key)}]`;
  return path === "" ? key : `${path}.${key}`;
}

function describe(path: string): string {
  return path === "" ? "the value" : `field "${path}"`;
}

/**
 * Formats a JSON form for people: two-space indents, and each `{ "$date": ... }` on one
 * line, as it reads best. Parsing the text gives `json` back.
 *
 * @param json A JSON form made by {@linkcode encodeValue}.
 * @returns The text, ending in a newline.
 */
export function formatJson(json: JsonValue): string {
  // A newline in the output is always formatting (newlines in strings are escaped), so
  // this only ever joins the lines of a real `$date` wrapper.
  return `${JSON.stringify(json, null, 2)}\n`.replace(
    /\{\n\s*("\$date": "[^"\\]*")\n\s*\}/g,
    "{ $1 }",
  );
}
