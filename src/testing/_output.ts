/**
 * Compliance cases: each execution's output is an append-only list of lines, appended a
 * whole call at a time.
 *
 * @module
 */

import { ValidationError } from "../errors.ts";
import type { OutputQuery, StorageAdapter } from "../types.ts";
import { assert, assertEquals, assertRejects, checkEach, render } from "./_assert.ts";
import { expected, makeExecution } from "./_fixtures.ts";
import type { Case } from "./_types.ts";
import { LONE_SURROGATES } from "./_values.ts";

/** Lines that are hard to store as lines: separators, encodings, nothing at all. */
const HARD_LINES: readonly string[] = [
  "",
  " ",
  "plain",
  "two\nlines",
  "\r\n",
  "\n",
  "\r",
  "trailing newline\n",
  "\u0000",
  "a\u0000b",
  "\u2028\u2029",
  "\u{1f600} \u00e9 e\u0301",
  ...LONE_SURROGATES,
  '{"json": "object"}',
  '"quoted"',
  "[1, 2]",
  '{"$date": "2020-01-01T00:00:00.000Z"}',
  "\\",
  "\t",
  "\ufeff",
  "null",
];

/** Lines that are not arrays of strings, each with the valid line it follows. */
const BAD_LINES: readonly { label: string; make(): unknown }[] = [
  { label: "undefined", make: () => undefined },
  { label: "null", make: () => null },
  { label: "a string", make: () => "line" },
  { label: "a number", make: () => 1 },
  { label: "an object", make: () => ({ 0: "line", length: 1 }) },
  { label: "a Set", make: () => new Set(["line"]) },
  { label: "a number after a line", make: () => ["ok", 1] },
  { label: "null after two lines", make: () => ["ok", "ok", null] },
  { label: "undefined after a line", make: () => ["ok", undefined] },
  { label: "an array after a line", make: () => ["ok", ["nested"]] },
  { label: "a boxed string after a line", make: () => ["ok", Object("boxed")] },
  { label: "a symbol after a line", make: () => ["ok", Symbol("s")] },
  { label: "a Date after a line", make: () => ["ok", new Date(0)] },
  {
    label: "a hole after a line",
    make: () => {
      const lines: unknown[] = ["ok"];
      lines[2] = "after the hole";
      return lines;
    },
  },
  {
    label: "a line whose getter throws after two lines",
    make: () =>
      Object.defineProperty(["ok", "ok", "x"], 2, {
        get() {
          throw new Error("getter failed");
        },
      }),
  },
];

async function appendAll(
  adapter: StorageAdapter,
  executionId: string,
  calls: readonly string[][],
): Promise<void> {
  for (const lines of calls) await adapter.appendOutput(executionId, lines);
}

/** Ten lines, "line 0" to "line 9", appended in calls of 1, 2, 3 and 4 lines. */
async function appendTen(adapter: StorageAdapter): Promise<string[]> {
  const lines = Array.from({ length: 10 }, (_, i) => `line ${i}`);
  await appendAll(adapter, "e1", [lines.slice(0, 1), lines.slice(1, 3), lines.slice(3, 6)]);
  await adapter.appendOutput("e1", lines.slice(6));
  return lines;
}

/** Ranges of ten lines: the query and the indices of the lines it selects. */
const RANGES: readonly { query: OutputQuery | undefined; from: number; to: number }[] = [
  { query: undefined, from: 0, to: 10 },
  { query: {}, from: 0, to: 10 },
  { query: { from: 0 }, from: 0, to: 10 },
  { query: { from: 3 }, from: 3, to: 10 },
  { query: { from: 9 }, from: 9, to: 10 },
  { query: { from: 10 }, from: 10, to: 10 },
  { query: { from: 11 }, from: 10, to: 10 },
  { query: { from: Number.MAX_SAFE_INTEGER }, from: 10, to: 10 },
  { query: { limit: 1 }, from: 0, to: 1 },
  { query: { limit: 4 }, from: 0, to: 4 },
  { query: { limit: 10 }, from: 0, to: 10 },
  { query: { limit: 11 }, from: 0, to: 10 },
  { query: { from: 2, limit: 3 }, from: 2, to: 5 },
  { query: { from: 8, limit: 5 }, from: 8, to: 10 },
  { query: { from: 9, limit: 1 }, from: 9, to: 10 },
  { query: { from: 10, limit: 1 }, from: 10, to: 10 },
  { query: { from: undefined, limit: undefined }, from: 0, to: 10 },
];

/** Output queries every adapter rejects. */
const BAD_QUERIES: readonly unknown[] = [
  // Objects, but not option objects: built-ins whose properties are no options.
  new Date(0),
  new Map([["limit", 1]]),
  new Set(),
  null,
  "from",
  1,
  true,
  [],
  [1, 2],
  { from: -1 },
  { from: 1.5 },
  { from: NaN },
  { from: Infinity },
  { from: "1" },
  { from: null },
  { from: 2 ** 53 },
  { limit: 0 },
  { limit: -1 },
  { limit: 1.5 },
  { limit: NaN },
  { limit: Infinity },
  { limit: "2" },
  { limit: null },
  { start: 1 },
  { offset: 1 },
  { from: 1, reverse: true },
];

/** The output cases. */
export const outputCases: readonly Case[] = [
  {
    name:
      "appendOutput() adds lines after the existing ones, and getOutput() returns them in order",
    async run(adapter) {
      const calls = [["first"], ["second", "third"], [...HARD_LINES], ["last"]];
      await appendAll(adapter, "e1", calls);
      assertEquals(await adapter.getOutput("e1"), calls.flat(), "getOutput()");
      await adapter.appendOutput("e1", ["first"]);
      assertEquals(
        await adapter.getOutput("e1"),
        [...calls.flat(), "first"],
        "getOutput() after appending a line that is already there",
      );
    },
  },
  {
    name: "appendOutput() stores every hard line exactly, one call per line",
    async run(adapter) {
      await checkEach(HARD_LINES, (line) => JSON.stringify(line), async (line) => {
        const id = `e-${HARD_LINES.indexOf(line)}`;
        await adapter.appendOutput(id, [line]);
        await adapter.appendOutput(id, [line, line]);
        assertEquals(await adapter.getOutput(id), [line, line, line], `getOutput("${id}")`);
      });
    },
  },
  {
    name: "appendOutput() stores many lines and long lines",
    async run(adapter) {
      const many = Array.from({ length: 10_000 }, (_, i) => `line ${i}`);
      const long = ["x".repeat(1_000_000), "\u{1f600}".repeat(100_000)];
      await adapter.appendOutput("e1", many);
      await adapter.appendOutput("e1", long);
      await adapter.appendOutput("e1", many.slice(0, 3));
      assertEquals(
        await adapter.getOutput("e1"),
        [...many, ...long, ...many.slice(0, 3)],
        "getOutput()",
      );
    },
  },
  {
    name: "appendOutput() with no lines changes nothing",
    async run(adapter) {
      await adapter.appendOutput("e1", []);
      assertEquals(await adapter.getOutput("e1"), [], "getOutput() after an empty append");
      await adapter.appendOutput("e1", ["one"]);
      await adapter.appendOutput("e1", []);
      await adapter.appendOutput("e1", ["two"]);
      await adapter.appendOutput("e1", []);
      assertEquals(await adapter.getOutput("e1"), ["one", "two"], "getOutput()");
    },
  },
  {
    name: "appendOutput() rejects lines that are not strings with ValidationError and appends none",
    async run(adapter) {
      await adapter.appendOutput("e1", ["kept"]);
      await checkEach(BAD_LINES, (b) => b.label, async (bad) => {
        await assertRejects(
          () => adapter.appendOutput("e1", bad.make() as string[]),
          ValidationError,
          "VALIDATION",
          "appendOutput()",
        );
        assertEquals(await adapter.getOutput("e1"), ["kept"], "getOutput() after the rejection");
        await assertRejects(
          () => adapter.appendOutput("e-new", bad.make() as string[]),
          ValidationError,
          "VALIDATION",
          "appendOutput() to an execution without output",
        );
        assertEquals(await adapter.getOutput("e-new"), [], "getOutput() of the new execution");
      });
    },
  },
  {
    name: "appendOutput() called concurrently keeps every call's lines, each call's together",
    async run(adapter) {
      const calls = Array.from(
        { length: 24 },
        (_, c) => Array.from({ length: 1 + (c % 5) }, (_, l) => `call ${c} line ${l}`),
      );
      await Promise.all([
        ...calls.map((lines) => adapter.appendOutput("e1", lines)),
        ...calls.map((lines) => adapter.appendOutput("e2", lines)),
      ]);
      for (const id of ["e1", "e2"]) {
        const got = await adapter.getOutput(id);
        assertEquals(got.length, calls.flat().length, `getOutput("${id}").length`);
        // Split what was read into runs of one call each: every run must be a whole call.
        let at = 0;
        const seen = new Set<number>();
        while (at < got.length) {
          const call = Number(/^call (\d+) line 0$/.exec(got[at])?.[1]);
          assert(
            Number.isInteger(call) && !seen.has(call),
            `getOutput("${id}")[${at}] is ${JSON.stringify(got[at])}, not the first line of ` +
              `a call not seen yet: the calls were interleaved or torn (${render(got, 400)})`,
          );
          seen.add(call);
          assertEquals(
            got.slice(at, at + calls[call].length),
            calls[call],
            `getOutput("${id}"): the lines of call ${call}, together`,
          );
          at += calls[call].length;
        }
        assertEquals(seen.size, calls.length, `getOutput("${id}"): calls present`);
      }
    },
  },
  {
    name: "getOutput() with from and limit returns that range of lines",
    async run(adapter) {
      const lines = await appendTen(adapter);
      await checkEach(RANGES, (r) => `getOutput("e1", ${render(r.query)})`, async (range) => {
        assertEquals(
          await adapter.getOutput("e1", range.query),
          lines.slice(range.from, range.to),
          `getOutput("e1", ${render(range.query)})`,
        );
      });
      // Reading page by page gives every line once.
      for (const limit of [1, 3, 4, 10]) {
        const pages: string[] = [];
        for (let from = 0;; from += limit) {
          const page = await adapter.getOutput("e1", { from, limit });
          pages.push(...page);
          if (page.length < limit) break;
        }
        assertEquals(pages, lines, `getOutput() in pages of ${limit}`);
      }
    },
  },
  {
    name: "getOutput() rejects an invalid query with ValidationError",
    async run(adapter) {
      await appendTen(adapter);
      await checkEach(BAD_QUERIES, (q) => render(q), async (query) => {
        await assertRejects(
          () => adapter.getOutput("e1", query as OutputQuery),
          ValidationError,
          "VALIDATION",
          `getOutput("e1", ${render(query)})`,
        );
        await assertRejects(
          () => adapter.getOutput("e-none", query as OutputQuery),
          ValidationError,
          "VALIDATION",
          `getOutput() of an execution without output, ${render(query)}`,
        );
      });
    },
  },
  {
    name: "appendOutput() and getOutput() keep the output apart from the execution record",
    async run(adapter) {
      const execution = makeExecution("e1", "p1", { output: ["in the record"] });
      await adapter.saveExecution(execution);
      assertEquals(await adapter.getOutput("e1"), [], "getOutput() after saveExecution()");
      await adapter.appendOutput("e1", ["appended"]);
      assertEquals(
        await adapter.getExecution("e1"),
        expected(execution),
        "getExecution() after appendOutput()",
      );
      await adapter.saveExecution(makeExecution("e1", "p1", { output: [] }));
      assertEquals(await adapter.getOutput("e1"), ["appended"], "getOutput() after a save");
      // Output may come before the execution is saved at all.
      await adapter.appendOutput("e-later", ["early"]);
      await adapter.saveExecution(makeExecution("e-later"));
      assertEquals(await adapter.getOutput("e-later"), ["early"], "getOutput() of e-later");
    },
  },
  {
    name: "deleteExecution() removes the output, and a restart keeps the output of others",
    async run(adapter, context) {
      await adapter.saveExecution(makeExecution("e1"));
      await adapter.saveExecution(makeExecution("e2"));
      await adapter.appendOutput("e1", ["one"]);
      await adapter.appendOutput("e2", ["two", "three"]);
      await adapter.deleteExecution("e1");
      const again = await context.restart();
      assertEquals(await again.getOutput("e1"), [], "getOutput() of the deleted execution");
      assertEquals(await again.getOutput("e2"), ["two", "three"], "getOutput() of the other");
      await again.appendOutput("e2", ["four"]);
      assertEquals(
        await again.getOutput("e2", { from: 2 }),
        ["four"],
        "getOutput() after appending once restarted",
      );
    },
  },
];
