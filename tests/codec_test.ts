import { assertEquals, assertStrictEquals, assertThrows } from "@std/assert";
import { decodeValue, encodeValue, formatJson, fromBase64, toBase64 } from "../src/codec.ts";
import { ValidationError } from "../src/errors.ts";

const roundTrip = (value: unknown) =>
  decodeValue(JSON.parse(JSON.stringify(encodeValue(value, "test"))));

Deno.test("encodeValue() writes Extended JSON v2 relaxed for dates, doubles and bytes", () => {
  assertEquals(encodeValue({ at: new Date("2026-01-02T03:04:05.678Z") }, "t"), {
    at: { $date: "2026-01-02T03:04:05.678Z" },
  });
  assertEquals(encodeValue([NaN, Infinity, -Infinity, -0, 0, 1.5, 2 ** 60], "t"), [
    { $numberDouble: "NaN" },
    { $numberDouble: "Infinity" },
    { $numberDouble: "-Infinity" },
    { $numberDouble: "-0.0" },
    0,
    1.5,
    2 ** 60,
  ]);
  assertEquals(encodeValue(new Uint8Array([0, 1, 254, 255]), "t"), {
    $binary: { base64: "AAH+/w==", subType: "00" },
  });
});

Deno.test("encodeValue() writes dates outside years 0-9999 as $numberLong", () => {
  const far = new Date(8.64e15);
  assertEquals(encodeValue(far, "t"), { $date: { $numberLong: "8640000000000000" } });
  assertEquals(roundTrip(far), far);
  const early = new Date(-62198755200000);
  assertEquals(roundTrip(early), early);
  assertEquals(roundTrip(new Date(-1)), new Date(-1));
});

Deno.test("encodeValue() escapes every key that starts with $", () => {
  assertEquals(encodeValue({ $date: "x", a: { $oid: 1, $$b: 2 } }, "t"), {
    $$date: "x",
    a: { $$oid: 1, $$$b: 2 },
  });
});

Deno.test("decodeValue() round-trips every storable value exactly", () => {
  const value = {
    dates: [new Date(0), new Date("2026-12-01T00:00:00.000Z")],
    numbers: [NaN, Infinity, -Infinity, -0, 0, 5e-324, Number.MAX_VALUE],
    bytes: new Uint8Array([1, 2, 3]),
    empty: new Uint8Array(0),
    strings: ["😀".slice(0, 1), "\udc00x", "", "\u0000"],
    keys: { "": 1, "$x": 2, "$$y": 3, "a.b": 4, "\u0000": 5, "\ud800": 6 },
    lookalikes: [
      { $date: "2026-01-01" },
      { $numberDouble: "NaN" },
      { $binary: { base64: "", subType: "00" } },
      { $escape: { a: 1 } },
      { $numberLong: "1" },
    ],
    nested: [[[{ deep: null }]]],
  };
  const back = roundTrip(value) as typeof value;
  assertEquals(back, value);
  assertStrictEquals(Object.is(back.numbers[3], -0), true);
  assertStrictEquals(back.strings[0], "\ud83d");
});

Deno.test("decodeValue() keeps an own __proto__ key as data", () => {
  const value = JSON.parse('{"__proto__": {"$date": "2026-01-01T00:00:00.000Z"}, "$__proto__": 1}');
  const encoded = encodeValue(value, "t");
  const back = decodeValue(JSON.parse(JSON.stringify(encoded))) as Record<string, unknown>;
  assertStrictEquals(Object.getPrototypeOf(back), Object.prototype);
  assertEquals(Object.keys(back), ["__proto__", "$__proto__"]);
  assertEquals(Object.getOwnPropertyDescriptor(back, "__proto__")?.value, {
    $date: "2026-01-01T00:00:00.000Z",
  });
});

Deno.test("decodeValue() reads version 0.1 files: $escape and unescaped $ keys", () => {
  const legacy = JSON.parse(
    '{"a": {"$escape": {"$date": "not a date"}}, "b": {"$x": 1, "y": 2}, ' +
      '"c": {"$date": "2026-01-01T00:00:00.000Z"}}',
  );
  assertEquals(decodeValue(legacy), {
    a: { $date: "not a date" },
    b: { $x: 1, y: 2 },
    c: new Date("2026-01-01T00:00:00.000Z"),
  });
});

Deno.test("decodeValue() rejects malformed encoded values", () => {
  for (
    const text of [
      '{"$date": "yesterday"}',
      '{"$date": 5}',
      '{"$numberDouble": "one"}',
      '{"$binary": {"base64": "!!", "subType": "00"}}',
      '{"$binary": {"base64": "", "subType": "05"}}',
      '{"$escape": 1}',
    ]
  ) {
    assertThrows(() => decodeValue(JSON.parse(text)), TypeError, undefined, text);
  }
});

Deno.test("encodeValue() rejects what cannot round-trip, naming the path", () => {
  class Point {}
  const cycle: Record<string, unknown> = {};
  cycle.self = cycle;
  const date = new Date(0);
  Object.defineProperty(date, "toISOString", { value: () => "x" });
  const array = [1] as unknown[] & { extra?: number };
  array.extra = 1;
  const cases: [unknown, string][] = [
    [{ f: () => 1 }, 'field "f" is a function'],
    [{ s: Symbol("s") }, 'field "s" is a symbol'],
    [{ b: 1n }, 'field "b" is a BigInt'],
    [{ a: [1, undefined] }, 'field "a[1]" is undefined'],
    [{ a: [1, , 3] }, 'field "a[1]" is a hole'],
    [{ p: new Point() }, 'field "p" is an instance of Point'],
    [{ m: new Map() }, 'field "m" is an instance of Map'],
    [{ d: new Date(NaN) }, 'field "d" is an invalid Date'],
    [{ d: date }, 'field "d" is a Date with properties of its own'],
    [{ a: array }, 'field "a" is an array with properties besides its items'],
    [{ x: { y: cycle } }, "circular reference"],
    [{ [Symbol("k")]: 1 }, "has a symbol key"],
    [{ buf: new (class Bytes extends Uint8Array {})(2) }, "is an instance of Bytes"],
    [{ d: new (class Day extends Date {})(0) }, "is an instance of Day"],
    [{
      g: Object.defineProperty({}, "x", {
        get: () => {
          throw new Error("boom");
        },
        enumerable: true,
      }),
    }, 'reading field "g.x" threw'],
  ];
  for (const [value, message] of cases) {
    assertThrows(() => encodeValue(value, "Cannot save"), ValidationError, message);
  }
});

Deno.test("encodeValue() rejects values nested deeper than MAX_DEPTH", () => {
  let deep: unknown = 1;
  for (let i = 0; i < 600; i++) deep = [deep];
  assertThrows(() => encodeValue(deep, "t"), ValidationError, "nested more than 512 levels");
  let ok: unknown = 1;
  for (let i = 0; i < 511; i++) ok = { a: ok };
  assertEquals(roundTrip(ok), ok);
});

Deno.test("formatJson() puts each encoded scalar on one line, and parses back", () => {
  const json = encodeValue(
    { at: new Date(0), far: new Date(-1e15), n: NaN, b: new Uint8Array([1]), s: "$date" },
    "t",
  );
  const text = formatJson(json);
  assertEquals(
    text,
    `{
  "at": { "$date": "1970-01-01T00:00:00.000Z" },
  "far": { "$date": { "$numberLong": "-1000000000000000" } },
  "n": { "$numberDouble": "NaN" },
  "b": { "$binary": { "base64": "AQ==", "subType": "00" } },
  "s": "$date"
}
`,
  );
  assertEquals(JSON.parse(text), json);
});

Deno.test("toBase64() and fromBase64() agree with btoa for every length", () => {
  for (let length = 0; length < 40; length++) {
    const bytes = Uint8Array.from({ length }, (_, i) => (i * 37 + length) & 255);
    const expected = btoa(String.fromCharCode(...bytes));
    assertEquals(toBase64(bytes), expected);
    assertEquals(fromBase64(expected), bytes);
  }
});
