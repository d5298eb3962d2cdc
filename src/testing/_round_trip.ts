/**
 * Compliance cases: what is saved is what is read back, deep-equal.
 *
 * @module
 */

import type { Execution, History, Program, StorageAdapter } from "../types.ts";
import { assert, assertEquals, checkEach, hasOwn, render } from "./_assert.ts";
import { at, expected, makeExecution, makeHistory, makeProgram, withKey } from "./_fixtures.ts";
import type { Case } from "./_types.ts";
import {
  BYTES,
  cvmExtraFields,
  datesAtEveryLevel,
  EDGE_DATES,
  LONE_SURROGATES,
  LOOKALIKES,
  nested,
  ODD_KEYS,
  oddKeysObject,
  PRIMITIVES,
  SPECIAL_NUMBERS,
} from "./_values.ts";

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
        NaN,
        -0,
        new Uint8Array([0x43, 0x56, 0x4d, 0x00, 0xff]),
        [new Uint8Array(0), { code: new Uint8Array([1, 2, 3]) }],
        "\ud800",
      ];
      const programs = values.map((bytecode, i) =>
        makeProgram(`b${String(i).padStart(2, "0")}`, { bytecode })
      );
      await checkEach(programs, (p) => `bytecode ${render(p.bytecode, 60)}`, (p) => {
        return roundTripProgram(adapter, p);
      });
      assertEquals(await adapter.listPrograms(), expected(programs), "listPrograms()");
    },
  },
  {
    name:
      "saveExecution() and getExecution() round-trip an execution with only the required fields",
    async run(adapter) {
      const execution = makeExecution("e1");
      delete execution.output;
      await roundTripExecution(adapter, execution);
      const got = await adapter.getExecution("e1");
      for (const field of ["output", "updated", "error"]) {
        assert(
          got !== null && !hasOwn(got, field),
          `getExecution(): \`${field}\` was not saved, so it must be absent`,
        );
      }
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
    name: "saveProgram() and saveExecution() round-trip null for updated and error",
    async run(adapter) {
      await roundTripProgram(adapter, makeProgram("p1", { updated: null }));
      await roundTripExecution(
        adapter,
        makeExecution("e1", "p1", { state: "RUNNING", error: null, updated: null }),
      );
      const got = await adapter.getExecution("e1");
      assert(got !== null && got.error === null, "getExecution(): error must be null, not absent");
    },
  },
  {
    name: "saveExecution() round-trips any state, the seed's four and the VM's own",
    async run(adapter) {
      const states = [
        "ready",
        "running",
        "completed",
        "error",
        "waiting_cc",
        "READY",
        "RUNNING",
        "AWAITING_COGNITIVE_RESULT",
        "COMPLETED",
        "ERROR",
        "paused",
        "Ready",
        "\u00e9tat",
        "\u{1f600}",
        "a b",
        "$set",
        "a.b",
        "s".repeat(256),
      ];
      await checkEach(
        states,
        (state) => `state ${JSON.stringify(state)}`,
        (state) =>
          roundTripExecution(
            adapter,
            makeExecution(`s-${state}`.slice(0, 256), "p1", {
              state,
              error: state.toLowerCase() === "error" ? "boom" : null,
            }),
          ),
      );
    },
  },
  {
    name:
      "saveExecution() round-trips the extra fields the original CVM writes (ccPrompt, returnValue, heap, iterators, status)",
    async run(adapter) {
      const execution = makeExecution("e1", "p1", { state: "waiting_cc", ...cvmExtraFields() });
      delete execution.output;
      await roundTripExecution(adapter, execution);
      assertEquals(await adapter.listExecutions(), [expected(execution)], "listExecutions()");
      assertEquals(
        await adapter.listExecutions({ state: "waiting_cc" }),
        [expected(execution)],
        'listExecutions({ state: "waiting_cc" })',
      );
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
    name: "saveProgram(), saveExecution() and saveHistory() keep NaN, Infinity, -Infinity and -0",
    async run(adapter) {
      await checkEach(
        SPECIAL_NUMBERS,
        (n) => Object.is(n, -0) ? "-0" : String(n),
        async (n) => {
          await roundTripEverywhere(adapter, () => n);
          await roundTripEverywhere(adapter, () => ({ value: n, list: [n, n] }));
        },
      );
      // In the typed number fields too.
      await checkEach(SPECIAL_NUMBERS, String, async (pc) => {
        const id = Object.is(pc, -0) ? "minus-zero" : String(pc);
        await roundTripExecution(adapter, makeExecution(`pc-${id}`, "p1", { pc }));
        await roundTripHistory(adapter, makeHistory(`pc-${id}`, 0, { pc }));
      });
      // "abc" * 2, 1 / 0: what a VM computes.
      await roundTripExecution(
        adapter,
        makeExecution("e-vm", "p1", { variables: { x: "abc" as unknown as number * 2, y: 1 / 0 } }),
      );
    },
  },
  {
    name: "saveProgram(), saveExecution() and saveHistory() keep Uint8Arrays as Uint8Arrays",
    async run(adapter) {
      await checkEach(BYTES, (b) => b.label, async (bytes) => {
        await roundTripEverywhere(adapter, () => bytes.make());
        await roundTripProgram(adapter, makeProgram("p-whole", { bytecode: bytes.make() }));
      });
      const got = await adapter.getProgram("p-whole");
      const bytecode = got?.bytecode as Uint8Array;
      assert(
        Object.getPrototypeOf(bytecode) === Uint8Array.prototype,
        "getProgram(): bytecode must be a Uint8Array",
      );
      assert(
        bytecode.byteOffset === 0 && bytecode.buffer.byteLength === bytecode.length,
        "getProgram(): a returned Uint8Array must own its buffer, not view a larger one",
      );
    },
  },
  {
    name:
      "saveProgram(), saveExecution() and saveHistory() keep strings with lone surrogates, in values and keys",
    async run(adapter) {
      await checkEach(LONE_SURROGATES, (s) => JSON.stringify(s), async (text) => {
        await roundTripEverywhere(adapter, () => text);
        await roundTripEverywhere(adapter, () => withKey(text, text));
      });
      const half = LONE_SURROGATES[0];
      await roundTripProgram(
        adapter,
        makeProgram("p1", { name: half, source: `print("${half}")` }),
      );
      await roundTripExecution(
        adapter,
        makeExecution("e1", "p1", {
          output: [half, `x${half}`],
          error: `bad ${half}`,
          variables: withKey(half, { [`k${half}`]: half }),
        }),
      );
      await roundTripHistory(adapter, makeHistory("e1", 0, { instruction: `PUSH "${half}"` }));
    },
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
      const deep = nested(100, []);
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
      // As deep as a record may be: the record is level 1, `variables` level 2, and the
      // value under it takes levels 3 to 512.
      await roundTripExecution(
        adapter,
        makeExecution("e-deepest", "p1", { variables: { x: nested(510) } }),
      );
      await roundTripHistory(
        adapter,
        makeHistory("h-deepest", 0, { stack: [nested(510, "leaf")] }),
      );
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
      const keysOf = (value: unknown) => Object.keys(value as object).sort();
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
