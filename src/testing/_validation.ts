/**
 * Compliance cases: bad input throws `ValidationError` and writes nothing.
 *
 * @module
 */

import { StorageError, ValidationError } from "../errors.ts";
import type { Execution, History, Program, StorageAdapter } from "../types.ts";
import { assert, assertEquals, assertRejects, checkEach } from "./_assert.ts";
import { at, expected, makeExecution, makeHistory, makeProgram } from "./_fixtures.ts";
import { nested, UNSTORABLE } from "./_values.ts";
import type { Case } from "./_types.ts";

type Fields = Record<string, unknown>;

/** Turns a valid record into a broken one. */
interface Breakage {
  label: string;
  apply(record: Fields): unknown;
}

function set(key: string, value: unknown, label?: string): Breakage {
  return {
    label: label ?? `${key} is ${describeValue(value)}`,
    apply: (record) => ({ ...record, [key]: value }),
  };
}

function without(key: string): Breakage {
  return {
    label: `${key} is missing`,
    apply(record) {
      const copy = { ...record };
      delete copy[key];
      return copy;
    },
  };
}

function describeValue(value: unknown): string {
  if (typeof value === "string") {
    return value.length > 20 ? `a string of ${value.length} code units` : JSON.stringify(value);
  }
  if (typeof value === "bigint") return `${value}n`;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? "an invalid Date" : "a Date";
  if (Array.isArray(value)) return `the array ${JSON.stringify(value)}`;
  if (typeof value === "object" && value !== null) {
    const proto = Object.getPrototypeOf(value);
    if (proto !== null && proto !== Object.prototype) {
      return `an instance of ${proto.constructor.name}`;
    }
    return `the object ${JSON.stringify(value)}`;
  }
  return String(value);
}

const ISO = "2024-01-02T03:04:05.678Z";

function sparse(): unknown[] {
  const array: unknown[] = ["a"];
  array[2] = "c";
  return array;
}

/** Wrong `created` / `updated` values, shared by programs and executions. */
const DATE_BREAKAGES: readonly Breakage[] = [
  without("created"),
  set("created", undefined),
  set("created", ISO, "created is an ISO string"),
  set("created", Date.parse(ISO), "created is epoch milliseconds"),
  set("created", null),
  set("created", new Date(NaN)),
  set("created", { $date: ISO }),
  set("updated", ISO, "updated is an ISO string"),
  set("updated", Date.parse(ISO), "updated is epoch milliseconds"),
  set("updated", new Date(NaN)),
  set("updated", { $date: ISO }),
  set("created", Object.assign(new Date(0), { zone: "UTC" }), "created has an own property"),
  set(
    "created",
    Object.assign(new Date(0), { toISOString: () => ISO }),
    "created has its own toISOString",
  ),
  set("created", new (class When extends Date {})(0), "created is a Date subclass"),
];

/** Wrong `stack` / `variables` values, shared by executions and history entries. */
const STATE_BREAKAGES: readonly Breakage[] = [
  without("stack"),
  set("stack", {}),
  set("stack", "[]"),
  set("stack", null),
  set("stack", { length: 0 }),
  set("stack", [1, undefined], "stack holds undefined"),
  set("stack", sparse(), "stack is a sparse array"),
  without("variables"),
  set("variables", []),
  set("variables", [["x", 1]]),
  set("variables", null),
  set("variables", "x"),
  set("variables", 1),
  set("variables", new Map([["x", 1]])),
  set("variables", new Date(0)),
];

const PROGRAM_BREAKAGES: readonly Breakage[] = [
  without("id"),
  set("id", 42),
  set("id", null),
  without("name"),
  set("name", 42),
  set("name", null),
  set("name", ["Hello"]),
  without("source"),
  set("source", 42),
  set("source", null),
  set("source", { text: "" }),
  ...DATE_BREAKAGES,
];

const EXECUTION_BREAKAGES: readonly Breakage[] = [
  without("id"),
  set("id", 42),
  without("programId"),
  set("programId", 42),
  set("programId", null),
  set("programId", ""),
  set("programId", "x".repeat(257)),
  set("programId", "p\udc00", "programId has a lone surrogate"),
  without("state"),
  set("state", ""),
  set("state", 1),
  set("state", null),
  set("state", ["READY"]),
  set("state", { name: "READY" }),
  set("state", "s".repeat(257)),
  set("state", "READY\ud800", "state has a lone surrogate"),
  without("pc"),
  set("pc", "0"),
  set("pc", null),
  set("pc", BigInt(1)),
  set("pc", { $numberDouble: "NaN" }),
  ...STATE_BREAKAGES,
  set("output", "line"),
  set("output", null),
  set("output", { 0: "line" }),
  set("output", [1]),
  set("output", [null]),
  set("output", [["a"]]),
  set("output", ["ok", undefined], "output holds undefined"),
  set("output", [new Date(0)], "output holds a Date"),
  set("output", [new Uint8Array(1)], "output holds a Uint8Array"),
  set("error", 42),
  set("error", {}),
  set("error", ["boom"]),
  set("error", new Error("boom")),
  ...DATE_BREAKAGES,
];

const HISTORY_BREAKAGES: readonly Breakage[] = [
  without("executionId"),
  set("executionId", 42),
  set("executionId", null),
  set("executionId", ""),
  without("step"),
  set("step", 1.5),
  set("step", -0),
  set("step", { step: 1 }),
  set("step", "1"),
  without("pc"),
  set("pc", "0"),
  set("pc", null),
  without("instruction"),
  set("instruction", 42),
  set("instruction", null),
  set("instruction", ["PUSH"]),
  ...STATE_BREAKAGES,
  without("timestamp"),
  set("timestamp", new Date(NaN)),
  set("timestamp", ISO, "timestamp is an ISO string"),
  set(
    "timestamp",
    Object.assign(new Date(0), { toISOString: () => ISO }),
    "timestamp has its own toISOString",
  ),
];

/** Records that are not objects at all (or not plain ones). */
function notRecords(valid: Fields): readonly { label: string; value: unknown }[] {
  return [
    { label: "undefined", value: undefined },
    { label: "null", value: null },
    { label: "a string", value: "p1" },
    { label: "a number", value: 42 },
    { label: "a boolean", value: true },
    { label: "an empty object", value: {} },
    { label: "an array", value: [] },
    { label: "an array holding the record", value: [valid] },
    { label: "a Map holding the fields", value: new Map(Object.entries(valid)) },
    { label: "a Date", value: new Date(0) },
    { label: "a Uint8Array", value: new Uint8Array(2) },
    {
      label: "a revoked proxy",
      value: (() => {
        const { proxy, revoke } = Proxy.revocable(valid, {});
        revoke();
        return proxy;
      })(),
    },
    {
      label: "a proxy whose get trap throws",
      value: new Proxy(valid, {
        get() {
          throw new Error("get trap failed");
        },
      }),
    },
    { label: "a JSON string of the record", value: JSON.stringify(valid) },
    {
      label: "a class instance holding the fields",
      value: Object.assign(new (class ProgramModel {})(), valid),
    },
  ];
}

/** Where an unstorable value is put in each record kind. */
interface Placement {
  label: string;
  apply(record: Fields, value: unknown): Fields;
}

const PROGRAM_PLACES: readonly Placement[] = [
  { label: "as the bytecode", apply: (r, v) => ({ ...r, bytecode: v }) },
  { label: "in a bytecode array", apply: (r, v) => ({ ...r, bytecode: [{ op: "PUSH" }, v] }) },
  {
    label: "deep in the bytecode",
    apply: (r, v) => ({ ...r, bytecode: { a: [{ b: { c: [0, v] } }] } }),
  },
  { label: "as an extra field", apply: (r, v) => ({ ...r, extra: v }) },
  { label: "inside an extra field", apply: (r, v) => ({ ...r, meta: { list: [0, { v }] } }) },
];

const STATE_PLACES: readonly Placement[] = [
  { label: "in the stack", apply: (r, v) => ({ ...r, stack: [1, v] }) },
  { label: "deep in the stack", apply: (r, v) => ({ ...r, stack: [[{ a: [v] }]] }) },
  { label: "as a variable", apply: (r, v) => ({ ...r, variables: { ok: 1, x: v } }) },
  {
    label: "deep in the variables",
    apply: (r, v) => ({ ...r, variables: { x: { y: [{ z: v }] } } }),
  },
  { label: "as an extra field", apply: (r, v) => ({ ...r, extra: v }) },
  { label: "inside an extra field", apply: (r, v) => ({ ...r, meta: [{ v }] }) },
  {
    label: "under a key that starts with $",
    apply: (r, v) => ({ ...r, variables: { $set: { "a.b": v } } }),
  },
];

/** How one record kind is saved and what its stored state looks like. */
interface Kind {
  method: string;
  /** A valid record; `existing` picks the key of the record already stored. */
  valid(existing: boolean): Fields;
  save(adapter: StorageAdapter, record: unknown): Promise<void>;
  /** Everything of this kind that is stored, for "nothing was written" checks. */
  snapshot(adapter: StorageAdapter): Promise<unknown>;
  breakages: readonly Breakage[];
  places: readonly Placement[];
}

const PROGRAM_KIND: Kind = {
  method: "saveProgram()",
  valid: (existing) => makeProgram(existing ? "p-stored" : "p-new") as unknown as Fields,
  save: (adapter, record) => adapter.saveProgram(record as Program),
  snapshot: (adapter) => adapter.listPrograms(),
  breakages: PROGRAM_BREAKAGES,
  places: PROGRAM_PLACES,
};

const EXECUTION_KIND: Kind = {
  method: "saveExecution()",
  valid: (existing) => makeExecution(existing ? "e-stored" : "e-new", "p1") as unknown as Fields,
  save: (adapter, record) => adapter.saveExecution(record as Execution),
  snapshot: (adapter) => adapter.listExecutions(),
  breakages: EXECUTION_BREAKAGES,
  places: STATE_PLACES,
};

const HISTORY_KIND: Kind = {
  method: "saveHistory()",
  // An entry with the stored entry's key, or a new key in the same execution.
  valid: (existing) => makeHistory("h1", existing ? 0 : 1) as unknown as Fields,
  save: (adapter, record) => adapter.saveHistory(record as History),
  snapshot: (adapter) => adapter.getHistory("h1"),
  breakages: HISTORY_BREAKAGES,
  places: STATE_PLACES,
};

/** Stores one valid record of `kind`, so attempts can be checked against it. */
async function storeOriginal(adapter: StorageAdapter, kind: Kind): Promise<unknown> {
  const original = {
    ...kind.valid(true),
    // Distinctive content, so a partial overwrite shows.
    meta: { original: true, at: at(42) },
  };
  await kind.save(adapter, original);
  const stored = await kind.snapshot(adapter);
  assertEquals(stored, [expected(original)], `${kind.method} of a valid record`);
  return stored;
}

/** Attempts to save `record`: it must be rejected and nothing stored may change. */
async function expectRejected(
  adapter: StorageAdapter,
  kind: Kind,
  record: unknown,
  before: unknown,
): Promise<void> {
  try {
    const error = await assertRejects(
      () => kind.save(adapter, record),
      ValidationError,
      "VALIDATION",
      kind.method,
    );
    assert(error instanceof StorageError, "ValidationError must extend StorageError");
  } finally {
    assertEquals(await kind.snapshot(adapter), before, `${kind.method} wrote something`);
  }
}

/** Tries every broken record in both modes: a new key, and the key already stored. */
async function checkBroken(
  adapter: StorageAdapter,
  kind: Kind,
  cases: readonly { label: string; build(valid: Fields): unknown }[],
): Promise<void> {
  const before = await storeOriginal(adapter, kind);
  const attempts = cases.flatMap((c) => [
    { label: `${c.label} (new record)`, build: () => c.build(kind.valid(false)) },
    { label: `${c.label} (replacing the stored record)`, build: () => c.build(kind.valid(true)) },
  ]);
  await checkEach(attempts, (a) => a.label, async (attempt) => {
    try {
      await expectRejected(adapter, kind, attempt.build(), before);
    } catch (error) {
      // Put the original back, so one broken case does not fail the ones after it.
      await restore(adapter, kind, before);
      throw error;
    }
  });
}

async function restore(adapter: StorageAdapter, kind: Kind, before: unknown): Promise<void> {
  try {
    if (kind === HISTORY_KIND) {
      await adapter.deleteExecution("h1");
      for (const entry of before as History[]) await adapter.saveHistory(entry);
    } else {
      for (const record of await kind.snapshot(adapter) as { id: string }[]) {
        if (kind === PROGRAM_KIND) await adapter.deleteProgram(record.id);
        else await adapter.deleteExecution(record.id);
      }
      for (const record of before as unknown[]) await kind.save(adapter, record);
    }
  } catch {
    // The failure being reported matters more than a failed clean-up.
  }
}

function shapeCases(kind: Kind): Case[] {
  return [
    {
      name: `${kind.method} rejects a record that is not a plain object`,
      async run(adapter) {
        const before = await storeOriginal(adapter, kind);
        const cases = notRecords(kind.valid(true));
        await checkEach(cases, (c) => c.label, async (c) => {
          await expectRejected(adapter, kind, c.value, before);
        });
      },
    },
    {
      name: `${kind.method} rejects a record of the wrong shape and writes nothing`,
      run: (adapter) =>
        checkBroken(
          adapter,
          kind,
          kind.breakages.map((b) => ({ label: b.label, build: (valid) => b.apply(valid) })),
        ),
    },
    {
      name: `${kind.method} rejects values that cannot round-trip, anywhere in the record`,
      run: (adapter) =>
        checkBroken(
          adapter,
          kind,
          kind.places.flatMap((place) =>
            UNSTORABLE.map((value) => ({
              label: `${value.label} ${place.label}`,
              build: (valid: Fields) => place.apply(valid, value.make()),
            }))
          ),
        ),
    },
  ];
}

/** A record nested `depth` levels deep (the record itself is level 1). */
function deepRecord(kind: Kind, depth: number): Fields {
  return { ...kind.valid(false), stack: [nested(depth - 2, "leaf")] };
}

/** The validation cases. */
export const validationCases: readonly Case[] = [
  ...shapeCases(PROGRAM_KIND),
  ...shapeCases(EXECUTION_KIND),
  ...shapeCases(HISTORY_KIND),
  {
    name: "saveExecution() and saveHistory() accept records 512 levels deep and reject deeper ones",
    async run(adapter) {
      for (const kind of [EXECUTION_KIND, HISTORY_KIND]) {
        const before = await storeOriginal(adapter, kind);
        await expectRejected(adapter, kind, deepRecord(kind, 513), before);
        await kind.save(adapter, deepRecord(kind, 512));
      }
    },
  },
];
