/**
 * Compliance cases: history is an append-only log, ordered by step, then timestamp.
 *
 * @module
 */

import { ConflictError, StorageError, ValidationError } from "../errors.ts";
import type { History, StorageAdapter } from "../types.ts";
import { assert, assertEquals, assertRejects, checkEach, describeError } from "./_assert.ts";
import { at, expected, makeHistory, shuffled } from "./_fixtures.ts";
import type { Case } from "./_types.ts";

async function saveAll(adapter: StorageAdapter, entries: readonly History[]): Promise<void> {
  for (const entry of entries) await adapter.saveHistory(entry);
}

/** Sorts entries as `getHistory` must: by step, then by timestamp. */
function ordered(entries: readonly History[]): History[] {
  return expected(
    [...entries].sort((a, b) => a.step - b.step || a.timestamp.getTime() - b.timestamp.getTime()),
  );
}

/** A readable summary of entries' keys, for failure messages. */
function keys(entries: readonly History[]): string {
  return entries.map((e) => `${e.step}@${e.timestamp.getTime()}`).join(", ");
}

async function expectHistory(
  adapter: StorageAdapter,
  executionId: string,
  want: readonly History[],
  context: string,
): Promise<void> {
  const got = await adapter.getHistory(executionId);
  assertEquals(
    got,
    want,
    `${context}: getHistory(${JSON.stringify(executionId)}) (expected order ${keys(want)}; ` +
      `got ${Array.isArray(got) ? keys(got) : String(got)})`,
  );
}

/** Steps that are not safe integers (or are `-0`, which no integer key can hold). */
const BAD_STEPS: readonly { label: string; step: unknown }[] = [
  { label: "1.5", step: 1.5 },
  { label: "-0.5", step: -0.5 },
  { label: "0.1", step: 0.1 },
  { label: "-0", step: -0 },
  { label: "NaN", step: NaN },
  { label: "Infinity", step: Infinity },
  { label: "-Infinity", step: -Infinity },
  { label: "2 ** 53", step: 2 ** 53 },
  { label: "-(2 ** 53)", step: -(2 ** 53) },
  { label: "Number.MAX_VALUE", step: Number.MAX_VALUE },
  { label: 'the string "1"', step: "1" },
  { label: "null", step: null },
  { label: "undefined", step: undefined },
  { label: "a BigInt", step: BigInt(1) },
  { label: "a boxed number", step: Object(1) },
  { label: "an object", step: { step: 1 } },
  { label: "an array", step: [1] },
  { label: "an encoded number", step: { $numberInt: "1" } },
  { label: "a Date", step: new Date(1) },
];

/** Timestamps that are not valid `Date`s. */
const BAD_TIMESTAMPS: readonly { label: string; timestamp: unknown }[] = [
  { label: "an invalid Date", timestamp: new Date(NaN) },
  { label: "an ISO string", timestamp: "2024-01-02T03:04:05.678Z" },
  { label: "epoch milliseconds", timestamp: 1_700_000_000_000 },
  { label: "null", timestamp: null },
  { label: "undefined", timestamp: undefined },
  { label: "an encoded date", timestamp: { $date: "2024-01-02T03:04:05.678Z" } },
  { label: "a date-like object", timestamp: { getTime: () => 0 } },
];

/** The history cases. */
export const historyCases: readonly Case[] = [
  {
    name: "getHistory() returns entries ascending by step in numeric order",
    async run(adapter) {
      const steps = [10, 2, 1, 0, 100, 20, 3, 9, 11, 1000, 99];
      // Later steps get earlier timestamps, so ordering by timestamp gives the wrong answer.
      const entries = steps.map((step) => makeHistory("e1", step, { timestamp: at(-step) }));
      await saveAll(adapter, entries);
      await expectHistory(adapter, "e1", ordered(entries), "steps saved out of order");
    },
  },
  {
    name: "getHistory() orders entries of the same step by timestamp",
    async run(adapter) {
      // Numeric, not textual, order: 999 < 1000 < 10000, and negative times first.
      const times = [1000, -5000, 10000, 0, 999, -10, 1e12, -1e12, 1, 100];
      const entries = times.map((t, i) => makeHistory("e1", 4, { timestamp: new Date(t), pc: i }));
      await saveAll(adapter, entries);
      await expectHistory(adapter, "e1", ordered(entries), "one step at many timestamps");
    },
  },
  {
    name: "getHistory() orders by step first, then by timestamp",
    async run(adapter) {
      const entries = [
        makeHistory("e1", 5, { timestamp: at(20) }),
        makeHistory("e1", 5, { timestamp: at(10) }),
        makeHistory("e1", 4, { timestamp: at(30) }),
        makeHistory("e1", 10, { timestamp: at(1) }),
        makeHistory("e1", 10, { timestamp: at(-1) }),
        makeHistory("e1", 0, { timestamp: at(40) }),
      ];
      await saveAll(adapter, entries);
      await expectHistory(adapter, "e1", ordered(entries), "steps and timestamps mixed");
    },
  },
  {
    name: "getHistory() returns a long history completely and in order",
    async run(adapter) {
      const entries = Array.from(
        { length: 150 },
        (_, i) => makeHistory("e1", Math.floor(i / 2), { timestamp: at((i * 7919) % 1000) }),
      );
      await saveAll(adapter, shuffled(entries, 7));
      await expectHistory(adapter, "e1", ordered(entries), "150 entries saved shuffled");
    },
  },
  {
    name: "saveHistory() keeps the same step at two timestamps as two entries",
    async run(adapter) {
      const first = makeHistory("e1", 3, { timestamp: at(0), instruction: "PUSH" });
      const again = makeHistory("e1", 3, { timestamp: at(1), instruction: "PUSH again" });
      await saveAll(adapter, [again, first]);
      await expectHistory(adapter, "e1", expected([first, again]), "a re-executed step");
    },
  },
  {
    name: "saveHistory() keeps the same timestamp at two steps as two entries",
    async run(adapter) {
      const a = makeHistory("e1", 1, { timestamp: at(0) });
      const b = makeHistory("e1", 2, { timestamp: at(0) });
      const c = makeHistory("e1", 12, { timestamp: at(0) });
      await saveAll(adapter, [c, b, a]);
      await expectHistory(adapter, "e1", expected([a, b, c]), "three steps at one instant");
    },
  },
  {
    name: "saveHistory() of an entry deep-equal to the stored one with its key changes nothing",
    async run(adapter) {
      const first = makeHistory("e1", 7, {
        pc: NaN,
        stack: [1, { when: at(1) }, -0, new Uint8Array([1, 2])],
        variables: { v: "first", list: [1], half: "\ud83d", none: null },
        extra: { a: 1, b: [at(2)] },
      });
      await adapter.saveHistory(first);
      const retries: { label: string; entry: History }[] = [
        { label: "the same object", entry: first },
        { label: "a copy built from new Dates and arrays", entry: expected(first) },
        {
          label: "a copy with its keys in another order",
          entry: Object.fromEntries(Object.entries(expected(first)).reverse()) as History,
        },
        {
          label: "a copy with properties holding undefined",
          entry: { ...expected(first), dropped: undefined },
        },
      ];
      await checkEach(retries, (r) => r.label, async ({ entry }) => {
        await adapter.saveHistory(entry);
        await expectHistory(adapter, "e1", [expected(first)], "after an identical retry");
      });
      // Concurrent retries of one entry: every call succeeds, and one entry is stored.
      const again = makeHistory("e1", 8);
      const results = await Promise.allSettled(
        Array.from({ length: 8 }, () => adapter.saveHistory(expected(again))),
      );
      const failed = results.flatMap((r) => r.status === "rejected" ? [r.reason] : []);
      assert(
        failed.length === 0,
        `concurrent identical saves must all succeed, ${failed.length} failed: ${
          failed.map(describeError).join("; ")
        }`,
      );
      await expectHistory(adapter, "e1", expected([first, again]), "after concurrent retries");
    },
  },
  {
    name:
      "saveHistory() throws ConflictError for a different entry with a stored key and keeps the stored one",
    async run(adapter) {
      const first = makeHistory("e1", 7, {
        pc: 1,
        instruction: "FIRST",
        stack: [1, { when: at(1) }],
        variables: { v: "first", list: [1], zero: 0, bytes: new Uint8Array([1]) },
        extra: "first",
      });
      await adapter.saveHistory(first);
      const change = (fields: Record<string, unknown>) => ({ ...expected(first), ...fields });
      const duplicates: { label: string; entry: History }[] = [
        {
          label: "every field different",
          entry: makeHistory("e1", 7, {
            pc: 2,
            instruction: "SECOND",
            stack: [],
            variables: { v: "second" },
            other: "second",
          }),
        },
        { label: "the default entry of that key", entry: makeHistory("e1", 7) },
        { label: "another instruction", entry: change({ instruction: "first" }) },
        { label: "a field more", entry: change({ more: null }) },
        {
          label: "a field less",
          entry: (() => {
            const entry = expected(first);
            delete entry.extra;
            return entry;
          })(),
        },
        { label: "-0 where 0 was", entry: change({ variables: { ...first.variables, zero: -0 } }) },
        {
          label: "a date 1 ms later inside",
          entry: change({ stack: [1, { when: at(2) }] }),
        },
        {
          label: "other bytes",
          entry: change({ variables: { ...first.variables, bytes: new Uint8Array([2]) } }),
        },
        { label: "an array item more", entry: change({ stack: [1, { when: at(1) }, 1] }) },
        {
          label: "a string where a number was",
          entry: change({ variables: { ...first.variables, zero: "0" } }),
        },
      ];
      await checkEach(duplicates, (d) => d.label, async ({ entry }) => {
        const error = await assertRejects(
          () => adapter.saveHistory(entry),
          ConflictError,
          "CONFLICT",
          "saveHistory() of a different entry with a stored key",
        );
        assert(error instanceof StorageError, "ConflictError must extend StorageError");
        assert(
          error.maybeStored === false,
          "a ConflictError stored nothing: its maybeStored must be false",
        );
        await expectHistory(adapter, "e1", [expected(first)], "after the conflict");
      });
    },
  },
  {
    name: "saveHistory() lets exactly one of concurrent different entries with one key win",
    async run(adapter) {
      const contenders = Array.from(
        { length: 8 },
        (_, i) => makeHistory("e1", 1, { pc: i, instruction: `contender ${i}` }),
      );
      const results = await Promise.allSettled(contenders.map((e) => adapter.saveHistory(e)));
      const winners = results.flatMap((r, i) => r.status === "fulfilled" ? [i] : []);
      assert(
        winners.length === 1,
        `expected exactly one of ${contenders.length} concurrent saves of one key to succeed, ` +
          `got ${winners.length}`,
      );
      for (const result of results) {
        if (result.status === "rejected") {
          assert(
            result.reason instanceof ConflictError,
            `a losing concurrent save must throw ConflictError, got ${
              describeError(result.reason)
            }`,
          );
        }
      }
      await expectHistory(adapter, "e1", [expected(contenders[winners[0]])], "after the race");
      // The winner's retry is a no-op; every loser's retry is still a conflict.
      await adapter.saveHistory(contenders[winners[0]]);
      for (const [i, contender] of contenders.entries()) {
        if (i === winners[0]) continue;
        await assertRejects(
          () => adapter.saveHistory(contender),
          ConflictError,
          "CONFLICT",
          `saveHistory() of loser ${i} again`,
        );
      }
      await expectHistory(adapter, "e1", [expected(contenders[winners[0]])], "after the retries");
    },
  },
  {
    name: "getHistory() keeps the histories of different executions separate",
    async run(adapter) {
      const ids = ["e1", "e10", "e", "E1", "e1 ", "e1/x", "e1.*", "e2"];
      const byId = new Map<string, History[]>();
      for (const [n, id] of ids.entries()) {
        // The same keys in every execution: they must not conflict across executions.
        const entries = [0, 1, 2].map((step) =>
          makeHistory(id, step, { instruction: `${id}#${step}`, pc: n })
        );
        byId.set(id, entries);
      }
      for (const step of [2, 0, 1]) {
        for (const id of ids) await adapter.saveHistory((byId.get(id) as History[])[step]);
      }
      await checkEach(
        ids,
        (id) => JSON.stringify(id),
        (id) =>
          expectHistory(adapter, id, expected(byId.get(id) as History[]), "several executions"),
      );
    },
  },
  {
    name: "saveHistory() accepts any safe integer step, from Number.MIN_SAFE_INTEGER to the max",
    async run(adapter) {
      const entries = [
        makeHistory("e1", Number.MAX_SAFE_INTEGER, { timestamp: at(0) }),
        makeHistory("e1", 0, { timestamp: at(1) }),
        makeHistory("e1", Number.MAX_SAFE_INTEGER - 1, { timestamp: at(2) }),
        makeHistory("e1", 2 ** 32, { timestamp: at(3) }),
        makeHistory("e1", -1, { timestamp: at(4) }),
        makeHistory("e1", -2, { timestamp: at(5) }),
        makeHistory("e1", -10, { timestamp: at(6) }),
        makeHistory("e1", -(2 ** 32), { timestamp: at(7) }),
        makeHistory("e1", Number.MIN_SAFE_INTEGER, { timestamp: at(8) }),
      ];
      await saveAll(adapter, entries);
      await expectHistory(adapter, "e1", ordered(entries), "extreme and negative steps");
    },
  },
  {
    name: "getHistory() orders step -1 entries numerically among the others, then by timestamp",
    async run(adapter) {
      // What a VM saves: steps 0, 1, 2 and out-of-band results at step -1, at any time.
      const entries = [
        makeHistory("e1", 0, { timestamp: at(10) }),
        makeHistory("e1", -1, { timestamp: at(30), instruction: "CC_RESULT" }),
        makeHistory("e1", 1, { timestamp: at(20) }),
        makeHistory("e1", -1, { timestamp: at(5), instruction: "CC_RESULT" }),
        makeHistory("e1", 2, { timestamp: at(40) }),
        makeHistory("e1", -1, { timestamp: at(50), instruction: "CC_RESULT" }),
        makeHistory("e1", -2, { timestamp: at(60) }),
        makeHistory("e1", 10, { timestamp: at(0) }),
      ];
      await saveAll(adapter, shuffled(entries, 3));
      await expectHistory(adapter, "e1", ordered(entries), "negative steps mixed in");
    },
  },
  {
    name: "saveHistory() rejects a step that is not a safe integer",
    async run(adapter) {
      const kept = makeHistory("e1", 0);
      await adapter.saveHistory(kept);
      await checkEach(BAD_STEPS, (c) => `step ${c.label}`, async ({ step }) => {
        await assertRejects(
          () => adapter.saveHistory({ ...makeHistory("e1", 1), step } as History),
          ValidationError,
          "VALIDATION",
          "saveHistory()",
        );
        await expectHistory(adapter, "e1", [expected(kept)], "after the rejected entry");
      });
    },
  },
  {
    name: "saveHistory() rejects a timestamp that is not a valid Date",
    async run(adapter) {
      const kept = makeHistory("e1", 0);
      await adapter.saveHistory(kept);
      await checkEach(BAD_TIMESTAMPS, (c) => `timestamp ${c.label}`, async ({ timestamp }) => {
        await assertRejects(
          () => adapter.saveHistory({ ...makeHistory("e1", 1), timestamp } as History),
          ValidationError,
          "VALIDATION",
          "saveHistory()",
        );
        await expectHistory(adapter, "e1", [expected(kept)], "after the rejected entry");
      });
      await assertRejects(
        () => {
          const entry: Record<string, unknown> = { ...makeHistory("e1", 2) };
          delete entry.timestamp;
          return adapter.saveHistory(entry as unknown as History);
        },
        ValidationError,
        "VALIDATION",
        "saveHistory() without a timestamp",
      );
      await expectHistory(adapter, "e1", [expected(kept)], "after the rejected entry");
    },
  },
  {
    name: "saveHistory() distinguishes timestamps 1 ms apart",
    async run(adapter) {
      const entries = [2, 0, 1].map((ms) => makeHistory("e1", 0, { timestamp: new Date(ms) }));
      await saveAll(adapter, entries);
      await expectHistory(adapter, "e1", ordered(entries), "timestamps 1 ms apart");
    },
  },
];
