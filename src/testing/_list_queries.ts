/**
 * Compliance cases: `listPrograms` and `listExecutions` page with `after` and `limit` in
 * Unicode code point order, and `listExecutions` filters by `programId` and `state`.
 *
 * @module
 */

import { ValidationError } from "../errors.ts";
import type { Execution, ExecutionQuery, ListQuery, Program, StorageAdapter } from "../types.ts";
import { assertEquals, assertRejects, checkEach, render } from "./_assert.ts";
import {
  byId,
  compareCodePoints,
  expected,
  makeExecution,
  makeProgram,
  shuffled,
} from "./_fixtures.ts";
import type { Case } from "./_types.ts";

/** Ids where code point order and JavaScript's `<` disagree, and near neighbours. */
const IDS = [
  "a",
  "a0",
  "aa",
  "b",
  "B",
  "10",
  "2",
  "\u00e9",
  "\ue000",
  "\uffff",
  "\u{1f600}",
  "\u{10000}",
  "\u{10ffff}",
  "z",
  "zz",
  "~",
];

/** Executions of two programs in the states real VMs write. */
function sampleExecutions(): Execution[] {
  const states = ["READY", "RUNNING", "waiting_cc", "COMPLETED", "running"];
  return IDS.map((id, i) =>
    makeExecution(id, i % 3 === 0 ? "p-a" : i % 3 === 1 ? "p-b" : "p-\u{1f600}", {
      state: states[i % states.length],
    })
  );
}

/** What a correct adapter returns for `query`: filter, order by code point, page. */
function select<T extends { id: string }>(
  records: readonly T[],
  query: ExecutionQuery = {},
): T[] {
  const out = byId(records).filter((r) => {
    const e = r as unknown as Execution;
    return (query.programId === undefined || e.programId === query.programId) &&
      (query.state === undefined || e.state === query.state) &&
      (query.after === undefined || compareCodePoints(r.id, query.after) > 0);
  });
  return expected(out.slice(0, query.limit ?? out.length));
}

const ids = (records: readonly { id: string }[]) => render(records.map((r) => r.id), 400);

async function saveSample(
  adapter: StorageAdapter,
): Promise<{ programs: Program[]; executions: Execution[] }> {
  const programs = IDS.map((id) => makeProgram(id));
  const executions = sampleExecutions();
  for (const program of shuffled(programs, 31)) await adapter.saveProgram(program);
  for (const execution of shuffled(executions, 32)) await adapter.saveExecution(execution);
  return { programs, executions };
}

/** Pages through a list with `after` and `limit`, the way a dashboard does. */
async function pageThrough<T extends { id: string }>(
  list: (query: ExecutionQuery) => Promise<T[]>,
  limit: number,
  filters: ExecutionQuery,
): Promise<T[]> {
  const got: T[] = [];
  let after: string | undefined;
  for (let calls = 0; calls <= IDS.length + 1; calls++) {
    const page = await list({ ...filters, limit, ...(after === undefined ? {} : { after }) });
    got.push(...page);
    if (page.length < limit) break;
    after = page[page.length - 1].id;
  }
  return got;
}

const LIST_QUERIES: readonly ListQuery[] = [
  {},
  { limit: 1 },
  { limit: 5 },
  { limit: 16 },
  { limit: 17 },
  { after: "a" },
  { after: "a", limit: 2 },
  { after: "\uffff" },
  { after: "\ue000", limit: 2 },
  { after: "\u{1f600}" },
  { after: "\u{10ffff}" },
  { after: "~" },
  { after: "0" },
  { after: "ab" },
  { after: "\u{1f601}", limit: 1 },
  { after: undefined, limit: undefined },
];

const FILTERS: readonly ExecutionQuery[] = [
  { programId: "p-a" },
  { programId: "p-\u{1f600}" },
  { programId: "p-none" },
  { programId: "P-A" },
  { state: "READY" },
  { state: "ready" },
  { state: "running" },
  { state: "RUNNING" },
  { state: "waiting_cc" },
  { state: "none" },
  { programId: "p-a", state: "READY" },
  { programId: "p-b", state: "READY" },
  { programId: undefined, state: undefined },
];

/** List queries both lists reject; `listPrograms` also rejects the execution filters. */
const BAD_QUERIES: readonly unknown[] = [
  // Objects, but not option objects: built-ins whose properties are no options.
  new Date(0),
  new Map([["limit", 1]]),
  new Set(),
  null,
  "p1",
  1,
  true,
  [],
  ["p1"],
  { limit: 0 },
  { limit: -1 },
  { limit: 1.5 },
  { limit: NaN },
  { limit: Infinity },
  { limit: "1" },
  { limit: null },
  { after: 1 },
  { after: null },
  { after: ["a"] },
  { after: { id: "a" } },
  { skip: 1 },
  { sort: { id: -1 } },
  { reverse: true },
  { fromStep: 1 },
  { id: "a" },
];

const BAD_EXECUTION_FILTERS: readonly unknown[] = [
  { programId: 1 },
  { programId: "" },
  { programId: null },
  { programId: ["p-a"] },
  { programId: { $ne: "p-a" } },
  { programId: "x".repeat(257) },
  { state: 1 },
  { state: "" },
  { state: null },
  { state: ["READY"] },
  { state: { $in: ["READY"] } },
  { state: "s".repeat(257) },
  { status: "READY" },
];

/** The list query cases. */
export const listQueryCases: readonly Case[] = [
  {
    name: "listPrograms() and listExecutions() page with after and limit in code point order",
    async run(adapter) {
      const { programs, executions } = await saveSample(adapter);
      await checkEach(LIST_QUERIES, (q) => render(q), async (query) => {
        const call = render(query);
        const wantPrograms = select(programs, query);
        const gotPrograms = await adapter.listPrograms(query);
        assertEquals(
          gotPrograms,
          wantPrograms,
          `listPrograms(${call}) (want ${ids(wantPrograms)}; got ${ids(gotPrograms)})`,
        );
        const wantExecutions = select(executions, query);
        const gotExecutions = await adapter.listExecutions(query);
        assertEquals(
          gotExecutions,
          wantExecutions,
          `listExecutions(${call}) (want ${ids(wantExecutions)}; got ${ids(gotExecutions)})`,
        );
      });
    },
  },
  {
    name: "listPrograms() and listExecutions() paged with after return every record once",
    async run(adapter) {
      const { programs, executions } = await saveSample(adapter);
      await checkEach([1, 2, 3, 15, 16, 17, 100], (limit) => `pages of ${limit}`, async (limit) => {
        assertEquals(
          await pageThrough((q) => adapter.listPrograms(q), limit, {}),
          select(programs),
          `listPrograms() in pages of ${limit}`,
        );
        for (const filters of [{}, { programId: "p-a" }, { state: "READY" }]) {
          assertEquals(
            await pageThrough((q) => adapter.listExecutions(q), limit, filters),
            select(executions, filters),
            `listExecutions(${render(filters)}) in pages of ${limit}`,
          );
        }
      });
    },
  },
  {
    name: "listExecutions() filters by programId and state, alone, together and with paging",
    async run(adapter) {
      const { executions } = await saveSample(adapter);
      const queries = FILTERS.flatMap((filters) =>
        [{}, { limit: 1 }, { after: "b" }, { after: "\uffff", limit: 2 }].map((page) => ({
          ...filters,
          ...page,
        }))
      );
      await checkEach(queries, (q) => render(q), async (query) => {
        const want = select(executions, query);
        const got = await adapter.listExecutions(query);
        assertEquals(
          got,
          want,
          `listExecutions(${render(query)}) (want ${ids(want)}; got ${ids(got)})`,
        );
      });
    },
  },
  {
    name: "listExecutions() filters see each execution's latest state and program",
    async run(adapter) {
      await adapter.saveExecution(makeExecution("e1", "p1", { state: "READY" }));
      await adapter.saveExecution(makeExecution("e2", "p1", { state: "READY" }));
      const moved = makeExecution("e1", "p2", { state: "RUNNING" });
      await adapter.saveExecution(moved);
      assertEquals(
        (await adapter.listExecutions({ state: "READY" })).map((e) => e.id),
        ["e2"],
        'listExecutions({ state: "READY" }) after e1 moved on',
      );
      assertEquals(
        await adapter.listExecutions({ state: "RUNNING", programId: "p2" }),
        [expected(moved)],
        'listExecutions({ state: "RUNNING", programId: "p2" })',
      );
      await adapter.deleteExecution("e2");
      assertEquals(await adapter.listExecutions({ state: "READY" }), [], "after deleting e2");
    },
  },
  {
    name: "listPrograms() and listExecutions() reject an invalid query with ValidationError",
    async run(adapter) {
      await saveSample(adapter);
      await checkEach(BAD_QUERIES, (q) => render(q), async (query) => {
        await assertRejects(
          () => adapter.listPrograms(query as ListQuery),
          ValidationError,
          "VALIDATION",
          `listPrograms(${render(query)})`,
        );
        await assertRejects(
          () => adapter.listExecutions(query as ExecutionQuery),
          ValidationError,
          "VALIDATION",
          `listExecutions(${render(query)})`,
        );
      });
      await checkEach(BAD_EXECUTION_FILTERS, (q) => render(q), async (query) => {
        await assertRejects(
          () => adapter.listExecutions(query as ExecutionQuery),
          ValidationError,
          "VALIDATION",
          `listExecutions(${render(query)})`,
        );
      });
      // A program list has no filters.
      for (const query of [{ programId: "p-a" }, { state: "READY" }]) {
        await assertRejects(
          () => adapter.listPrograms(query as ListQuery),
          ValidationError,
          "VALIDATION",
          `listPrograms(${render(query)})`,
        );
      }
    },
  },
];
