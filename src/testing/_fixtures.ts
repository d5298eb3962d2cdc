/**
 * Records, values and ids the compliance cases share.
 *
 * @module
 */

import type { Execution, History, Program, StorageAdapter } from "../types.ts";
import { assertEquals, hasOwn } from "./_assert.ts";

/** A fixed instant, so failures are reproducible. */
export const T0 = Date.UTC(2024, 0, 2, 3, 4, 5, 678);

/** A fresh `Date` `offset` milliseconds after {@linkcode T0}. */
export function at(offset = 0): Date {
  return new Date(T0 + offset);
}

/** A valid program; `fields` are added or replace the defaults. */
export function makeProgram(id: string, fields: Record<string, unknown> = {}): Program {
  return {
    id,
    name: `Program ${id}`,
    source: 'let x = 1\nprint("x is " + x)',
    bytecode: [{ op: "PUSH", arg: 1 }, { op: "STORE", arg: "x" }, { op: "PRINT" }],
    created: at(),
    ...fields,
  } as unknown as Program;
}

/** A valid execution; `fields` are added or replace the defaults. */
export function makeExecution(
  id: string,
  programId = "p1",
  fields: Record<string, unknown> = {},
): Execution {
  return {
    id,
    programId,
    state: "running",
    pc: 2,
    stack: [1, "two"],
    variables: { x: 1 },
    output: ["x is 1"],
    created: at(),
    ...fields,
  } as unknown as Execution;
}

/** A valid history entry at `step`; its timestamp is `step` ms after `T0` by default. */
export function makeHistory(
  executionId: string,
  step: number,
  fields: Record<string, unknown> = {},
): History {
  return {
    executionId,
    step,
    pc: step,
    instruction: "PUSH",
    stack: [step],
    variables: { step },
    timestamp: at(step),
    ...fields,
  } as unknown as History;
}

/**
 * Deep copy of plain data with `Date`s, arrays, holes and `"__proto__"` own keys kept, and
 * object properties holding `undefined` dropped: the value a correct adapter returns for
 * `value`. Objects that are not plain data are kept by reference.
 */
export function expected<T>(value: T): T {
  return copy(value, new Map()) as T;
}

function copy(value: unknown, copies: Map<object, unknown>): unknown {
  if (typeof value !== "object" || value === null) return value;
  const done = copies.get(value);
  if (done !== undefined) return done;
  if (value instanceof Date) return new Date(value.getTime());
  if (Object.getPrototypeOf(value) === Uint8Array.prototype) return (value as Uint8Array).slice();
  if (Array.isArray(value)) {
    const out: unknown[] = new Array(value.length);
    copies.set(value, out);
    for (let i = 0; i < value.length; i++) {
      if (hasOwn(value, i)) out[i] = copy(value[i], copies);
    }
    return out;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== null && proto !== Object.prototype) return value;
  const out: Record<string, unknown> = {};
  copies.set(value, out);
  for (const key of Object.keys(value)) {
    const item = (Object.getOwnPropertyDescriptor(value, key) as PropertyDescriptor).value;
    if (item === undefined) continue;
    Object.defineProperty(out, key, {
      value: copy(item, copies),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

/**
 * Saves a program `"p1"`, an execution `"e1"` and a history entry of `"e1"`, and checks
 * each reads back as it was saved.
 */
export async function saveAndCheck(
  adapter: StorageAdapter,
  records: { program: Program; execution: Execution; entry: History } = {
    program: makeProgram("p1"),
    execution: makeExecution("e1", "p1"),
    entry: makeHistory("e1", 0),
  },
): Promise<void> {
  const { program, execution, entry } = records;
  await adapter.saveProgram(program);
  await adapter.saveExecution(execution);
  await adapter.saveHistory(entry);
  assertEquals(await adapter.getProgram("p1"), expected(program), "getProgram()");
  assertEquals(await adapter.getExecution("e1"), expected(execution), "getExecution()");
  assertEquals(await adapter.getHistory("e1"), [expected(entry)], "getHistory()");
}

/** An object with own `key` set to `value`, even for `"__proto__"`. */
export function withKey(key: string, value: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  Object.defineProperty(out, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
  return out;
}

/**
 * Unicode code point order, the order lists are sorted in (and the order of UTF-8 bytes):
 * unlike JavaScript's `<`, it puts U+E000–U+FFFF before the code points above U+FFFF.
 * Written here rather than imported, so the suite does not share a bug with the library.
 */
export function compareCodePoints(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const difference = x[i].codePointAt(0)! - y[i].codePointAt(0)!;
    if (difference !== 0) return difference;
  }
  return x.length - y.length;
}

/** `records` sorted by id in code point order, as lists return them. */
export function byId<T extends { id: string }>(records: readonly T[]): T[] {
  return [...records].sort((a, b) => compareCodePoints(a.id, b.id));
}

/** A copy of `items` in a fixed, scrambled order. */
export function shuffled<T>(items: readonly T[], seed = 1): T[] {
  const out = [...items];
  let state = seed >>> 0 || 1;
  for (let i = out.length - 1; i > 0; i--) {
    // xorshift32: deterministic, so a failing order can be reproduced.
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    const j = state % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** Ids every adapter must store as distinct records, read back and list exactly. */
export const HARD_IDS: readonly string[] = [
  ...new Set([
    // Plain ids.
    "p1",
    "a",
    "a-b_c.d",
    "0",
    "1",
    "10",
    "2",
    "00",
    "-1",
    "1e3",
    // Paths and traversal.
    "/",
    "//",
    "/a",
    "a/",
    "a/b",
    "a/../b",
    "../a",
    "./a",
    ".",
    "..",
    "...",
    ".a",
    "a.",
    "a..",
    "a..b",
    "\\",
    "\\\\",
    "a\\b",
    "..\\a",
    "C:",
    "C:\\x",
    "c:x",
    "\\\\?\\C:\\x",
    "~",
    "~/x",
    "$HOME",
    // Whitespace and control characters.
    " ",
    "  ",
    " a",
    "a ",
    "trailing ",
    "trailing.",
    "trailing. ",
    "a b",
    "\t",
    "\n",
    "\r\n",
    "\u0000",
    "a\u0000b",
    "\u0001",
    "\u001f",
    "\u007f",
    "\u00a0",
    "\u2028",
    "\u3000",
    "\u200b",
    "\u200d",
    "\ufeff",
    // Characters Windows forbids in names.
    "<",
    ">",
    ":",
    '"',
    "|",
    "?",
    "*",
    "a:b",
    "a*b?",
    // Windows device names, in any case and with extensions.
    "CON",
    "con",
    "Con",
    "NUL",
    "nul",
    "nul.txt",
    "NUL ",
    "aux",
    "AUX.json",
    "prn",
    "COM1",
    "com1",
    "COM9",
    "COM\u00b9",
    "LPT1",
    "LPT9",
    "lpt1.log",
    "LPT\u00b2",
    "CONIN$",
    "CONOUT$",
    "CLOCK$",
    // Names an implementation might use for itself.
    "programs",
    "executions",
    "history",
    "tmp",
    ".tmp",
    "x.tmp",
    ".x.tmp",
    "x.json",
    "x.json.tmp",
    ".json",
    "~x",
    "x~",
    ".#x",
    "_id",
    "$where",
    "$ne",
    "$",
    "{}",
    "[]",
    ".*",
    "^",
    "a|b",
    "(",
    "[",
    "a+b",
    "%",
    "%25",
    "%2F",
    "%2f",
    "a%2Fb",
    "a%2fb",
    "a%252Fb",
    "a~2Fb",
    "a_2Fb",
    "a=2Fb",
    "a!2Fb",
    "a+2Fb",
    "a@2Fb",
    "%41",
    "A",
    "_",
    "__",
    "-",
    "+",
    "=",
    "!",
    "#",
    "'",
    "@",
    "&",
    ",",
    ";",
    // Property names of Object.prototype.
    "__proto__",
    "constructor",
    "prototype",
    "toString",
    "valueOf",
    "hasOwnProperty",
    "__defineGetter__",
    "null",
    "undefined",
    "true",
    "NaN",
    // Case.
    "ABC",
    "abc",
    "Abc",
    "aBC",
    // Unicode, normalization and case folding.
    "\u00e9",
    "e\u0301",
    "\u00c5",
    "\u212b",
    "A\u030a",
    "\u2126",
    "\u03a9",
    "\u212a",
    "K",
    "k",
    "\u00df",
    "\u1e9e",
    "SS",
    "ss",
    "\ufb00",
    "ff",
    "\u0130",
    "i\u0307",
    "\uff0f",
    "\u2215",
    "\u{1f600}",
    "\u{1f468}\u200d\u{1f469}\u200d\u{1f467}",
    "\u{1d49c}",
    "\u4e2d\u6587",
    "\ud55c\uad6d\uc5b4",
    "\u05e2\u05d1\u05e8\u05d9\u05ea",
    "\u202e",
    "\ufffd",
    "\uffff",
    "\ue000",
    // Long ids, up to the limit of 256 UTF-16 code units.
    "x".repeat(255),
    "x".repeat(256),
    `${"y".repeat(200)}a`,
    `${"y".repeat(200)}b`,
    `${"y".repeat(200)}A`,
    `${"y".repeat(255)}a`,
    `${"y".repeat(255)}b`,
    `${"y".repeat(255)}/`,
    `${"y".repeat(254)}..`,
    "\u{1f600}".repeat(128),
    `${"\u{1f600}".repeat(127)}a`,
    `${"\u{1f600}".repeat(127)}b`,
    "\u00e9".repeat(256),
    "\u4e2d".repeat(256),
    `${"/".repeat(255)}a`,
    `${"CON".repeat(85)}.`,
  ]),
];

/** One kind of value that cannot round-trip, built fresh for every use. */
export interface Unstorable {
  /** What the value is. */
  label: string;
  /** Builds the value. */
  make(): unknown;
}

class Point {
  x: number;
  y: number;
  constructor(x: number, y: number) {
    this.x = x;
    this.y = y;
  }
}

class When extends Date {}
class Bytes extends Uint8Array {}
class List extends Array {}

/** A value nested `depth` levels deep, alternating arrays and objects. */
export function nested(depth: number, leaf: unknown = 1): unknown {
  let value = leaf;
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? [value] : { d: value };
  return value;
}

/** Values that cannot round-trip, wherever they occur in a record. */
export const UNSTORABLE: readonly Unstorable[] = [
  { label: "a function", make: () => function named() {} },
  { label: "an arrow function", make: () => () => 1 },
  { label: "a symbol", make: () => Symbol("s") },
  { label: "a BigInt", make: () => BigInt(1) },
  { label: "an array holding undefined", make: () => [1, undefined, 3] },
  {
    label: "a sparse array",
    make: () => {
      const array: unknown[] = [1];
      array[2] = 3;
      return array;
    },
  },
  { label: "an array of holes", make: () => new Array(3) },
  {
    label: "an array with an extra own property",
    make: () => Object.assign([1, 2], { extra: "lost in JSON" }),
  },
  {
    label: "an array with a symbol property",
    make: () => Object.assign([1], { [Symbol("s")]: 1 }),
  },
  { label: "an instance of an Array subclass", make: () => List.from([1, 2]) },
  { label: "a Map", make: () => new Map([["a", 1]]) },
  { label: "a Set", make: () => new Set([1]) },
  { label: "a RegExp", make: () => /a+/g },
  { label: "a class instance", make: () => new Point(1, 2) },
  { label: "an instance of an empty class", make: () => new (class Empty {})() },
  { label: "an object with a custom prototype", make: () => Object.create({ inherited: 1 }) },
  { label: "an object with a symbol key", make: () => ({ [Symbol("s")]: 1, a: 1 }) },
  { label: "an Error", make: () => new Error("boom") },
  { label: "a boxed string", make: () => Object("text") },
  { label: "a boxed number", make: () => Object(1) },
  { label: "a boxed boolean", make: () => Object(true) },
  { label: "a Promise", make: () => Promise.resolve(1) },
  { label: "a WeakMap", make: () => new WeakMap() },
  { label: "an object with a toJSON method", make: () => ({ toJSON: () => "x" }) },
  { label: "an invalid Date", make: () => new Date(NaN) },
  { label: "an instance of a Date subclass", make: () => new When(0) },
  {
    label: "a Date with an extra own property",
    make: () => Object.assign(new Date(0), { zone: "UTC" }),
  },
  {
    label: "a Date with its own toISOString",
    make: () => Object.assign(new Date(0), { toISOString: () => "1999-01-01T00:00:00.000Z" }),
  },
  { label: "an instance of a Uint8Array subclass (such as Buffer)", make: () => new Bytes(2) },
  { label: "an Int8Array", make: () => new Int8Array([1, -1]) },
  { label: "a Uint8ClampedArray", make: () => new Uint8ClampedArray([1, 2]) },
  { label: "a Uint16Array", make: () => new Uint16Array([1, 2]) },
  { label: "a Float64Array", make: () => new Float64Array([1.5]) },
  { label: "an ArrayBuffer", make: () => new ArrayBuffer(2) },
  { label: "a DataView", make: () => new DataView(new ArrayBuffer(2)) },
  {
    label: "an object with a getter that throws",
    make: () => ({
      get broken(): never {
        throw new Error("getter failed");
      },
    }),
  },
  {
    label: "a proxy whose traps throw",
    make: () =>
      new Proxy({ a: 1 }, {
        ownKeys() {
          throw new Error("ownKeys trap failed");
        },
      }),
  },
  {
    label: "a circular object",
    make: () => {
      const object: Record<string, unknown> = { a: 1 };
      object.self = object;
      return object;
    },
  },
  {
    label: "a circular array",
    make: () => {
      const array: unknown[] = [1];
      array.push(array);
      return array;
    },
  },
  {
    label: "an indirectly circular structure",
    make: () => {
      const list: unknown[] = [];
      const root = { a: { b: list } };
      list.push({ back: root });
      return root;
    },
  },
  { label: "a value nested 600 levels deep", make: () => nested(600) },
];

/** Ids every method must reject with `ValidationError`. */
export const INVALID_IDS: readonly { label: string; id: unknown }[] = [
  { label: "undefined", id: undefined },
  { label: "null", id: null },
  { label: "a number", id: 42 },
  { label: "a boolean", id: true },
  { label: "an object", id: { id: "p1" } },
  { label: "an array", id: ["p1"] },
  { label: "a boxed string", id: Object("p1") },
  { label: "a symbol", id: Symbol("p1") },
  { label: "the empty string", id: "" },
  { label: "257 code units", id: "x".repeat(257) },
  { label: "257 code units, with astral characters", id: `${"\u{1f600}".repeat(128)}a` },
  { label: "a lone high surrogate", id: "\ud800" },
  { label: "a lone low surrogate", id: "a\udc00b" },
  { label: "a high surrogate at the end", id: "abc\ud83d" },
  { label: "surrogates in the wrong order", id: "\ude00\ud83d" },
];

/** Every method of the adapter interface. */
const METHODS = [
  "connect",
  "disconnect",
  "isConnected",
  "saveProgram",
  "getProgram",
  "saveExecution",
  "getExecution",
  "saveHistory",
  "getHistory",
  "listPrograms",
  "listExecutions",
  "deleteProgram",
  "deleteExecution",
  "appendOutput",
  "getOutput",
  "getCurrentExecutionId",
  "setCurrentExecutionId",
] as const;

/**
 * A plain object whose methods call `adapter`'s, so that a case can replace some of them
 * (to record calls) without touching the adapter, whose methods may use private fields.
 */
export function delegate(adapter: StorageAdapter): StorageAdapter {
  const out: Record<string | symbol, unknown> = {};
  for (const method of METHODS) {
    out[method] = (...args: unknown[]) =>
      (adapter[method] as (...args: unknown[]) => unknown).apply(adapter, args);
  }
  out[Symbol.asyncDispose] = () => adapter[Symbol.asyncDispose]();
  return out as unknown as StorageAdapter;
}
