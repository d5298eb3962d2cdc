// The native-document mapping (src/document.ts), without a server: records go to
// documents, through the driver's own BSON serializer and parser (what the wire does), and
// back, exactly; and only what BSON or the server cannot hold takes the tagged form.

import { assert, assertEquals, assertFalse, assertThrows } from "@std/assert";
import { BSON } from "mongodb";
import {
  bsonSizeBound,
  DocumentError,
  fromDocument,
  fromDocumentValue,
  historyDocumentId,
  MAX_NATIVE_LEVEL,
  TAG,
  toDocument,
  toDocumentValue,
} from "../src/document.ts";
import { checkRecord, decodeRecord, type RecordKind } from "../src/records.ts";
import { deepEqual } from "../src/_deep_equal.ts";
import type { Execution, History, Program } from "../mod.ts";
import { makeExecution, makeHistory, makeProgram } from "./_utils.ts";

const SERVERS = ["mongodb", "ferretdb"] as const;

/** What the driver sends and gets back: BSON bytes, parsed with its defaults. */
function overTheWire(document: Record<string, unknown>): Record<string, unknown> {
  return BSON.deserialize(BSON.serialize(document), { fieldsAsRaw: Object.create(null) });
}

function roundTrip<K extends RecordKind>(
  kind: K,
  record: unknown,
  server: "mongodb" | "ferretdb",
): { document: Record<string, unknown>; back: unknown } {
  const { json } = checkRecord(kind, record);
  const document = toDocument(kind, json, { server });
  const back = decodeRecord(kind, fromDocument(kind, overTheWire(document)), "test");
  return { document, back };
}

/** A value of every kind the contract stores, at several depths. */
function awkwardValues(): Record<string, unknown> {
  const deep: Record<string, unknown> = { leaf: [1, "two", new Date(3)] };
  let nested: unknown = deep;
  for (let i = 0; i < 150; i++) nested = i % 2 === 0 ? { level: nested } : [nested];
  return {
    nan: NaN,
    inf: Infinity,
    negInf: -Infinity,
    negZero: -0,
    inArray: [NaN, -0, Infinity, [[1, [2, [3]]]], []],
    half: "😀".slice(0, 1),
    low: "\udc00x",
    bytes: new Uint8Array([0, 1, 254, 255]),
    empty: new Uint8Array(0),
    dates: [new Date(-8.64e15), new Date(8.64e15), new Date(0)],
    keys: {
      "$x": 1,
      "$$y": 2,
      "a.b": 3,
      "nul\0key": 4,
      "": 5,
      "\ud800": 6,
      'ctrl\n\t"\\': 7,
      [TAG]: "not a tag",
      "_id": "inner _id is fine",
    },
    proto: JSON.parse('{"__proto__": {"constructor": [{"toString": [1]}]}}'),
    looksTagged: { [TAG]: '{"$numberDouble":"NaN"}' },
    looksEncoded: { "$date": "2020-01-01T00:00:00.000Z", "$numberDouble": "NaN" },
    deep: nested,
  };
}

/** Fails unless the server can hold `value`: the rules of MongoDB, and FerretDB's on top. */
function assertHoldable(value: unknown, server: "mongodb" | "ferretdb", path = "$", level = 1) {
  if (typeof value === "string") assert(value.isWellFormed(), `${path}: lone surrogate`);
  if (typeof value === "number" && server === "ferretdb") {
    assert(Number.isFinite(value) && !Object.is(value, -0), `${path}: ${value} on FerretDB`);
  }
  if (value === null || typeof value !== "object" || value instanceof Date) return;
  if (value instanceof Uint8Array) return;
  assert(level <= 100, `${path}: level ${level}`);
  for (const [key, item] of Object.entries(value)) {
    if (Array.isArray(value)) {
      if (server === "ferretdb") assertFalse(Array.isArray(item), `${path}: nested array`);
    } else {
      assertFalse(key.startsWith("$") || key.includes(".") || key.includes("\0"), key);
      assert(key.isWellFormed(), `${path}: key with a lone surrogate`);
      // deno-lint-ignore no-control-regex
      if (server === "ferretdb") assertFalse(/[\u0000-\u001f"\\]/.test(key), key);
    }
    assertHoldable(item, server, `${path}.${key}`, level + 1);
  }
}

for (const server of SERVERS) {
  Deno.test(`toDocument() and fromDocument() round-trip every storable value (${server})`, () => {
    const extra = awkwardValues();
    const records: [RecordKind, Program | Execution | History][] = [
      ["program", makeProgram({ bytecode: extra, _id: "user _id", [TAG]: 1, "$top": 2 })],
      ["execution", makeExecution({ stack: [extra], variables: extra, pc: NaN })],
      ["history", makeHistory({ step: -1, pc: -0, variables: extra, [TAG]: { [TAG]: "x" } })],
    ];
    for (const [kind, record] of records) {
      const { document, back } = roundTrip(kind, record, server);
      assertHoldable(document, server);
      assert(deepEqual(back, record), `${kind}: ${Deno.inspect(back, { depth: 4 })}`);
      assertFalse(Object.hasOwn(back as object, "_id") && kind !== "program");
    }
  });
}

Deno.test("toDocument() keeps ordinary fields native and queryable", () => {
  const execution = makeExecution({
    id: "e1",
    programId: "p1",
    state: "running",
    pc: 3,
    stack: [1, "two", { three: [3] }],
    variables: { x: 1, when: new Date(5), code: new Uint8Array([7]) },
    error: null,
    created: new Date(0),
  });
  for (const server of SERVERS) {
    const document = toDocument("execution", checkRecord("execution", execution).json, {
      server,
    });
    assertEquals(document, {
      _id: "e1",
      id: "e1",
      programId: "p1",
      state: "running",
      pc: 3,
      stack: [1, "two", { three: [3] }],
      variables: { x: 1, when: new Date(5), code: new Uint8Array([7]) },
      output: ["hello"],
      error: null,
      created: new Date(0),
    });
    assertEquals(Object.keys(document)[0], "_id", "_id comes first");
  }
});

Deno.test("toDocument() tags only what the server cannot hold", () => {
  const variables = {
    x: 1,
    "a.b": 2,
    half: "\ud83d",
    nan: NaN,
    negZero: -0,
    nested: [[1, 2]],
    "\n": 3,
  };
  const json = checkRecord("execution", makeExecution({ variables })).json;
  assertEquals(toDocument("execution", json, { server: "mongodb" }).variables, {
    x: 1,
    half: { [TAG]: '"\\ud83d"' },
    nan: NaN,
    negZero: -0,
    nested: [[1, 2]],
    "\n": 3,
    [TAG]: '{"a.b":2}',
  });
  assertEquals(toDocument("execution", json, { server: "ferretdb" }).variables, {
    x: 1,
    half: { [TAG]: '"\\ud83d"' },
    nan: { [TAG]: '{"$numberDouble":"NaN"}' },
    negZero: { [TAG]: '{"$numberDouble":"-0.0"}' },
    nested: [{ [TAG]: "[1,2]" }],
    [TAG]: '{"a.b":2,"\\n":3}',
  });
});

Deno.test("toDocument() gives history entries an _id from their key", () => {
  const entry = makeHistory({ executionId: "a/b", step: -1, timestamp: new Date(0) });
  const document = toDocument("history", checkRecord("history", entry).json);
  assertEquals(document._id, "a/b/-1/1970-01-01T00:00:00.000Z");
  assertEquals(historyDocumentId("a/b", -1, 0), document._id);
  assertEquals(document.timestamp, new Date(0));
  assertEquals([document.executionId, document.step], ["a/b", -1]);
});

/** The level of the deepest container in `value`, which sits at `level`. */
function deepest(value: unknown, level: number): number {
  if (value === null || typeof value !== "object" || value instanceof Date) return level - 1;
  return Math.max(level, ...Object.values(value).map((item) => deepest(item, level + 1)));
}

Deno.test("toDocument() nests containers at most 100 levels deep, counting the document", () => {
  let value: unknown = "leaf";
  for (let i = 0; i < 120; i++) value = i % 2 ? [value] : { x: value };
  const document = toDocument(
    "program",
    checkRecord("program", makeProgram({ bytecode: value })).json,
  );
  assertEquals(deepest(document, 1), MAX_NATIVE_LEVEL + 1);
  let at: unknown = document.bytecode;
  for (let level = 2; level < MAX_NATIVE_LEVEL + 1; level++) {
    at = Array.isArray(at) ? at[0] : (at as { x: unknown }).x;
  }
  assertEquals(Object.keys(at as object), [TAG], "the container at level 100 is tagged");
  const back = decodeRecord("program", fromDocument("program", overTheWire(document)), "t");
  assertEquals(back.bytecode, value);
});

Deno.test("toDocumentValue() and fromDocumentValue() map single values", () => {
  assertEquals(toDocumentValue("\ud83d"), { [TAG]: '"\\ud83d"' });
  assertEquals(toDocumentValue("ok"), "ok");
  assertEquals(toDocumentValue({ $date: "1970-01-01T00:00:00.000Z" }), new Date(0));
  assertEquals(toDocumentValue({ $numberDouble: "NaN" }, { server: "ferretdb" }), {
    [TAG]: '{"$numberDouble":"NaN"}',
  });
  assertEquals(fromDocumentValue({ [TAG]: '"\\ud83d"' }), "\ud83d");
  assertEquals(fromDocumentValue(new Date(0)), { $date: "1970-01-01T00:00:00.000Z" });
  assertEquals(fromDocumentValue(-0), { $numberDouble: "-0.0" });
  assertEquals(fromDocumentValue({ $x: 1 }), { $$x: 1 }, "a stored $-key is escaped");
});

Deno.test("fromDocument() reads the documents the original CVM wrote", () => {
  const stored = overTheWire({
    _id: new BSON.ObjectId(),
    id: "e1",
    programId: "p1",
    state: "waiting_cc",
    pc: 4,
    stack: [1, 2.5],
    variables: { x: "y" },
    error: null,
    created: new Date(0),
  });
  assertEquals(decodeRecord("execution", fromDocument("execution", stored), "test"), {
    id: "e1",
    programId: "p1",
    state: "waiting_cc",
    pc: 4,
    stack: [1, 2.5],
    variables: { x: "y" },
    error: null,
    created: new Date(0),
  });
});

Deno.test("fromDocument() reads what version 0.1 wrote, and only documents of its shape", () => {
  const json = checkRecord("program", makeProgram({ id: "p1", bytecode: { $x: 1 } })).json;
  const legacy = { _id: new BSON.ObjectId(), id: "p1", doc: JSON.stringify(json) };
  assertEquals(
    decodeRecord("program", fromDocument("program", overTheWire(legacy)), "test"),
    makeProgram({ id: "p1", bytecode: { $x: 1 } }),
  );
  const history = checkRecord("history", makeHistory()).json;
  const legacyHistory = {
    executionId: "e1",
    step: 0,
    timestamp: new Date(0),
    doc: JSON.stringify(history),
  };
  assertEquals(fromDocument("history", legacyHistory), history);
  // A native program whose extra field happens to be called `doc`.
  const native = makeProgram({ doc: "{}" });
  const document = toDocument("program", checkRecord("program", native).json);
  assertEquals(decodeRecord("program", fromDocument("program", document), "test"), native);
});

Deno.test("fromDocument() names the field that holds a value this library does not store", () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [
      { id: "p1", bytecode: { ref: new BSON.ObjectId() } },
      /field "bytecode\.ref" holds a BSON ObjectId/,
    ],
    [
      { id: "p1", bytecode: [BSON.Decimal128.fromString("1.5")] },
      /"bytecode\.\[0\]" holds a BSON Decimal128/,
    ],
    [{ id: "p1", bytecode: new BSON.Binary(new Uint8Array(16), 4) }, /binary of subtype 4/],
    [
      { id: "p1", bytecode: { [TAG]: "{oops" } },
      /"bytecode\.__cvm_ejson" holds text that is not valid JSON/,
    ],
    [{ id: "p1", bytecode: { [TAG]: "[1]", other: 1 } }, /a tagged value beside other fields/],
    [{ id: "p1", x: 1, doc: "{oops" }, /./],
  ];
  for (const [document, pattern] of cases.slice(0, 5)) {
    assertThrows(() => fromDocument("program", document), DocumentError, undefined);
    try {
      fromDocument("program", document);
    } catch (error) {
      assert(pattern.test((error as Error).message), (error as Error).message);
    }
  }
  assertThrows(
    () => fromDocument("program", { _id: 1, id: "p1", doc: "{oops" }),
    DocumentError,
    '"doc" field is not valid JSON',
  );
});

Deno.test("fromDocument() reads the driver's Binary of subtype 0 as a Uint8Array", () => {
  const stored = overTheWire({ id: "p1", bytecode: new Uint8Array([1, 2, 3]) });
  assertEquals(BSON.Binary.name, (stored.bytecode as object).constructor.name);
  const json = fromDocument("program", stored);
  assertEquals(json.bytecode, { $binary: { base64: "AQID", subType: "00" } });
});

Deno.test("toDocument() gives an entry outside years 0-9999 the same _id as historyDocumentId()", () => {
  for (const time of [-62_198_755_200_000, 253_402_300_800_000, 8.64e15, -8.64e15]) {
    const entry = makeHistory({ executionId: "e", step: 3, timestamp: new Date(time) });
    const document = toDocument("history", checkRecord("history", entry).json);
    assertEquals(document._id, historyDocumentId("e", 3, time));
    assertEquals(document.timestamp, new Date(time));
  }
});

Deno.test("bsonSizeBound() is never below the BSON size the driver computes", () => {
  const documents: Record<string, unknown>[] = [
    {},
    { _id: "x", a: 1, b: 2.5, c: true, d: null, e: new Date(0), f: new Uint8Array(300) },
    { text: "héllo ✓ 😀 \u{10FFFF}", "ключ": "значение", "😀": ["😀", "✓", "a"] },
    { items: Array.from({ length: 12_345 }, (_, i) => i % 3 ? i : `s${i}`) },
    { deep: { a: [{ b: [{ c: "✓".repeat(1000) }] }] } },
    toDocument("execution", checkRecord("execution", makeExecution()).json),
    toDocument("history", checkRecord("history", makeHistory()).json),
    toDocument("execution", checkRecord("execution", makeExecution({ pc: NaN })).json, {
      server: "ferretdb",
    }),
  ];
  for (const document of documents) {
    const bytes = BSON.calculateObjectSize(document);
    const bound = bsonSizeBound(document);
    assert(bound >= bytes, `${bound} < ${bytes} for ${Deno.inspect(document).slice(0, 80)}`);
    assert(bound <= 3 * bytes + 64, `the bound ${bound} is loose (${bytes} bytes)`);
  }
  // A value the mapping never makes is unknown: no bound.
  assertEquals(bsonSizeBound({ when: new Map() }), Infinity);
  assertEquals(bsonSizeBound({ big: 1n }), Infinity);
});
