/**
 * Compliance cases: `getHistory` with a query selects a step range, continues after a
 * key, caps the count and runs in either order.
 *
 * @module
 */

import { ValidationError } from "../errors.ts";
import type { History, HistoryKey, HistoryQuery, StorageAdapter } from "../types.ts";
import { assertEquals, assertRejects, checkEach, render } from "./_assert.ts";
import { at, expected, makeHistory, shuffled } from "./_fixtures.ts";
import type { Case } from "./_types.ts";

/**
 * A history with the shapes queries trip on: out-of-band entries at step -1, a step run
 * many times (step 5, twelve entries), gaps, one entry at steps 0 and 10, entries whose
 * timestamps run against their steps.
 */
function sampleHistory(): History[] {
  const entries: History[] = [];
  for (const t of [300, 100, 200]) entries.push(makeHistory("e1", -1, { timestamp: at(t) }));
  entries.push(makeHistory("e1", 0, { timestamp: at(50) }));
  for (const step of [1, 2, 3]) entries.push(makeHistory("e1", step, { timestamp: at(-step) }));
  for (let i = 0; i < 12; i++) {
    // Even times 1000 to 1022, so that odd times fall between two entries.
    entries.push(makeHistory("e1", 5, { timestamp: at(1000 + 2 * ((i * 7) % 12)), pc: i }));
  }
  entries.push(makeHistory("e1", 10, { timestamp: at(5) }));
  for (const step of [11, 12]) entries.push(makeHistory("e1", step, { timestamp: at(9000) }));
  return entries;
}

/** Ascending by step, then timestamp: the order of `getHistory` without a query. */
function ascending(entries: readonly History[]): History[] {
  return [...entries].sort((a, b) =>
    a.step - b.step || a.timestamp.getTime() - b.timestamp.getTime()
  );
}

/** What a correct adapter returns for `query` over `entries`: the contract, spelled out. */
function select(entries: readonly History[], query: HistoryQuery = {}): History[] {
  const compare = (a: HistoryKey, b: HistoryKey) =>
    a.step - b.step || a.timestamp.getTime() - b.timestamp.getTime();
  let out = ascending(entries).filter((e) =>
    (query.fromStep === undefined || e.step >= query.fromStep) &&
    (query.toStep === undefined || e.step <= query.toStep)
  );
  if (query.reverse) out.reverse();
  if (query.after !== undefined) {
    const after = query.after;
    out = out.filter((e) => query.reverse ? compare(e, after) < 0 : compare(e, after) > 0);
  }
  return expected(out.slice(0, query.limit ?? out.length));
}

/** Keys as `step@time` for failure messages. */
function keys(entries: readonly History[]): string {
  return entries.map((e) => `${e.step}@${e.timestamp.getTime() - at().getTime()}`).join(" ");
}

async function saveSample(adapter: StorageAdapter): Promise<History[]> {
  const entries = sampleHistory();
  for (const entry of shuffled(entries, 21)) await adapter.saveHistory(entry);
  // Another execution's entries, which no query of e1 may return.
  for (const step of [-1, 0, 5, 10]) await adapter.saveHistory(makeHistory("e2", step));
  return entries;
}

async function expectQuery(
  adapter: StorageAdapter,
  entries: readonly History[],
  query: HistoryQuery | undefined,
): Promise<void> {
  const want = select(entries, query);
  const got = await adapter.getHistory("e1", query);
  const call = `getHistory("e1", ${render(query)})`;
  assertEquals(got, want, `${call} (want ${keys(want)}; got ${keys(got)})`);
}

/** A key between two stored entries of step 5, and keys before and after everything. */
const CURSORS: readonly { label: string; key: HistoryKey }[] = [
  { label: "a stored key of step 5", key: { step: 5, timestamp: at(1004) } },
  { label: "a key between two of step 5", key: { step: 5, timestamp: at(1005) } },
  { label: "a key at step 4, which has no entries", key: { step: 4, timestamp: at(0) } },
  { label: "the first stored key", key: { step: -1, timestamp: at(100) } },
  { label: "the last stored key", key: { step: 12, timestamp: at(9000) } },
  { label: "a key before everything", key: { step: -1000, timestamp: at(0) } },
  { label: "a key after everything", key: { step: 1000, timestamp: at(0) } },
  {
    label: "a key of step 5 at the earliest time",
    key: { step: 5, timestamp: new Date(-8.64e15) },
  },
  { label: "a key of step 5 at the latest time", key: { step: 5, timestamp: new Date(8.64e15) } },
];

/** Queries of every option and their combinations. */
const QUERIES: readonly HistoryQuery[] = [
  {},
  { fromStep: 5 },
  { fromStep: -1 },
  { fromStep: 6 },
  { fromStep: 13 },
  { fromStep: -1000 },
  { toStep: 5 },
  { toStep: -1 },
  { toStep: -2 },
  { toStep: 4 },
  { fromStep: 1, toStep: 3 },
  { fromStep: 5, toStep: 5 },
  { fromStep: -1, toStep: -1 },
  { fromStep: 6, toStep: 9 },
  { fromStep: 5, toStep: 4 },
  { fromStep: 100, toStep: -100 },
  { limit: 1 },
  { limit: 3 },
  { limit: 22 },
  { limit: 23 },
  { limit: 1000 },
  { reverse: false },
  { reverse: true },
  { reverse: true, limit: 1 },
  { reverse: true, limit: 4 },
  { fromStep: 5, limit: 1 },
  { fromStep: 5, toStep: 5, reverse: true },
  { fromStep: 5, toStep: 5, reverse: true, limit: 1 },
  { toStep: 4, reverse: true, limit: 1 },
  { fromStep: 2, toStep: 10, reverse: true, limit: 5 },
  { fromStep: undefined, toStep: undefined, after: undefined, limit: undefined },
];

/** History queries every adapter rejects. */
const BAD_QUERIES: readonly unknown[] = [
  // Objects, but not option objects: built-ins whose properties are no options.
  new Date(0),
  new Map([["limit", 1]]),
  new Set(),
  null,
  "e1",
  1,
  true,
  [],
  [{ limit: 1 }],
  { limit: 0 },
  { limit: -1 },
  { limit: 1.5 },
  { limit: NaN },
  { limit: Infinity },
  { limit: "1" },
  { limit: null },
  { limit: 2 ** 53 },
  { fromStep: 1.5 },
  { fromStep: NaN },
  { fromStep: -Infinity },
  { fromStep: "1" },
  { fromStep: null },
  { fromStep: 2 ** 53 },
  { fromStep: { step: 1 } },
  { toStep: 0.5 },
  { toStep: Infinity },
  { toStep: "5" },
  { toStep: [5] },
  { reverse: "true" },
  { reverse: 1 },
  { reverse: null },
  { after: null },
  { after: "5" },
  { after: 5 },
  { after: [5, at(0)] },
  { after: {} },
  { after: { step: 5 } },
  { after: { timestamp: at(0) } },
  { after: { step: 5, timestamp: at(0).toISOString() } },
  { after: { step: 5, timestamp: at(0).getTime() } },
  { after: { step: 5, timestamp: new Date(NaN) } },
  { after: { step: 1.5, timestamp: at(0) } },
  { after: { step: "5", timestamp: at(0) } },
  { after: { step: NaN, timestamp: at(0) } },
  { from: 1 },
  { skip: 1 },
  { sort: { step: -1 } },
  { step: 5 },
  { pageSize: 10 },
];

/** The history query cases. */
export const historyQueryCases: readonly Case[] = [
  {
    name: "getHistory() with each option and their combinations selects exactly those entries",
    async run(adapter) {
      const entries = await saveSample(adapter);
      await checkEach(QUERIES, (q) => render(q), (query) => expectQuery(adapter, entries, query));
    },
  },
  {
    name: "getHistory() with after continues after a key, in either order, with any options",
    async run(adapter) {
      const entries = await saveSample(adapter);
      const cases = CURSORS.flatMap(({ label, key }) =>
        [
          {},
          { reverse: true },
          { limit: 2 },
          { reverse: true, limit: 2 },
          { fromStep: 2, toStep: 10 },
          { fromStep: 5, toStep: 5, reverse: true, limit: 3 },
        ].map((query) => ({ label, query: { ...query, after: key } as HistoryQuery }))
      );
      await checkEach(
        cases,
        (c) => `${c.label}: ${render(c.query)}`,
        ({ query }) => expectQuery(adapter, entries, query),
      );
    },
  },
  {
    name:
      "getHistory() with { reverse: true, limit: 1 } returns the latest entry, the one to resume from",
    async run(adapter) {
      const entries: History[] = [];
      const expectLatest = async (context: string) => {
        assertEquals(
          await adapter.getHistory("e1", { reverse: true, limit: 1 }),
          select(entries, { reverse: true, limit: 1 }),
          `getHistory("e1", { reverse: true, limit: 1 }) ${context}`,
        );
      };
      assertEquals(
        await adapter.getHistory("e1", { reverse: true, limit: 1 }),
        [],
        "the latest entry of an empty history",
      );
      for (
        const [step, time, label] of [
          [0, 0, "after the first entry"],
          [1, 10, "after a second step"],
          [1, 20, "after step 1 ran again, later"],
          [1, 5, "after an entry of step 1 with an earlier time"],
          [-1, 100, "after an out-of-band entry at step -1, the newest by time"],
          [2, -50, "after step 2 with the oldest time of all"],
          [10, 0, "after step 10"],
          [9, 1000, "after step 9, saved last"],
        ] as const
      ) {
        const entry = makeHistory("e1", step, { timestamp: at(time) });
        entries.push(entry);
        await adapter.saveHistory(entry);
        await expectLatest(label);
      }
    },
  },
  {
    name: "getHistory() paged with after returns every entry once, across many entries at one step",
    async run(adapter) {
      // 40 entries at step 3, between steps 1 and 4, and timestamps that collide across steps.
      const entries = [
        makeHistory("e1", 1, { timestamp: at(0) }),
        ...Array.from(
          { length: 40 },
          (_, i) => makeHistory("e1", 3, { timestamp: at((i * 17) % 40), pc: i }),
        ),
        makeHistory("e1", 4, { timestamp: at(0) }),
        makeHistory("e1", 4, { timestamp: at(1) }),
      ];
      for (const entry of shuffled(entries, 5)) await adapter.saveHistory(entry);
      const pages = [1, 2, 3, 7, 40, 41, 100].flatMap((limit) =>
        [false, true].flatMap((reverse) =>
          [{}, { fromStep: 3, toStep: 3 }, { fromStep: 2 }].map((range) => ({
            limit,
            reverse,
            range,
          }))
        )
      );
      await checkEach(pages, (p) => render(p), async ({ limit, reverse, range }) => {
        const got: History[] = [];
        let after: HistoryKey | undefined;
        for (let calls = 0; calls <= entries.length + 1; calls++) {
          const query: HistoryQuery = { ...range, limit, reverse, ...(after ? { after } : {}) };
          const page = await adapter.getHistory("e1", query);
          got.push(...page);
          if (page.length < limit) break;
          // The last entry itself is a valid cursor.
          after = page[page.length - 1];
        }
        const want = select(entries, { ...range, reverse });
        assertEquals(got, want, `pages of ${limit} (want ${keys(want)}; got ${keys(got)})`);
      });
    },
  },
  {
    name: "getHistory() with a query of an unknown execution or an empty range returns []",
    async run(adapter) {
      await saveSample(adapter);
      const empty: [string, HistoryQuery][] = [
        ["e-none", { limit: 1 }],
        ["e-none", { reverse: true, limit: 1 }],
        ["e1", { fromStep: 6, toStep: 9 }],
        ["e1", { fromStep: 13 }],
        ["e1", { toStep: -2 }],
        ["e1", { fromStep: 5, toStep: 4 }],
        ["e1", { after: { step: 12, timestamp: at(9000) } }],
        ["e1", { after: { step: -1, timestamp: at(100) }, reverse: true }],
        ["e1", { fromStep: 5, toStep: 5, after: { step: 5, timestamp: at(1022) } }],
      ];
      await checkEach(empty, ([id, q]) => `${id} ${render(q)}`, async ([id, query]) => {
        assertEquals(
          await adapter.getHistory(id, query),
          [],
          `getHistory(${JSON.stringify(id)}, ${render(query)})`,
        );
      });
    },
  },
  {
    name: "getHistory() leaves the query it is given as it was, and takes a frozen one",
    async run(adapter) {
      const entries = await saveSample(adapter);
      const after = { step: 5, timestamp: at(1003) };
      const query: HistoryQuery = { fromStep: 0, toStep: 10, after, limit: 3, reverse: true };
      const snapshot = expected(query);
      await expectQuery(adapter, entries, query);
      assertEquals(query, snapshot, "the query after getHistory()");
      await expectQuery(adapter, entries, Object.freeze({ ...snapshot }));
    },
  },
  {
    name: "getHistory() rejects an invalid query with ValidationError",
    async run(adapter) {
      await saveSample(adapter);
      await checkEach(BAD_QUERIES, (q) => render(q), async (query) => {
        for (const id of ["e1", "e-none"]) {
          await assertRejects(
            () => adapter.getHistory(id, query as HistoryQuery),
            ValidationError,
            "VALIDATION",
            `getHistory(${JSON.stringify(id)}, ${render(query)})`,
          );
        }
      });
    },
  },
];
