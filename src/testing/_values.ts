/**
 * Values at their edges: the storable ones every adapter must return exactly, and the
 * ones every adapter must reject.
 *
 * @module
 */

import { at } from "./_fixtures.ts";

/** Dates at the edges of what `Date` can hold, before the epoch and after 9999. */
export const EDGE_DATES: readonly (() => Date)[] = [
  () => new Date(0),
  () => new Date(1),
  () => new Date(-1),
  () => new Date(-8.64e15),
  () => new Date(8.64e15),
  () => new Date("1969-07-20T20:17:40.123Z"),
  () => new Date("1900-02-28T23:59:59.999Z"),
  () => new Date("0000-01-01T00:00:00.000Z"),
  () => new Date("0005-01-01T00:00:00.001Z"),
  () => new Date("-000001-06-15T12:00:00.000Z"),
  () => new Date("9999-12-31T23:59:59.999Z"),
  () => new Date("+010000-01-01T00:00:00.000Z"),
];

/** Object keys that must survive, whatever the backend does with them. */
export const ODD_KEYS: readonly string[] = [
  "$x",
  "$",
  "$$",
  "$$x",
  "$date",
  "$oid",
  "$binary",
  "$numberDouble",
  "$escape",
  "$numberLong",
  "$set",
  "$where",
  "a.b",
  ".",
  "..",
  ".a",
  "a.",
  "a.$b",
  "",
  " ",
  "\u00e9",
  "e\u0301",
  "\u{1f600}",
  "\ud83d",
  "a\udc00",
  "\u0000",
  "a\u0000b",
  "_id",
  "id",
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "hasOwnProperty",
  "0",
  "1e3",
  "-1",
  "length",
  "a/b",
  "a\\b",
  "\n",
];

/** User objects that look like the encoded form of some other value. */
export const LOOKALIKES: readonly (() => unknown)[] = [
  () => ({ $date: "2020-01-01T00:00:00.000Z" }),
  () => ({ $date: 0 }),
  () => ({ $date: { $numberLong: "0" } }),
  () => ({ $date: new Date(0) }),
  () => ({ $date: "2020-01-01T00:00:00.000Z", extra: 1 }),
  () => ({ $date: "not a date" }),
  () => ({ $escape: { a: 1 } }),
  () => ({ $escape: "x" }),
  () => ({ $escape: { $date: "2020-01-01T00:00:00.000Z" } }),
  () => ({ $escape: { $escape: {} } }),
  () => ({ $numberLong: "1" }),
  () => ({ $numberInt: "1" }),
  () => ({ $numberDouble: "NaN" }),
  () => ({ $numberDouble: "-0.0" }),
  () => ({ $numberDouble: "Infinity" }),
  () => ({ $numberDecimal: "1.5" }),
  () => ({ $oid: "507f1f77bcf86cd799439011" }),
  () => ({ $oid: "x", a: 1 }),
  () => ({ a: 1, $oid: "x" }),
  () => ({ $undefined: true }),
  () => ({ $regularExpression: { pattern: "a", options: "" } }),
  () => ({ $regex: "a", $options: "i" }),
  () => ({ $timestamp: { t: 1, i: 2 } }),
  () => ({ $symbol: "s" }),
  () => ({ $code: "x", $scope: {} }),
  () => ({ $dbPointer: { $ref: "c", $id: { $oid: "507f1f77bcf86cd799439011" } } }),
  () => ({ $ref: "c", $id: 1 }),
  () => ({ $binary: { base64: "", subType: "00" } }),
  () => ({ $binary: { base64: "AQID", subType: "00" } }),
  () => ({ $binary: "AQID", $type: "00" }),
  () => ({ $uuid: "00000000-0000-0000-0000-000000000000" }),
  () => ({ $minKey: 1 }),
  () => ({ $maxKey: 1 }),
  () => ({ $$x: 1 }),
  () => ({ $$date: "2020-01-01T00:00:00.000Z" }),
  () => ({ $$$x: 1 }),
  () => ({ $: 1 }),
  () => ({ $type: "Date", value: "2020-01-01T00:00:00.000Z" }),
  () => ({ __type: "Date", value: "2020-01-01T00:00:00.000Z" }),
  () => ({ _id: "507f1f77bcf86cd799439011" }),
  () => ({ _id: { $oid: "507f1f77bcf86cd799439011" } }),
  () => "2020-01-01T00:00:00.000Z",
  () => "$date",
  () => "NaN",
  () => "AQID",
  () => ["$date", "2020-01-01T00:00:00.000Z"],
];

/** Strings that are not well-formed UTF-16: what a VM slicing an emoji in half makes. */
export const LONE_SURROGATES: readonly string[] = [
  "\u{1f600}".substring(0, 1),
  "\u{1f600}".substring(1),
  "a\ud800",
  "\udc00b",
  "\ude00\ud83d",
  "\ud800\ud800",
  "x\udfffy\ud800z",
  "\ud83d" + "\u{1f600}",
];

/** Numbers JSON cannot write, which must come back as they were. */
export const SPECIAL_NUMBERS: readonly number[] = [NaN, Infinity, -Infinity, -0];

/** Numbers, strings and other primitives at their edges. */
export const PRIMITIVES: readonly unknown[] = [
  0,
  -0,
  1,
  -1,
  1.5,
  -0.000001,
  0.1 + 0.2,
  2 ** 31,
  -(2 ** 31) - 1,
  2 ** 32,
  Number.MAX_SAFE_INTEGER,
  Number.MIN_SAFE_INTEGER,
  2 ** 53 + 2,
  -(2 ** 60),
  1e21,
  1e-7,
  5e-324,
  Number.MAX_VALUE,
  -Number.MAX_VALUE,
  Number.MIN_VALUE,
  Number.EPSILON,
  ...SPECIAL_NUMBERS,
  "",
  " ",
  "text",
  "\u0000",
  "line\nbreak\r\n\ttab",
  '"quoted" \\ back\\slash',
  "</script>",
  "\u00e9 e\u0301",
  "\u{1f600}\u{1f468}\u200d\u{1f469}\u200d\u{1f467}",
  "\ufeff\u200b\u2028\u2029",
  "\uffff\ufffd\ue000",
  ...LONE_SURROGATES,
  "x".repeat(100_000),
  true,
  false,
  null,
];

/** Byte arrays of every shape, built fresh for every use. */
export const BYTES: readonly { label: string; make(): Uint8Array }[] = [
  { label: "an empty Uint8Array", make: () => new Uint8Array(0) },
  { label: "one zero byte", make: () => new Uint8Array([0]) },
  { label: "bytes 0, 1, 127, 128, 255", make: () => new Uint8Array([0, 1, 127, 128, 255]) },
  {
    label: "every byte value",
    make: () => Uint8Array.from({ length: 256 }, (_, i) => i),
  },
  {
    label: "bytes that are not UTF-8",
    make: () => new Uint8Array([0xc3, 0x28, 0xff, 0xfe, 0xed, 0xa0, 0x80]),
  },
  {
    label: "64 KiB of varied bytes",
    make: () => Uint8Array.from({ length: 65_536 }, (_, i) => (i * 7919 + (i >> 8)) & 0xff),
  },
  {
    label: "a view on part of a larger buffer",
    make: () => new Uint8Array(Uint8Array.from({ length: 32 }, (_, i) => i).buffer, 5, 7),
  },
];

/** A chain of nested objects and arrays with a `Date` at every level. */
export function datesAtEveryLevel(depth: number): unknown {
  let value: unknown = at(depth);
  for (let level = depth - 1; level >= 0; level--) {
    value = level % 2 === 0
      ? { level, when: at(level), next: value }
      : [at(level), value, { when: at(level + 1000) }];
  }
  return value;
}

/** An object with every odd key, each holding a different value. */
export function oddKeysObject(): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  ODD_KEYS.forEach((key, i) => {
    Object.defineProperty(out, key, {
      value: i % 3 === 0 ? at(i) : i % 3 === 1 ? `value ${i}` : { [`inner ${key}`]: [i] },
      enumerable: true,
      writable: true,
      configurable: true,
    });
  });
  return out;
}

/** Extra fields the original CVM stores in its executions, with the values it writes. */
export function cvmExtraFields(): Record<string, unknown> {
  return {
    ccPrompt: "Summarize: \u{1f600}".substring(0, 12),
    returnValue: { $date: "not a date", answer: NaN },
    heap: {
      "0": { type: "array", data: [1, "two", null, Infinity] },
      "1": { type: "object", data: { "a.b": -0, $ref: 0 } },
      nextId: 2,
    },
    iterators: [{ array: [1, 2, 3], index: 1 }, { array: [], index: 0 }],
    status: "AWAITING_COGNITIVE_RESULT",
  };
}

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
