/**
 * Compliance cases: what is saved is what is read back, deep-equal.
 *
 * @module
 */

import type { Execution, History, Program, StorageAdapter } from "../types.ts";
import { assert, assertEquals, checkEach, hasOwn, render } from "./_assert.ts";
import {
  at,
  compareStrings,
  expected,
  makeExecution,
  makeHistory,
  makeProgram,
  withKey,
} from "./_fixtures.ts";
import type { Case } from "./_harness.ts";

async function roundTripProgram(adapter: StorageAdapter, program: Program): Promise<void> {
  await adapter.saveProgram(program);
  assertEquals(
    await adapter.getProgram(program.id),
    expected(program),
    `getProgram(${JSON.stringify(program.id)})`,
  );
}

async function roundTripExecution(adapter: StorageAdapter, execution: Execution): Promise<void> {
  await adapter.saveExecution(execution);
  assertEquals(
    await adapter.getExecution(execution.id),
    expected(execution),
    `getExecution(${JSON.stringify(execution.id)})`,
  );
}

async function roundTripHistory(adapter: StorageAdapter, entry: History): Promise<void> {
  await adapter.saveHistory(entry);
  assertEquals(
    await adapter.getHistory(entry.executionId),
    [expected(entry)],
    `getHistory(${JSON.stringify(entry.executionId)})`,
  );
}

/** Numbers history executions apart: history is append-only, so each round trip needs its own. */
let serial = 0;

/** Saves `value` in every free-form place of all three record kinds and reads it back. */
async function roundTripEverywhere(adapter: StorageAdapter, value: () => unknown): Promise<void> {
  const n = serial++;
  await roundTripProgram(adapter, makeProgram("p-bytecode", { bytecode: value() }));
  await roundTripProgram(adapter, makeProgram("p-extra", { extra: value() }));
  await roundTripExecution(adapter, makeExecution("e-stack", "p1", { stack: [value()] }));
  await roundTripExecution(
    adapter,
    makeExecution("e-variables", "p1", { variables: { value: value() } }),
  );
  await roundTripExecution(adapter, makeExecution("e-extra", "p1", { extra: [value()] }));
  await roundTripHistory(adapter, makeHistory(`h-stack-${n}`, 0, { stack: [value(), value()] }));
  await roundTripHistory(
    adapter,
    makeHistory(`h-variables-${n}`, 0, { variables: { value: value() } }),
  );
  await roundTripHistory(adapter, makeHistory(`h-extra-${n}`, 0, { extra: { value: value() } }));
}

/** A chain of nested objects and arrays with a `Date` at every level. */
function datesAtEveryLevel(depth: number): unknown {
  let value: unknown = at(depth);
  for (let level = depth - 1; level >= 0; level--) {
    value = level % 2 === 0
      ? { level, when: at(level), next: value }
      : [at(level), value, { when: at(level + 1000) }];
  }
  return value;
}

/** Dates at the edges of what `Date` can hold, before the epoch and after 9999. */
const EDGE_DATES: readonly (() => Date)[] = [
  () => new Date(0),
  () => new Date(1),
  () => new Date(-1),
  () => new Date(-8.64e15),
  () => new Date(8.64e15),
  () => new Date("1969-07-20T20:17:40.123Z"),
  () => new Date("1900-02-28T23:59:59.999Z"),
  () => new Date("0005-01-01T00:00:00.001Z"),
  () => new Date("-000001-06-15T12:00:00.000Z"),
  () => new Date("9999-12-31T23:59:59.999Z"),
  () => new Date("+010000-01-01T00:00:00.000Z"),
];

/** Object keys that must survive, whatever the backend does with them. */
const ODD_KEYS: readonly string[] = [
  "$x",
  "$",
  "$$",
  "$date",
  "$escape",
  "$numberLong",
  "a.b",
  ".",
  "..",
  ".a",
  "a.",
  "",
  " ",
  "\u00e9",
  "e\u0301",
  "\u{1f600}",
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

/** An object with every odd key, each holding a different value. */
function oddKeysObject(): Record<string, unknown> {
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

/** User objects that look like the encoded form of some other value. */
const LOOKALIKES: readonly (() => unknown)[] = [
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
  () => ({ $numberDecimal: "1.5" }),
  () => ({ $oid: "507f1f77bcf86cd799439011" }),
  () => ({ $undefined: true }),
  () => ({ $regularExpression: { pattern: "a", options: "" } }),
  () => ({ $binary: { base64: "", subType: "00" } }),
  () => ({ $minKey: 1 }),
  () => ({ $type: "Date", value: "2020-01-01T00:00:00.000Z" }),
  () => ({ __type: "Date", value: "2020-01-01T00:00:00.000Z" }),
  () => ({ _id: "507f1f77bcf86cd799439011" }),
  () => "2020-01-01T00:00:00.000Z",
  () => "$date",
  () => ["$date", "2020-01-01T00:00:00.000Z"],
];

/** Numbers, strings and other primitives at their edges. */
const PRIMITIVES: readonly unknown[] = [
  0,
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
  Number.MAX_VALUE,
  -Number.MAX_VALUE,
  Number.MIN_VALUE,
  Number.EPSILON,
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
  "x".repeat(100_000),
  true,
  false,
  null,
];

/** The round-trip cases. */
export const roundTripCases: readonly Case[] = [
  {
    name: "saveProgram() and getProgram() round-trip a program with only the required fields",
    async run(adapter) {
      const program = makeProgram("p1");
      await roundTripProgram(adapter, program);
      const got = await adapter.getProgram("p1");
      assert(got !== null && !hasOwn(got, "updated"), "getProgram(): `updated` must be absent");
    },
  },
  {
    name: "saveProgram() and getProgram() round-trip every optional and extra field",
    run: (adapter) =>
      roundTripProgram(
        adapter,
        makeProgram("p1", {
          updated: at(1_000),
          bytecode: [
            { op: "PUSH", arg: at(5) },
            [[at(6)], []],
            { nested: { deeper: { when: at(7), list: [1, "two", null, false] } } },
          ],
          tags: ["a", "b"],
          meta: { author: "Ada", reviewed: at(2), score: 4.5, flags: [true, false, null] },
          version: 3,
          archived: false,
          note: null,
        }),
      ),
  },
  {
    name: "saveProgram() round-trips any storable bytecode value",
    async run(adapter) {
      const values: unknown[] = [
        null,
        0,
        -1.5,
        "",
        "PUSH 1\nPRINT",
        true,
        false,
        [],
        {},
        at(3),
        [at(4)],
        { a: at(5) },
        [[[]]],
        { $date: "2020-01-01T00:00:00.000Z" },
      ];
      const programs = values.map((bytecode, i) =>
        makeProgram(`b${String(i).padStart(2, "0")}`, { bytecode })
      );
      await checkEach(programs, (p) => `bytecode ${JSON.stringify(p.bytecode)}`, (p) => {
        return roundTripProgram(adapter, p);
      });
      assertEquals(await adapter.listPrograms(), expected(programs), "listPrograms()");
    },
  },
  {
    name:
      "saveExecution() and getExecution() round-trip an execution with only the required fields",
    async run(adapter) {
      await roundTripExecution(adapter, makeExecution("e1"));
      const got = await adapter.getExecution("e1");
      assert(
        got !== null && !hasOwn(got, "updated") && !hasOwn(got, "error"),
        "getExecution(): `updated` and `error` must be absent",
      );
    },
  },
  {
    name: "saveExecution() and getExecution() round-trip every optional and extra field",
    run: (adapter) =>
      roundTripExecution(
        adapter,
        makeExecution("e1", "p1", {
          state: "error",
          pc: 7,
          error: "Division by zero at pc 7",
          updated: at(2_000),
          stack: [1, "two", at(3), [at(4), { when: at(5) }], null, { a: [] }],
          variables: { x: 1, started: at(6), nested: { list: [at(7)], empty: {} }, none: null },
          output: ["", "x is 1", "\u{1f600}", "\u0000", " trailing "],
          attempts: 2,
          host: { name: "worker-1", since: at(8) },
        }),
      ),
  },
  {
    name: "saveExecution() round-trips every execution state",
    async run(adapter) {
      const states = ["ready", "running", "completed", "error"];
      await checkEach(states, (state) => `state "${state}"`, (state) =>
        roundTripExecution(
          adapter,
          makeExecution(
            `s-${state}`,
            "p1",
            state === "error" ? { state, error: "boom" } : {
              state,
            },
          ),
        ));
    },
  },
  {
    name: "saveHistory() and getHistory() round-trip an entry with extra fields",
    run: (adapter) =>
      roundTripHistory(
        adapter,
        makeHistory("e1", 3, {
          pc: 11,
          instruction: "CALL print",
          stack: [at(1), { a: [at(2)] }, "x", 0, null],
          variables: { t: at(3), list: [[at(4)]], empty: [], obj: {} },
          note: "extra",
          meta: { at: at(5), tags: ["x"] },
        }),
      ),
  },
  {
    name: "saveProgram(), saveExecution() and saveHistory() keep Dates at any depth as Dates",
    run: (adapter) => roundTripEverywhere(adapter, () => datesAtEveryLevel(24)),
  },
  {
    name:
      "saveProgram(), saveExecution() and saveHistory() keep dates before 1970 and after 9999 to the millisecond",
    async run(adapter) {
      await checkEach(EDGE_DATES, (d) => d().toISOString(), async (date) => {
        const id = `d${date().toISOString()}`;
        await roundTripProgram(adapter, makeProgram(id, { created: date(), updated: date() }));
        await roundTripExecution(
          adapter,
          makeExecution(id, "p1", { created: date(), updated: date(), stack: [date()] }),
        );
        await roundTripHistory(
          adapter,
          makeHistory(id, 0, { timestamp: date(), variables: { d: date() } }),
        );
      });
    },
  },
  {
    name: "saveProgram(), saveExecution() and saveHistory() keep object keys that are any string",
    async run(adapter) {
      await checkEach(
        ODD_KEYS,
        (key) => `key ${JSON.stringify(key)}`,
        (key) => roundTripEverywhere(adapter, () => withKey(key, { [key]: [withKey(key, at(1))] })),
      );
      await roundTripEverywhere(adapter, oddKeysObject);
      await roundTripExecution(
        adapter,
        makeExecution("e-keys", "p1", { variables: oddKeysObject() }),
      );
    },
  },
  {
    name:
      "saveProgram(), saveExecution() and saveHistory() keep extra top-level fields of any name",
    async run(adapter) {
      const extras = (): Record<string, unknown> => {
        const out = oddKeysObject();
        // Documented fields must keep their meaning, so only the odd keys are added.
        for (const key of ["id"]) delete out[key];
        return out;
      };
      const withExtras = <T extends object>(record: T): T =>
        Object.defineProperties(record, Object.getOwnPropertyDescriptors(extras()));
      await roundTripProgram(adapter, withExtras(makeProgram("p1")));
      await roundTripExecution(adapter, withExtras(makeExecution("e1")));
      await roundTripHistory(adapter, withExtras(makeHistory("e1", 0)));
    },
  },
  {
    name:
      "saveProgram(), saveExecution() and saveHistory() keep objects that merely look encoded as they are",
    async run(adapter) {
      await checkEach(LOOKALIKES, (make) => render(make()), async (make) => {
        await roundTripEverywhere(adapter, make);
        const value = make();
        // A look-alike object as the whole `variables`, where only an object fits.
        const variables = typeof value === "object" && !Array.isArray(value) ? value : {};
        await roundTripExecution(
          adapter,
          makeExecution("e-whole", "p1", { variables, stack: [make()] }),
        );
      });
      await roundTripProgram(
        adapter,
        makeProgram("p-nested", {
          bytecode: { $escape: { $date: { $escape: LOOKALIKES.map((make) => make()) } } },
        }),
      );
    },
  },
  {
    name:
      "saveProgram(), saveExecution() and saveHistory() drop object properties whose value is undefined",
    async run(adapter) {
      const program = makeProgram("p1", {
        updated: undefined,
        extra: undefined,
        bytecode: { keep: 1, drop: undefined, nested: [{ drop: undefined, keep: at(1) }] },
      });
      const execution = makeExecution("e1", "p1", {
        error: undefined,
        updated: undefined,
        variables: { a: 1, b: undefined, nested: { c: undefined, d: 2 } },
        stack: [{ gone: undefined }],
      });
      const entry = makeHistory("e1", 0, { variables: { x: undefined }, extra: undefined });
      await roundTripProgram(adapter, program);
      await roundTripExecution(adapter, execution);
      await roundTripHistory(adapter, entry);
      const gotProgram = await adapter.getProgram("p1") as unknown as Record<string, unknown>;
      const gotExecution = await adapter.getExecution("e1") as unknown as Record<string, unknown>;
      const [gotEntry] = await adapter.getHistory("e1") as unknown as Record<string, unknown>[];
      for (
        const [label, record, key] of [
          ["program", gotProgram, "updated"],
          ["program", gotProgram, "extra"],
          ["execution", gotExecution, "error"],
          ["execution", gotExecution, "updated"],
          ["history entry", gotEntry, "extra"],
        ] as const
      ) {
        assert(!hasOwn(record, key), `the ${label}'s "${key}" must be absent, not undefined`);
      }
      assert(
        !hasOwn(gotExecution.variables as object, "b"),
        "the execution's variables.b must be absent, not undefined",
      );
    },
  },
  {
    name:
      "saveProgram(), saveExecution() and saveHistory() keep numbers, strings and other primitives exact",
    async run(adapter) {
      await checkEach(
        PRIMITIVES,
        (value) => String(value).slice(0, 40),
        (value) => roundTripEverywhere(adapter, () => value),
      );
      await roundTripExecution(
        adapter,
        makeExecution("e-all", "p1", {
          stack: [...PRIMITIVES],
          variables: Object.fromEntries(PRIMITIVES.map((v, i) => [`v${i}`, v])),
          output: PRIMITIVES.filter((v) => typeof v === "string"),
          pc: Number.MAX_SAFE_INTEGER,
        }),
      );
    },
  },
  {
    name:
      "saveProgram(), saveExecution() and saveHistory() keep empty, deeply nested and large structures",
    async run(adapter) {
      let deep: unknown = [];
      for (let i = 0; i < 100; i++) deep = i % 2 === 0 ? [deep] : { d: deep };
      const wide = Object.fromEntries(
        Array.from({ length: 1_000 }, (_, i) => [`key${i}`, i % 2 === 0 ? i : at(i)]),
      );
      await roundTripEverywhere(adapter, () => []);
      await roundTripEverywhere(adapter, () => ({}));
      await roundTripEverywhere(adapter, () => [[[]], [{}], { a: [] }, { a: {} }]);
      await roundTripEverywhere(adapter, () => expected(deep));
      await roundTripEverywhere(adapter, () => expected(wide));
      await roundTripEverywhere(adapter, () => Array.from({ length: 5_000 }, (_, i) => i));
      await roundTripExecution(
        adapter,
        makeExecution("e-empty", "p1", { stack: [], variables: {}, output: [] }),
      );
      await roundTripHistory(
        adapter,
        makeHistory("h-empty", 0, { stack: [], variables: {}, instruction: "" }),
      );
      await roundTripProgram(adapter, makeProgram("p-empty", { name: "", source: "" }));
    },
  },
  {
    name: "saveProgram(), saveExecution() and saveHistory() accept objects with a null prototype",
    async run(adapter) {
      const bare = (): Record<string, unknown> => {
        const inner = Object.assign(Object.create(null), { when: at(1), list: [1] });
        return Object.assign(Object.create(null), { a: 1, inner });
      };
      await roundTripEverywhere(adapter, bare);
      await roundTripExecution(adapter, makeExecution("e-bare", "p1", { variables: bare() }));
      await roundTripHistory(adapter, makeHistory("h-bare", 0, { variables: bare() }));
    },
  },
  {
    name:
      "saveProgram(), saveExecution() and saveHistory() keep values referenced from several places",
    async run(adapter) {
      const shared = () => {
        const object = { a: 1, when: at(1) };
        const date = at(2);
        const list = [object, date];
        return { first: object, second: object, dates: [date, date], lists: [list, list] };
      };
      await roundTripEverywhere(adapter, shared);
    },
  },
  {
    name: "getProgram(), getExecution() and getHistory() return no fields beyond the saved ones",
    async run(adapter) {
      const program = makeProgram("p1");
      const execution = makeExecution("e1");
      const entry = makeHistory("e1", 0);
      await adapter.saveProgram(program);
      await adapter.saveExecution(execution);
      await adapter.saveHistory(entry);
      const keysOf = (value: unknown) => Object.keys(value as object).sort(compareStrings);
      const checks: [string, unknown, object][] = [
        ["getProgram()", await adapter.getProgram("p1"), program],
        ["listPrograms()[0]", (await adapter.listPrograms())[0], program],
        ["getExecution()", await adapter.getExecution("e1"), execution],
        ["listExecutions()[0]", (await adapter.listExecutions())[0], execution],
        ["getHistory()[0]", (await adapter.getHistory("e1"))[0], entry],
      ];
      for (const [label, got, saved] of checks) {
        assertEquals(keysOf(got), keysOf(saved), `${label}: keys (no _id or other extras)`);
      }
    },
  },
  {
    name: "saveProgram() and saveExecution() replace the whole record, not merge into it",
    async run(adapter) {
      const first = makeProgram("p1", {
        updated: at(1),
        extra: "old",
        bytecode: { old: 1, both: { old: 2 } },
      });
      const second = makeProgram("p1", { name: "New", bytecode: { both: { now: 3 } } });
      await adapter.saveProgram(first);
      await roundTripProgram(adapter, second);
      assertEquals(await adapter.listPrograms(), [expected(second)], "listPrograms()");

      const before = makeExecution("e1", "p1", {
        state: "error",
        error: "old",
        updated: at(1),
        variables: { old: 1 },
        extra: [1],
      });
      const after = makeExecution("e1", "p2", { state: "ready", variables: { now: 1 } });
      await adapter.saveExecution(before);
      await roundTripExecution(adapter, after);
      assertEquals(await adapter.listExecutions(), [expected(after)], "listExecutions()");
      assertEquals(
        await adapter.listExecutions({ programId: "p1" }),
        [],
        "listExecutions() by the old programId",
      );
    },
  },
  {
    name: "listPrograms(), listExecutions() and getHistory() return whole records",
    async run(adapter) {
      const program = makeProgram("p1", { updated: at(1), bytecode: [{ when: at(2) }], x: 1 });
      const execution = makeExecution("e1", "p1", {
        error: "e",
        state: "error",
        variables: { at: at(3) },
        y: [at(4)],
      });
      const entry = makeHistory("e1", 5, { stack: [at(5)], z: { at: at(6) } });
      await adapter.saveProgram(program);
      await adapter.saveExecution(execution);
      await adapter.saveHistory(entry);
      assertEquals(await adapter.listPrograms(), [expected(program)], "listPrograms()");
      assertEquals(await adapter.listExecutions(), [expected(execution)], "listExecutions()");
      assertEquals(
        await adapter.listExecutions({ programId: "p1" }),
        [expected(execution)],
        "listExecutions({ programId })",
      );
      assertEquals(await adapter.getHistory("e1"), [expected(entry)], "getHistory()");
    },
  },
];
