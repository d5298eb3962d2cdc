// The bad-input matrix: every invalid input class of the contract (ids, shapes, values) for
// every write method throws ValidationError before any I/O, and leaves the data directory
// byte-for-byte unchanged.

import { assert, assertEquals, assertInstanceOf, assertMatch } from "@std/assert";
import { FileStorageAdapter, MemoryStorageAdapter, StorageError, ValidationError } from "../mod.ts";
import { fs } from "../src/file/_fs.ts";
import { makeExecution, makeHistory, makeProgram, snapshotDir, withTempDir } from "./_utils.ts";

type Method = "saveProgram" | "saveExecution" | "saveHistory";
type Fields = Record<string, unknown>;

const BASE: Record<Method, () => Fields> = {
  saveProgram: () => makeProgram() as unknown as Fields,
  saveExecution: () => makeExecution() as unknown as Fields,
  saveHistory: () => makeHistory() as unknown as Fields,
};
const METHODS = Object.keys(BASE) as Method[];

interface Case {
  method: Method;
  name: string;
  input: () => unknown;
}

const cases: Case[] = [];
function add(method: Method, name: string, input: () => unknown): void {
  cases.push({ method, name, input });
}
/** The base record with `field` replaced (or removed, for `undefined`). */
function withField(method: Method, field: string, value: unknown): Fields {
  const record = BASE[method]();
  if (value === undefined) delete record[field];
  else record[field] = value;
  return record;
}

// --- The record itself is not a record object. --------------------------------------------

class Imitation {
  constructor(fields: Fields) {
    Object.assign(this, fields);
  }
}
const NOT_RECORDS: [string, (method: Method) => unknown][] = [
  ["undefined", () => undefined],
  ["null", () => null],
  ["a string", () => "p1"],
  ["a number", () => 1],
  ["a boolean", () => true],
  ["a bigint", () => 1n],
  ["a symbol", () => Symbol("p1")],
  ["a function", () => () => {}],
  ["an array", () => []],
  ["an array holding a valid record", (m) => [BASE[m]()]],
  ["a Date", () => new Date()],
  ["a Map of the fields", (m) => new Map(Object.entries(BASE[m]()))],
  ["a class instance with valid fields", (m) => new Imitation(BASE[m]())],
];
for (const method of METHODS) {
  for (const [name, input] of NOT_RECORDS) add(method, `record is ${name}`, () => input(method));
}

// --- Ids. -----------------------------------------------------------------------------------

const BAD_IDS: [string, unknown][] = [
  ["missing", undefined],
  ["null", null],
  ["a number", 1],
  ["zero", 0],
  ["a boolean", false],
  ["a bigint", 1n],
  ["a symbol", Symbol("id")],
  ["an object", { id: "p1" }],
  ["an array", ["p1"]],
  ["a String object", new String("p1")],
  ["a Date", new Date()],
  ["empty", ""],
  ["257 code units", "x".repeat(257)],
  ["257 code units ending in an astral character", `${"x".repeat(255)}😀`],
  ["a lone high surrogate", "\uD800"],
  ["a lone low surrogate", "a\uDC00b"],
  ["a reversed surrogate pair", "\uDE00\uD83D"],
  ["a lone surrogate after 255 characters", `${"x".repeat(255)}\uD83D`],
];
const ID_FIELDS: Record<Method, string[]> = {
  saveProgram: ["id"],
  saveExecution: ["id", "programId"],
  saveHistory: ["executionId"],
};
for (const method of METHODS) {
  for (const field of ID_FIELDS[method]) {
    for (const [name, id] of BAD_IDS) {
      add(method, `${field} is ${name}`, () => withField(method, field, id));
    }
    add(method, `${field} is not enumerable`, () => {
      const record = BASE[method]();
      Object.defineProperty(record, field, { value: record[field], enumerable: false });
      return record;
    });
    add(method, `${field} is a getter that throws`, () => {
      const record = BASE[method]();
      Object.defineProperty(record, field, {
        get: () => {
          throw new Error("no id today");
        },
        enumerable: true,
      });
      return record;
    });
  }
}

// --- Shapes: a missing or mistyped documented field. ------------------------------------------

const INVALID_DATE = () => new Date(Number.NaN);
const DATE_ISO = "2026-01-02T03:04:05.678Z";
const BAD_DATES: [string, () => unknown][] = [
  ["an ISO string", () => DATE_ISO],
  ["a number", () => 1767323045678],
  ["null", () => null],
  ["an invalid Date", INVALID_DATE],
  ["a {$date} object", () => ({ $date: DATE_ISO })],
];
/** Optional dates may be absent or null, but not anything else. */
const BAD_OPTIONAL_DATES = BAD_DATES.filter(([name]) => name !== "null");
const BAD_NUMBERS: [string, () => unknown][] = [
  ["a string", () => "1"],
  ["null", () => null],
  ["a bigint", () => 1n],
  ["a boxed Number", () => new Number(1)],
];
const BAD_STATES: [string, () => unknown][] = [
  ["empty", () => ""],
  ["null", () => null],
  ["a number", () => 1],
  ["257 code units", () => "S".repeat(257)],
  ["a lone surrogate", () => "READY\uD800"],
];
const SHAPES: Record<Method, [string, [string, () => unknown][]][]> = {
  saveProgram: [
    ["name", [["a number", () => 1], ["null", () => null]]],
    ["source", [["a number", () => 1], ["an array", () => ["PUSH 1"]]]],
    ["bytecode", []],
    ["created", BAD_DATES],
    ["updated", BAD_OPTIONAL_DATES],
  ],
  saveExecution: [
    ["state", BAD_STATES],
    ["pc", BAD_NUMBERS],
    ["stack", [["an object", () => ({})], ["a string", () => "[]"], ["null", () => null]]],
    [
      "variables",
      [["an array", () => []], ["null", () => null], ["a string", () => "x"], [
        "a Date",
        () => new Date(),
      ]],
    ],
    [
      "output",
      [
        ["a string", () => "hello"],
        ["numbers", () => [1]],
        ["a null line", () => ["a", null]],
        ["null", () => null],
      ],
    ],
    ["error", [["a number", () => 1], ["an Error", () => new Error("x")], ["false", () => false]]],
    ["created", BAD_DATES],
    ["updated", BAD_OPTIONAL_DATES],
  ],
  saveHistory: [
    [
      "step",
      [
        ["-0", () => -0],
        ["fractional", () => 1.5],
        ["a string", () => "1"],
        ["NaN", () => Number.NaN],
        ["Infinity", () => Infinity],
        ["unsafe", () => 2 ** 53],
        ["unsafe and negative", () => -(2 ** 53)],
        ["an object", () => ({ valueOf: () => 1 })],
        ["null", () => null],
        ["a bigint", () => 1n],
      ],
    ],
    ["pc", BAD_NUMBERS],
    ["instruction", [["a number", () => 1], ["null", () => null]]],
    ["stack", [["an object", () => ({})], ["null", () => null]]],
    ["variables", [["an array", () => []], ["null", () => null]]],
    ["timestamp", BAD_DATES],
  ],
};
const OPTIONAL = new Set(["updated", "error", "output"]);
for (const method of METHODS) {
  for (const [field, values] of SHAPES[method]) {
    if (!OPTIONAL.has(field)) {
      add(method, `${field} is missing`, () => withField(method, field, undefined));
    }
    for (const [name, value] of values) {
      add(method, `${field} is ${name}`, () => withField(method, field, value()));
    }
  }
}

// --- Values that cannot round-trip, at every depth and in every free-form field. -------------

class Point {
  x = 1;
}
const circularObject = () => {
  const o: Fields = { a: 1 };
  o.self = o;
  return o;
};
const circularArray = () => {
  const a: unknown[] = [1];
  a.push([a]);
  return a;
};
const BAD_VALUES: [string, () => unknown][] = [
  ["a function", () => function f() {}],
  ["an arrow function", () => () => 1],
  ["an async function", () => async () => {}],
  ["a class", () => Point],
  ["a symbol", () => Symbol("s")],
  ["a BigInt", () => 10n],
  ["undefined inside an array", () => [1, undefined, 3]],
  // deno-lint-ignore no-sparse-arrays
  ["a hole in a sparse array", () => [1, , 3]],
  ["a Map", () => new Map([["a", 1]])],
  ["a Set", () => new Set([1])],
  ["a RegExp", () => /x/],
  ["a Uint8Array subclass", () => new (class Bytes extends Uint8Array {})(2)],
  ["a Uint16Array", () => new Uint16Array(2)],
  ["a Date subclass", () => new (class Day extends Date {})(0)],
  ["a Date with its own toISOString", () => {
    const date = new Date(0);
    Object.defineProperty(date, "toISOString", { value: () => "never", enumerable: false });
    return date;
  }],
  ["an array with an extra property", () => Object.assign([1, 2], { extra: true })],
  ["a getter that throws", () =>
    Object.defineProperty({}, "x", {
      get: () => {
        throw new Error("boom");
      },
      enumerable: true,
    })],
  ["an ArrayBuffer", () => new ArrayBuffer(2)],
  ["an Error", () => new Error("boom")],
  ["a URL", () => new URL("https://example.com/")],
  ["a Promise", () => Promise.resolve(1)],
  ["a WeakMap", () => new WeakMap()],
  ["a boxed String", () => new String("s")],
  ["a boxed Number", () => new Number(1)],
  ["a boxed Boolean", () => new Boolean(true)],
  ["a class instance", () => new Point()],
  ["an object with a symbol key", () => ({ [Symbol("k")]: 1 })],
  ["an invalid Date", INVALID_DATE],
  ["a circular object", circularObject],
  ["a circular array", circularArray],
  ["a value nested 100,000 deep", () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    return deep;
  }],
];
/** Where a bad value goes: free-form fields, an extra field, and deep inside each. */
const SLOTS: Record<Method, [string, (record: Fields, value: unknown) => void][]> = {
  saveProgram: [
    ["bytecode", (r, v) => r.bytecode = v],
    ["bytecode[1].arg", (r, v) => r.bytecode = [{ op: "PUSH" }, { op: "PUSH", arg: v }]],
    ["an extra field", (r, v) => r.extra = { list: [[v]] }],
  ],
  saveExecution: [
    ["stack[0]", (r, v) => r.stack = [v]],
    ["variables.x", (r, v) => r.variables = { x: v }],
    ["variables.a.b[2]", (r, v) => r.variables = { a: { b: [0, 1, v] } }],
    ["an extra field", (r, v) => r.meta = v],
  ],
  saveHistory: [
    ["stack[1]", (r, v) => r.stack = [0, v]],
    ["variables.x", (r, v) => r.variables = { x: { y: v } }],
    ["an extra field", (r, v) => r["$weird.key"] = v],
  ],
};
for (const method of METHODS) {
  for (const [slot, put] of SLOTS[method]) {
    for (const [name, value] of BAD_VALUES) {
      add(method, `${slot} is ${name}`, () => {
        const record = BASE[method]();
        put(record, value());
        return record;
      });
    }
  }
  add(method, "the record refers back to itself", () => {
    const record = BASE[method]();
    record.self = record;
    return record;
  });
  add(method, "the record has a symbol key", () => ({ ...BASE[method](), [Symbol("k")]: 1 }));
  add(method, "a field is a getter that is invalid on its first read", () => {
    const record = BASE[method]();
    const field = method === "saveHistory" ? "timestamp" : "created";
    const values = ["not a date", record[field]];
    Object.defineProperty(record, field, {
      get: () => values.length > 1 ? values.shift() : values[0],
      enumerable: true,
    });
    return record;
  });
}

/** Records every call made through the `fs` seam while `fn` runs. */
async function fsCalls(fn: () => Promise<void>): Promise<string[]> {
  const calls: string[] = [];
  const saved = { ...fs };
  for (const key of Object.keys(fs) as (keyof typeof fs)[]) {
    const original = saved[key] as (...args: unknown[]) => unknown;
    (fs as Record<string, unknown>)[key] = (...args: unknown[]) => {
      calls.push(`${key}(${String(args[0])})`);
      return original(...args);
    };
  }
  try {
    await fn();
  } finally {
    Object.assign(fs, saved);
  }
  return calls;
}

Deno.test(`FileStorageAdapter rejects ${cases.length} bad inputs with ValidationError, writing nothing`, async () => {
  const perMethod = Object.fromEntries(
    METHODS.map((m) => [m, cases.filter((c) => c.method === m).length]),
  );
  console.log(`bad inputs tried: ${cases.length} (${JSON.stringify(perMethod)})`);
  await withTempDir(async (dir) => {
    const storage = new FileStorageAdapter(dir);
    await storage.connect();
    // Records with the same ids and history key exist, so a write would be visible.
    await storage.saveProgram(makeProgram());
    await storage.saveExecution(makeExecution());
    await storage.saveHistory(makeHistory());
    const before = await snapshotDir(dir);
    for (const { method, name, input } of cases) {
      const label = `${method}(): ${name}`;
      let thrown: unknown;
      const calls = await fsCalls(async () => {
        try {
          // deno-lint-ignore no-explicit-any
          await (storage[method] as (record: any) => Promise<void>)(input());
        } catch (error) {
          thrown = error;
        }
      });
      assert(thrown !== undefined, `${label}: accepted`);
      assertInstanceOf(thrown, ValidationError, `${label}: ${String(thrown)}`);
      const error = thrown as ValidationError;
      assertInstanceOf(error, StorageError);
      assertEquals(error.code, "VALIDATION", label);
      assertMatch(error.message, /^Cannot save (program|execution|history)/, label);
      assertEquals(calls, [], `${label}: touched the file system`);
      assertEquals(await snapshotDir(dir), before, `${label}: changed the data directory`);
    }
    assertEquals(await storage.getProgram("p1"), makeProgram());
    assertEquals(await storage.getExecution("e1"), makeExecution());
    assertEquals(await storage.getHistory("e1"), [makeHistory()]);
  });
});

Deno.test("FileStorageAdapter accepts the edge cases that are valid input", async () => {
  await withTempDir(async (dir) => {
    const storage = new FileStorageAdapter({ dataDir: dir, fsync: false });
    await storage.connect();
    // Not bad input: a null-prototype record, undefined properties (dropped, as in JSON),
    // a record that looks like an encoded value, and -0 (kept, as every number is).
    const bare = Object.assign(Object.create(null), makeProgram({ id: "bare" }));
    await storage.saveProgram(bare);
    assertEquals(await storage.getProgram("bare"), makeProgram({ id: "bare" }));
    await storage.saveExecution(
      makeExecution({ error: undefined, updated: undefined, x: undefined }),
    );
    assertEquals(await storage.getExecution("e1"), makeExecution());
    await storage.saveHistory(makeHistory({ variables: { $date: "not a date" }, stack: [-0] }));
    const [entry] = await storage.getHistory("e1");
    assertEquals(entry.variables, { $date: "not a date" });
    assert(Object.is(entry.stack[0], -0));
    const proxy = new Proxy(makeProgram({ id: "proxy" }), {});
    await storage.saveProgram(proxy);
    assertEquals(await storage.getProgram("proxy"), makeProgram({ id: "proxy" }));
    // -0 comes back as -0 from the memory backend too, so the backends agree.
    const memory = new MemoryStorageAdapter();
    await memory.connect();
    await memory.saveProgram(makeProgram({ bytecode: [-0] }));
    assert(Object.is(((await memory.getProgram("p1"))?.bytecode as number[])[0], -0));
  });
});

Deno.test("FileStorageAdapter.saveHistory() reads each field once and stores what it read", async () => {
  await withTempDir(async (dir) => {
    const storage = new FileStorageAdapter({ dataDir: dir, fsync: false });
    await storage.connect();
    // Each read answers a new valid step: the entry is filed under the one step it read.
    let reads = 0;
    const entry = makeHistory() as unknown as Fields;
    Object.defineProperty(entry, "step", { get: () => 7 + reads++, enumerable: true });
    await storage.saveHistory(entry as never);
    assertEquals(reads, 1);
    assertEquals(await storage.getHistory("e1"), [makeHistory({ step: 7 })]);
  });
});
