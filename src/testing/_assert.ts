/**
 * The compliance suite's own assertions. They depend on nothing but the language, so the
 * suite runs under any test runner, and they report where two values differ rather than
 * only that they do.
 *
 * @module
 */

/** Thrown when a compliance check fails. */
export class AssertionError extends Error {
  /**
   * Creates the error.
   *
   * @param message What was expected and what happened.
   */
  constructor(message: string) {
    super(message);
    this.name = "AssertionError";
  }
}

/** How many differences one failed comparison lists before it stops looking. */
const MAX_DIFFERENCES = 12;
/** How long a rendered value may grow before it is cut short. */
const MAX_RENDERED = 1_500;

/** Throws an {@linkcode AssertionError}. */
export function fail(message: string): never {
  throw new AssertionError(message);
}

/** Throws an {@linkcode AssertionError} unless `condition` is truthy. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) fail(message);
}

/** `Object.hasOwn`, without relying on ES2022 typings. */
export function hasOwn(object: object, key: PropertyKey): boolean {
  return Object.prototype.hasOwnProperty.call(object, key);
}

/**
 * Fails unless `actual` deep-equals `expected`.
 *
 * Equality is structural and strict: primitives by `Object.is` (so `NaN` equals `NaN` and
 * `-0` differs from `0`), `Date`s by time value (and only to other `Date`s), `Uint8Array`s
 * by bytes (and only to other plain `Uint8Array`s), arrays by length, holes and items, and
 * plain objects
 * (prototype `Object.prototype` or `null`, which count as the same) by their own
 * enumerable string keys, `"__proto__"` included. A key holding `undefined` is not the
 * same as an absent key. Any other object only equals itself.
 */
export function assertEquals(actual: unknown, expected: unknown, context: string): void {
  const differences = diff(actual, expected);
  if (differences.length === 0) return;
  fail(
    `${context}: the values differ\n` +
      differences.map((line) => `    ${line}\n`).join("") +
      `  expected: ${render(expected)}\n` +
      `  actual:   ${render(actual)}`,
  );
}

/** Fails unless `actual` and `expected` are the same value (`Object.is`). */
export function assertSame(actual: unknown, expected: unknown, context: string): void {
  if (!Object.is(actual, expected)) {
    fail(`${context}: expected ${describe(expected)}, got ${describe(actual)}`);
  }
}

/**
 * Fails if any object (array, plain object, `Date` or `Uint8Array`, or the buffer behind
 * one) reachable from `a` is also reachable from `b`: the two values must be independent
 * copies.
 */
export function assertNoSharedObjects(a: unknown, b: unknown, context: string): void {
  const seen = new Map<object, string>();
  collectObjects(a, "$", seen);
  const shared = findShared(b, "$", seen, new Set());
  if (shared !== undefined) {
    fail(
      `${context}: ${shared.path} in the second value is the same object as ` +
        `${shared.other} in the first; expected an independent copy`,
    );
  }
}

// deno-lint-ignore no-explicit-any
type ErrorClass<E> = abstract new (...args: any[]) => E;

/**
 * Calls `run` and fails unless it returns a promise that rejects with an instance of
 * `errorClass` carrying `code` and a non-empty message. A synchronous throw fails too:
 * every adapter method reports errors through its promise.
 *
 * @returns The error.
 */
export async function assertRejects<E extends Error>(
  run: () => unknown,
  errorClass: ErrorClass<E>,
  code: string,
  context: string,
): Promise<E> {
  const wanted = `${errorClass.name} (code "${code}")`;
  let promise: unknown;
  try {
    promise = run();
  } catch (error) {
    fail(
      `${context}: expected a promise rejected with ${wanted}, but the call threw ` +
        `synchronously: ${describeError(error)}`,
    );
  }
  if (!isPromiseLike(promise)) {
    fail(`${context}: expected a promise rejected with ${wanted}, got ${describe(promise)}`);
  }
  let value: unknown;
  try {
    value = await promise;
  } catch (error) {
    if (!(error instanceof errorClass)) {
      fail(`${context}: expected ${wanted}, got ${describeError(error)}`);
    }
    const actualCode = (error as { code?: unknown }).code;
    if (actualCode !== code) {
      fail(`${context}: expected ${wanted}, got code ${describe(actualCode)}`);
    }
    if (typeof error.message !== "string" || error.message.trim() === "") {
      fail(`${context}: ${wanted} was thrown with an empty message; say what went wrong`);
    }
    return error;
  }
  return fail(`${context}: expected ${wanted}, but the promise resolved with ${describe(value)}`);
}

/**
 * Runs `check` for every case, then fails once, listing every case that failed, so one
 * run shows the whole picture instead of the first broken case.
 */
export async function checkEach<T>(
  cases: readonly T[],
  label: (item: T) => string,
  check: (item: T) => Promise<void>,
): Promise<void> {
  const failures: string[] = [];
  for (const item of cases) {
    try {
      await check(item);
    } catch (error) {
      const message = error instanceof AssertionError ? error.message : describeError(error);
      failures.push(`- ${label(item)}:\n    ${message.replaceAll("\n", "\n    ")}`);
    }
  }
  if (failures.length > 0) {
    fail(`${failures.length} of ${cases.length} cases failed:\n${failures.join("\n")}`);
  }
}

/** Names an error for a message: its class name, code and message. */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    const withCode = typeof code === "string" ? ` (code "${code}")` : "";
    return `${error.name}${withCode}: ${error.message}`;
  }
  return `a thrown ${describe(error)}`;
}

/** The differences between two values, one line each, with the path where each occurs. */
export function diff(actual: unknown, expected: unknown): string[] {
  const out: string[] = [];
  walk(actual, expected, "$", out, new Map());
  return out;
}

function walk(
  actual: unknown,
  expected: unknown,
  path: string,
  out: string[],
  visiting: Map<object, Set<object>>,
): void {
  if (out.length >= MAX_DIFFERENCES) return;
  if (Object.is(actual, expected)) return;
  const kind = kindOf(expected);
  if (kindOf(actual) !== kind) {
    out.push(`${path}: expected ${describe(expected)}, got ${describe(actual)}`);
    return;
  }
  if (kind === "bytes") {
    const a = actual as Uint8Array;
    const e = expected as Uint8Array;
    const at = a.length === e.length ? a.findIndex((byte, i) => byte !== e[i]) : -2;
    if (at !== -1) {
      out.push(
        `${path}: expected ${describe(expected)}, got ${describe(actual)}` +
          (at >= 0 ? ` (first difference at byte ${at})` : ""),
      );
    }
    return;
  }
  if (kind === "date") {
    const a = (actual as Date).getTime();
    const e = (expected as Date).getTime();
    if (!Object.is(a, e)) {
      out.push(`${path}: expected ${describe(expected)}, got ${describe(actual)}`);
    }
    return;
  }
  if (kind !== "array" && kind !== "object") {
    out.push(`${path}: expected ${describe(expected)}, got ${describe(actual)}`);
    return;
  }
  // Compare each pair of containers once, so cyclic values terminate.
  const a = actual as object;
  const e = expected as object;
  const pairs = visiting.get(a) ?? new Set<object>();
  if (pairs.has(e)) return;
  pairs.add(e);
  visiting.set(a, pairs);

  if (kind === "array") {
    const actualArray = actual as unknown[];
    const expectedArray = expected as unknown[];
    if (actualArray.length !== expectedArray.length) {
      out.push(
        `${path}: expected an array of length ${expectedArray.length}, ` +
          `got length ${actualArray.length}`,
      );
    }
    const length = Math.max(actualArray.length, expectedArray.length);
    for (let i = 0; i < length && out.length < MAX_DIFFERENCES; i++) {
      const inActual = i < actualArray.length && hasOwn(actualArray, i);
      const inExpected = i < expectedArray.length && hasOwn(expectedArray, i);
      if (inActual && inExpected) {
        walk(actualArray[i], expectedArray[i], `${path}[${i}]`, out, visiting);
      } else if (inActual || inExpected) {
        const describeItem = (array: unknown[], present: boolean) =>
          present ? describe(array[i]) : i < array.length ? "a hole" : "nothing";
        out.push(
          `${path}[${i}]: expected ${describeItem(expectedArray, inExpected)}, ` +
            `got ${describeItem(actualArray, inActual)}`,
        );
      }
    }
    return;
  }

  const actualKeys = Object.keys(actual as object);
  const expectedKeys = Object.keys(expected as object);
  const actualSet = new Set(actualKeys);
  const expectedSet = new Set(expectedKeys);
  for (const key of expectedKeys) {
    if (out.length >= MAX_DIFFERENCES) return;
    if (!actualSet.has(key)) {
      out.push(
        `${pathTo(path, key)}: missing; expected ${describe(ownValue(expected as object, key))}`,
      );
    }
  }
  for (const key of actualKeys) {
    if (out.length >= MAX_DIFFERENCES) return;
    if (!expectedSet.has(key)) {
      out.push(
        `${pathTo(path, key)}: unexpected key holding ${describe(ownValue(actual as object, key))}`,
      );
    }
  }
  for (const key of expectedKeys) {
    if (actualSet.has(key)) {
      walk(
        ownValue(actual as object, key),
        ownValue(expected as object, key),
        pathTo(path, key),
        out,
        visiting,
      );
    }
  }
}

/** Reads an own property without invoking an inherited `__proto__` accessor. */
function ownValue(object: object, key: string): unknown {
  const descriptor = Object.getOwnPropertyDescriptor(object, key);
  return descriptor === undefined
    ? undefined
    : "value" in descriptor
    ? descriptor.value
    : (object as Record<string, unknown>)[key];
}

type Kind =
  | "undefined"
  | "null"
  | "boolean"
  | "number"
  | "string"
  | "bigint"
  | "symbol"
  | "function"
  | "date"
  | "bytes"
  | "array"
  | "object"
  | `instance of ${string}`;

function kindOf(value: unknown): Kind {
  if (value === null) return "null";
  const type = typeof value;
  if (type !== "object") return type as Kind;
  if (Array.isArray(value)) return "array";
  const proto = Object.getPrototypeOf(value);
  if (proto === Date.prototype) return "date";
  if (proto === Uint8Array.prototype) return "bytes";
  if (proto === null || proto === Object.prototype) return "object";
  return `instance of ${constructorName(value as object)}`;
}

function constructorName(value: object): string {
  const proto = Object.getPrototypeOf(value);
  const ctor = proto?.constructor;
  return typeof ctor === "function" && ctor.name ? ctor.name : "an unnamed class";
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Whether `key` can be written bare; `__proto__` is quoted, as it means something else bare. */
function isPlainKey(key: string): boolean {
  return IDENTIFIER.test(key) && key !== "__proto__";
}

function pathTo(path: string, key: string): string {
  return isPlainKey(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === "object" || typeof value === "function") && value !== null &&
    typeof (value as { then?: unknown }).then === "function";
}

/** A short description of a value for a one-line message. */
export function describe(value: unknown): string {
  const kind = kindOf(value);
  switch (kind) {
    case "undefined":
    case "null":
    case "boolean":
      return String(value);
    case "number":
      return Object.is(value, -0) ? "-0" : String(value);
    case "string": {
      const text = JSON.stringify(value);
      return text.length > 80
        ? `${text.slice(0, 77)}..." (${(value as string).length} chars)`
        : text;
    }
    case "bigint":
      return `${value}n`;
    case "symbol":
      return String(value);
    case "function":
      return `function ${(value as { name?: string }).name || "(anonymous)"}`;
    case "date":
      return dateText(value as Date);
    case "bytes":
      return bytesText(value as Uint8Array);
    case "array":
      return `an array of length ${(value as unknown[]).length}: ${render(value, 80)}`;
    case "object":
      return `${Object.getPrototypeOf(value) === null ? "a null-prototype object" : "an object"}: ${
        render(value, 80)
      }`;
    default:
      return `an ${kind}`;
  }
}

function bytesText(bytes: Uint8Array): string {
  const shown = Array.from(bytes.subarray(0, 16), (byte) => byte.toString(16).padStart(2, "0"));
  return `Uint8Array(${bytes.length})[${shown.join(" ")}${bytes.length > 16 ? " ..." : ""}]`;
}

function dateText(date: Date): string {
  const time = date.getTime();
  return Number.isNaN(time) ? "Date(Invalid Date)" : `Date(${date.toISOString()})`;
}

/** Renders a value as compact JSON-like text: `Date(...)` for dates, cut at `limit`. */
export function render(value: unknown, limit = MAX_RENDERED): string {
  const text = renderValue(value, new Set());
  return text.length > limit ? `${text.slice(0, limit - 3)}...` : text;
}

function renderValue(value: unknown, stack: Set<object>): string {
  const kind = kindOf(value);
  switch (kind) {
    case "undefined":
    case "null":
    case "boolean":
    case "bigint":
    case "symbol":
    case "function":
    case "number":
      return describe(value);
    case "string":
      return JSON.stringify(value);
    case "date":
      return dateText(value as Date);
    case "bytes":
      return bytesText(value as Uint8Array);
    default:
      break;
  }
  const object = value as object;
  if (stack.has(object)) return "[Circular]";
  stack.add(object);
  try {
    if (kind === "array") {
      const array = value as unknown[];
      const items: string[] = [];
      for (let i = 0; i < array.length; i++) {
        items.push(hasOwn(array, i) ? renderValue(array[i], stack) : "<hole>");
        if (items.length > 200) {
          items.push(`... ${array.length - items.length} more`);
          break;
        }
      }
      return `[${items.join(", ")}]`;
    }
    const entries = Object.keys(object).map((key) =>
      `${isPlainKey(key) ? key : JSON.stringify(key)}: ${renderValue(ownValue(object, key), stack)}`
    );
    const body = entries.length === 0 ? "{}" : `{ ${entries.join(", ")} }`;
    return kind === "object" ? body : `${constructorName(object)} ${body}`;
  } finally {
    stack.delete(object);
  }
}

function collectObjects(value: unknown, path: string, seen: Map<object, string>): void {
  if (typeof value !== "object" || value === null || seen.has(value)) return;
  seen.set(value, path);
  if (ArrayBuffer.isView(value)) {
    seen.set(value.buffer, path);
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => collectObjects(item, `${path}[${i}]`, seen));
  } else {
    for (const key of Object.keys(value)) {
      collectObjects(ownValue(value, key), pathTo(path, key), seen);
    }
  }
}

function findShared(
  value: unknown,
  path: string,
  seen: Map<object, string>,
  visited: Set<object>,
): { path: string; other: string } | undefined {
  if (typeof value !== "object" || value === null || visited.has(value)) return undefined;
  const other = seen.get(value) ??
    (ArrayBuffer.isView(value) ? seen.get(value.buffer) : undefined);
  if (other !== undefined) return { path, other };
  visited.add(value);
  if (ArrayBuffer.isView(value)) return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findShared(value[i], `${path}[${i}]`, seen, visited);
      if (found) return found;
    }
    return undefined;
  }
  for (const key of Object.keys(value)) {
    const found = findShared(ownValue(value, key), pathTo(path, key), seen, visited);
    if (found) return found;
  }
  return undefined;
}
