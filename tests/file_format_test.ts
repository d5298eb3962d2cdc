// The file format: record files are MongoDB Extended JSON v2 (relaxed) that the `bson`
// package reads as the record itself; files written by version 0.1 still read; history
// saves are idempotent retries.

import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertRejects,
  assertStringIncludes,
  assertThrows,
} from "@std/assert";
import { Binary, EJSON } from "bson";
import { join } from "node:path";
import { ConflictError, CorruptRecordError, FileStorageAdapter } from "../mod.ts";
import { copyDir, withAdapter } from "./_file_utils.ts";
import { makeExecution, makeHistory, makeProgram, withTempDir } from "./_utils.ts";

/** Turns what `bson` reads back into plain record values: its `Binary` into bytes. */
function fromBson(value: unknown): unknown {
  if (value instanceof Binary) {
    assertEquals(value.sub_type, 0);
    return new Uint8Array(value.buffer.slice(0, value.position));
  }
  if (Array.isArray(value)) return value.map(fromBson);
  if (value !== null && typeof value === "object" && !(value instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      Object.defineProperty(out, key, {
        value: fromBson((value as Record<string, unknown>)[key]),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  return value;
}

/** Reads a record file with `bson`'s own Extended JSON parser. */
async function readWithBson(path: string): Promise<unknown> {
  return fromBson(EJSON.parse(await Deno.readTextFile(path), { relaxed: true }));
}

const lone = "\ud83d"; // half of 😀, as `"😀".substring(0, 1)` leaves it

/** Values EJSON has an answer for, everywhere in a record. */
const VALUES = {
  date: new Date("2026-01-02T03:04:05.678Z"),
  before1970: new Date(-1),
  farFuture: new Date(8.64e15),
  beforeYearZero: new Date(-62198755200000),
  nan: NaN,
  infinity: Infinity,
  negativeInfinity: -Infinity,
  negativeZero: -0,
  big: 2 ** 53 - 1,
  fraction: 0.1,
  bytes: new Uint8Array([0, 1, 2, 253, 254, 255]),
  emptyBytes: new Uint8Array(0),
  loneSurrogate: `a${lone}b`,
  emoji: "😀",
  nested: { deep: [[{ at: new Date(0) }], [NaN, -0]], "a.b": 1, "": "empty key", ünï: "cödé" },
  nil: null,
  flag: false,
};

Deno.test("FileStorageAdapter record files read as the record with bson's EJSON.parse", async () => {
  await withAdapter(async (storage, dir) => {
    const program = makeProgram({
      bytecode: new Uint8Array([1, 2, 3]),
      updated: null,
      extra: VALUES,
    });
    const execution = makeExecution({
      state: "AWAITING_COGNITIVE_RESULT",
      pc: NaN,
      stack: [Infinity, -0, lone],
      variables: VALUES,
      error: null,
      ccPrompt: "extra field",
      heap: { objects: [VALUES] },
    });
    delete execution.output;
    const history = makeHistory({ step: -1, variables: VALUES, stack: [new Uint8Array([9])] });
    await storage.saveProgram(program);
    await storage.saveExecution(execution);
    await storage.saveHistory(history);
    assertEquals(await readWithBson(join(dir, "programs", "p1.json")), program);
    assertEquals(await readWithBson(join(dir, "executions", "e1.json")), execution);
    assertEquals(
      await readWithBson(join(dir, "history", "e1", "1767323045678--1.json")),
      history,
    );
    // And the adapter reads the same.
    assertEquals(await storage.getProgram("p1"), program);
    assertEquals(await storage.getExecution("e1"), execution);
    assertEquals(await storage.getHistory("e1"), [history]);
  });
});

Deno.test("FileStorageAdapter record files: the documented exceptions to bson's reading", async () => {
  await withAdapter(async (storage, dir) => {
    // Keys starting with "$" carry one more "$": bson leaves "$$x" as it is, so no user
    // object is ever read as an encoded value (bson decodes "$oid" even beside other keys).
    const dollars = {
      $x: 1,
      nested: { $oid: "507f1f77bcf86cd799439011", other: 1 },
      looksLikeADate: { $date: "2026-01-01T00:00:00Z" },
    };
    await storage.saveProgram(makeProgram({ id: "dollars", bytecode: dollars }));
    const path = join(dir, "programs", "dollars.json");
    const text = await Deno.readTextFile(path);
    assertStringIncludes(text, '"$$x": 1');
    assertStringIncludes(text, '"$$oid": "507f1f77bcf86cd799439011"');
    assertStringIncludes(text, '"$$date": "2026-01-01T00:00:00Z"');
    assertEquals((await readWithBson(path) as { bytecode: unknown }).bytecode, {
      $$x: 1,
      nested: { $$oid: "507f1f77bcf86cd799439011", other: 1 },
      looksLikeADate: { $$date: "2026-01-01T00:00:00Z" },
    });
    assertEquals((await storage.getProgram("dollars"))?.bytecode, dollars);

    // A NUL in a key: JSON holds it, bson refuses it.
    await storage.saveProgram(makeProgram({ id: "key-nul", bytecode: { "a\0b": 1 } }));
    const nul = await Deno.readTextFile(join(dir, "programs", "key-nul.json"));
    assertThrows(() => EJSON.parse(nul, { relaxed: true }));
    assertEquals((await storage.getProgram("key-nul"))?.bytecode, { "a\0b": 1 });
  });
});

Deno.test("FileStorageAdapter writes one line for each $date, $numberDouble and $binary", async () => {
  await withAdapter(async (storage, dir) => {
    await storage.saveProgram(
      makeProgram({
        bytecode: new Uint8Array([1, 2, 3]),
        extra: [NaN, -0, new Date(8.64e15)],
      }),
    );
    const text = await Deno.readTextFile(join(dir, "programs", "p1.json"));
    assertStringIncludes(text, '"bytecode": { "$binary": { "base64": "AQID", "subType": "00" } },');
    assertStringIncludes(text, '{ "$numberDouble": "NaN" },');
    assertStringIncludes(text, '{ "$numberDouble": "-0.0" },');
    assertStringIncludes(text, '{ "$date": { "$numberLong": "8640000000000000" } }');
    assertStringIncludes(text, '"created": { "$date": "2026-01-02T03:04:05.678Z" },\n');
  });
});

const FIXTURE = new URL("./fixtures/v0_1/", import.meta.url);

/** What the 0.1 fixture's files hold (see tests/fixtures/v0_1/README.md). */
const OLD = {
  program: {
    id: "p1",
    name: "Old",
    source: "PUSH 1",
    bytecode: [1, 2, { op: "PUSH" }],
    created: new Date("2025-06-01T12:00:00.000Z"),
    updated: new Date("2025-06-02T00:00:00.000Z"),
  },
  execution: {
    id: "e1",
    programId: "p1",
    state: "running",
    pc: 3,
    stack: [{ $date: "not a date" }, { $escape: 1 }, { $x: 1, y: 2 }],
    variables: {
      when: new Date("2025-06-01T12:00:00.000Z"),
      nested: { $only: [new Date("2025-06-01T12:00:00.000Z")] },
    },
    output: ["a", "b"],
    created: new Date("2025-06-01T12:00:00.000Z"),
  },
  history: {
    executionId: "e1",
    step: 2,
    pc: 2,
    instruction: "ADD",
    stack: [],
    variables: { $ref: "x" },
    timestamp: new Date("2025-06-01T12:00:00.000Z"),
  },
};

Deno.test("FileStorageAdapter reads a data directory written by version 0.1", async () => {
  await withTempDir(async (dir) => {
    await copyDir(FIXTURE, dir);
    await using storage = new FileStorageAdapter({ dataDir: dir, fsync: false });
    await storage.connect();
    assertEquals(await storage.getProgram("p1"), OLD.program);
    assertEquals(await storage.getExecution("e1"), OLD.execution);
    assertEquals(await storage.getHistory("e1"), [OLD.history]);
    assertEquals(await storage.listPrograms(), [OLD.program]);
    assertEquals(await storage.listExecutions({ state: "running" }), [OLD.execution]);
    assertEquals(await storage.getOutput("e1"), []);
    assertEquals(await storage.getCurrentExecutionId(), null);

    // A retry of the entry 0.1 stored is recognised as the same entry, whatever its form.
    const path = join(dir, "history", "e1", "1748779200000-2.json");
    const before = await Deno.readTextFile(path);
    await storage.saveHistory(structuredClone(OLD.history));
    assertEquals(await Deno.readTextFile(path), before);
    await assertRejects(
      () => storage.saveHistory({ ...OLD.history, variables: { $ref: "y" } }),
      ConflictError,
    );
  });
});

Deno.test("FileStorageAdapter.saveHistory() retried with a deep-equal entry changes nothing", async () => {
  await withAdapter(async (storage, dir) => {
    const entry = makeHistory({
      step: -1,
      variables: {
        nan: NaN,
        bytes: new Uint8Array([1, 2]),
        when: new Date(5),
        keys: { b: 1, a: 2 },
      },
    });
    await storage.saveHistory(entry);
    const path = join(dir, "history", "e1", "1767323045678--1.json");
    const before = await Deno.stat(path);
    // Deep-equal: a fresh copy, its keys in another order.
    await storage.saveHistory({
      ...structuredClone(entry),
      variables: {
        keys: { a: 2, b: 1 },
        when: new Date(5),
        bytes: new Uint8Array([1, 2]),
        nan: NaN,
      },
    });
    const after = await Deno.stat(path);
    assertEquals([after.ino, after.mtime?.getTime()], [before.ino, before.mtime?.getTime()]);
    assertEquals(await storage.getHistory("e1"), [entry]);
    // Not deep-equal: -0 is not 0, and the stored entry stays.
    const error = await assertRejects(
      () => storage.saveHistory({ ...entry, variables: { ...entry.variables, nan: -0 } }),
      ConflictError,
    );
    assertStringIncludes(error.message, "a different entry");
    assert(!error.message.includes("new timestamp"), "it must not advise writing a duplicate");
    assertEquals(await storage.getHistory("e1"), [entry]);
  });
});

Deno.test("FileStorageAdapter.saveHistory() reports a stored entry it cannot read instead of comparing", async () => {
  await withAdapter(async (storage, dir) => {
    await storage.saveHistory(makeHistory());
    const path = join(dir, "history", "e1", "1767323045678-0.json");
    await Deno.writeTextFile(path, "{ torn");
    const error = await assertRejects(() => storage.saveHistory(makeHistory()), CorruptRecordError);
    assertEquals(error.path, path);
    assertInstanceOf(error, CorruptRecordError);
    assertEquals(await Deno.readTextFile(path), "{ torn");
  });
});
