/**
 * Compliance cases: listing in id order, filtering, replacing and deleting.
 *
 * @module
 */

import type { Execution, Program, StorageAdapter } from "../types.ts";
import { assert, assertEquals, assertSame, describeError } from "./_assert.ts";
import { byId, expected, makeExecution, makeHistory, makeProgram, shuffled } from "./_fixtures.ts";
import type { Case } from "./_types.ts";

/**
 * Ids whose code point order differs from numeric, case-insensitive, locale and
 * JavaScript string order: "B" < "a" < "b" < "é", "10" < "2", and U+E000 < U+FFFD <
 * "😀" (U+1F600), which JavaScript's `<` puts first because its first UTF-16 unit is
 * U+D83D.
 */
const ORDER_IDS = [
  "b",
  "a",
  "B",
  "\u00e9",
  "e\u0301",
  "10",
  "2",
  "1",
  "a0",
  "A",
  "_",
  "~",
  " ",
  "\u{1f600}",
  "\u{1f600}a",
  "\u{10ffff}",
  "\u{10000}",
  "\ue000",
  "\ufffd",
  "\uffff",
  "\uff5e",
  "\ud7ff",
  "aa",
  "a.b",
  "a/b",
  "a b",
  "Z",
  "z",
  "-",
  ".",
];

async function expectPrograms(
  adapter: StorageAdapter,
  want: readonly Program[],
  context: string,
): Promise<void> {
  const got = await adapter.listPrograms();
  assertEquals(got.map((p) => p.id), byId(want).map((p) => p.id), `${context}: listPrograms() ids`);
  assertEquals(got, expected(byId(want)), `${context}: listPrograms()`);
}

async function expectExecutions(
  adapter: StorageAdapter,
  want: readonly Execution[],
  context: string,
  programId?: string,
): Promise<void> {
  const got = programId === undefined
    ? await adapter.listExecutions()
    : await adapter.listExecutions({ programId });
  const call = programId === undefined
    ? "listExecutions()"
    : `listExecutions({ programId: ${JSON.stringify(programId)} })`;
  assertEquals(got.map((e) => e.id), byId(want).map((e) => e.id), `${context}: ${call} ids`);
  assertEquals(got, expected(byId(want)), `${context}: ${call}`);
}

/** The list and delete cases. */
export const listAndDeleteCases: readonly Case[] = [
  {
    name: "listPrograms() returns programs ascending by id in Unicode code point order",
    async run(adapter) {
      const programs = ORDER_IDS.map((id) => makeProgram(id));
      for (const p of shuffled(programs, 2)) await adapter.saveProgram(p);
      await expectPrograms(adapter, programs, "ids saved in scrambled order");
    },
  },
  {
    name: "listExecutions() returns executions ascending by id in Unicode code point order",
    async run(adapter) {
      const executions = ORDER_IDS.map((id, i) => makeExecution(id, i % 2 ? "p1" : "p2"));
      for (const e of shuffled(executions, 4)) await adapter.saveExecution(e);
      await expectExecutions(adapter, executions, "ids saved in scrambled order");
      await expectExecutions(
        adapter,
        executions.filter((e) => e.programId === "p1"),
        "ids saved in scrambled order",
        "p1",
      );
    },
  },
  {
    name: "listExecutions() with a programId returns exactly that program's executions",
    async run(adapter) {
      const programIds = ["p1", "P1", "p10", "p", "p1 ", "p.*", "p1|p2", "^p1$", "{}", "$ne"];
      const executions = programIds.flatMap((programId, i) =>
        [0, 1].map((n) => makeExecution(`e${i}-${n}`, programId))
      );
      for (const e of shuffled(executions, 6)) await adapter.saveExecution(e);
      for (const programId of programIds) {
        await expectExecutions(
          adapter,
          executions.filter((e) => e.programId === programId),
          "executions of ten look-alike programs",
          programId,
        );
      }
      await expectExecutions(adapter, [], "a program without executions", "p2");
    },
  },
  {
    name: "listExecutions() returns every execution for an empty filter",
    async run(adapter) {
      const executions = [makeExecution("e2", "p2"), makeExecution("e1", "p1")];
      for (const e of executions) await adapter.saveExecution(e);
      const want = expected(byId(executions));
      assertEquals(await adapter.listExecutions(), want, "listExecutions()");
      assertEquals(await adapter.listExecutions({}), want, "listExecutions({})");
      assertEquals(
        await adapter.listExecutions({ programId: undefined }),
        want,
        "listExecutions({ programId: undefined })",
      );
    },
  },
  {
    name: "listPrograms() and listExecutions() return every record of a long list",
    async run(adapter) {
      const count = 150;
      const programs = Array.from({ length: count }, (_, i) => makeProgram(`p${i}`));
      const executions = Array.from(
        { length: count },
        (_, i) => makeExecution(`e${i}`, i % 5 === 0 ? "p-five" : "p-other"),
      );
      for (const p of shuffled(programs, 8)) await adapter.saveProgram(p);
      for (const e of shuffled(executions, 9)) await adapter.saveExecution(e);
      await expectPrograms(adapter, programs, `${count} programs`);
      await expectExecutions(adapter, executions, `${count} executions`);
      await expectExecutions(
        adapter,
        executions.filter((e) => e.programId === "p-five"),
        `${count} executions`,
        "p-five",
      );
    },
  },
  {
    name: "saveProgram() and saveExecution() replace by id: the list still holds one record",
    async run(adapter) {
      for (const name of ["first", "second", "third"]) {
        await adapter.saveProgram(makeProgram("p1", { name }));
        await adapter.saveExecution(makeExecution("e1", "p1", { output: [name] }));
      }
      await expectPrograms(adapter, [makeProgram("p1", { name: "third" })], "three saves");
      await expectExecutions(
        adapter,
        [makeExecution("e1", "p1", { output: ["third"] })],
        "three saves",
      );
    },
  },
  {
    name: "saveProgram() and saveExecution() saved concurrently all land",
    async run(adapter) {
      const programs = Array.from({ length: 40 }, (_, i) => makeProgram(`p${i}`));
      const executions = Array.from({ length: 40 }, (_, i) => makeExecution(`e${i}`));
      const entries = Array.from({ length: 40 }, (_, i) => makeHistory("e0", i));
      await Promise.all([
        ...programs.map((p) => adapter.saveProgram(p)),
        ...executions.map((e) => adapter.saveExecution(e)),
        ...entries.map((h) => adapter.saveHistory(h)),
      ]);
      await expectPrograms(adapter, programs, "40 concurrent saves");
      await expectExecutions(adapter, executions, "40 concurrent saves");
      assertEquals(await adapter.getHistory("e0"), expected(entries), "getHistory()");
    },
  },
  {
    name: "saveProgram() of one id saved concurrently keeps exactly one whole version",
    async run(adapter) {
      const versions = Array.from({ length: 12 }, (_, i) =>
        makeProgram("p1", {
          name: `version ${i}`,
          bytecode: Array.from({ length: 200 }, () => ({ version: i })),
        }));
      const results = await Promise.allSettled(versions.map((p) => adapter.saveProgram(p)));
      for (const result of results) {
        assert(
          result.status === "fulfilled",
          `every concurrent save must succeed, got ${
            result.status === "rejected" ? describeError(result.reason) : ""
          }`,
        );
      }
      const got = await adapter.getProgram("p1");
      const match = versions.find((v) => v.name === got?.name);
      assert(match !== undefined, `getProgram() returned no saved version: ${got?.name}`);
      assertEquals(got, expected(match), "getProgram() after concurrent saves");
      assertEquals((await adapter.listPrograms()).length, 1, "listPrograms() length");
    },
  },
  {
    name: "deleteProgram() returns true, then false, and removes only that program",
    async run(adapter) {
      const programs = ["p1", "p10", "p", "P1"].map((id) => makeProgram(id));
      for (const p of programs) await adapter.saveProgram(p);
      assertSame(await adapter.deleteProgram("p1"), true, "deleteProgram() of a saved program");
      assertSame(await adapter.getProgram("p1"), null, "getProgram() after deleteProgram()");
      assertSame(await adapter.deleteProgram("p1"), false, "deleteProgram() a second time");
      await expectPrograms(adapter, programs.slice(1), "after deleting p1");
      for (const p of programs.slice(1)) {
        assertEquals(await adapter.getProgram(p.id), expected(p), `getProgram("${p.id}")`);
      }
    },
  },
  {
    name: "deleteExecution() returns true, then false, and removes only that execution",
    async run(adapter) {
      const executions = ["e1", "e10", "e", "E1"].map((id) => makeExecution(id));
      for (const e of executions) await adapter.saveExecution(e);
      assertSame(await adapter.deleteExecution("e1"), true, "deleteExecution() of a saved one");
      assertSame(await adapter.getExecution("e1"), null, "getExecution() after delete");
      assertSame(await adapter.deleteExecution("e1"), false, "deleteExecution() a second time");
      await expectExecutions(adapter, executions.slice(1), "after deleting e1");
      await expectExecutions(adapter, executions.slice(1), "after deleting e1", "p1");
    },
  },
  {
    name: "deleteExecution() removes the execution's history and no other history",
    async run(adapter) {
      const ids = ["e1", "e10", "e", "E1", "e1 "];
      for (const id of ids) {
        await adapter.saveExecution(makeExecution(id));
        for (const step of [0, 1, 2]) await adapter.saveHistory(makeHistory(id, step));
      }
      assertSame(await adapter.deleteExecution("e1"), true, "deleteExecution()");
      assertEquals(await adapter.getHistory("e1"), [], "getHistory() of the deleted execution");
      for (const id of ids.slice(1)) {
        assertEquals(
          await adapter.getHistory(id),
          expected([0, 1, 2].map((step) => makeHistory(id, step))),
          `getHistory(${JSON.stringify(id)})`,
        );
      }
    },
  },
  {
    name: "deleteExecution() removes the execution's output and no other output",
    async run(adapter) {
      const ids = ["e1", "e10", "e", "E1", "e1 "];
      for (const id of ids) {
        await adapter.saveExecution(makeExecution(id));
        await adapter.appendOutput(id, [`${id} one`, `${id} two`]);
      }
      assertSame(await adapter.deleteExecution("e1"), true, "deleteExecution()");
      assertEquals(await adapter.getOutput("e1"), [], "getOutput() of the deleted execution");
      for (const id of ids.slice(1)) {
        assertEquals(
          await adapter.getOutput(id),
          [`${id} one`, `${id} two`],
          `getOutput(${JSON.stringify(id)})`,
        );
      }
      // Output appended after the delete starts afresh.
      await adapter.saveExecution(makeExecution("e1"));
      await adapter.appendOutput("e1", ["again"]);
      assertEquals(await adapter.getOutput("e1"), ["again"], "getOutput() after a new append");
    },
  },
  {
    name: "deleteExecution() lets the same history keys be saved again afterwards",
    async run(adapter) {
      await adapter.saveExecution(makeExecution("e1"));
      await adapter.saveHistory(makeHistory("e1", 0, { instruction: "OLD" }));
      assertSame(await adapter.deleteExecution("e1"), true, "deleteExecution()");
      const again = makeHistory("e1", 0, { instruction: "NEW" });
      await adapter.saveExecution(makeExecution("e1"));
      await adapter.saveHistory(again);
      assertEquals(await adapter.getHistory("e1"), [expected(again)], "getHistory()");
    },
  },
  {
    name: "deleteProgram() keeps the program's executions and their history",
    async run(adapter) {
      const executions = [makeExecution("e1", "p1"), makeExecution("e2", "p1")];
      await adapter.saveProgram(makeProgram("p1"));
      for (const e of executions) await adapter.saveExecution(e);
      await adapter.saveHistory(makeHistory("e1", 0));
      assertSame(await adapter.deleteProgram("p1"), true, "deleteProgram()");
      await expectExecutions(adapter, executions, "after deleteProgram()", "p1");
      assertEquals(
        await adapter.getHistory("e1"),
        [expected(makeHistory("e1", 0))],
        "getHistory() after deleteProgram()",
      );
    },
  },
  {
    name: "deleteExecution() keeps the execution's program",
    async run(adapter) {
      const program = makeProgram("p1");
      await adapter.saveProgram(program);
      await adapter.saveExecution(makeExecution("e1", "p1"));
      assertSame(await adapter.deleteExecution("e1"), true, "deleteExecution()");
      await expectPrograms(adapter, [program], "after deleteExecution()");
    },
  },
  {
    name: "deleteProgram() and deleteExecution() keep a program and an execution of one id apart",
    async run(adapter) {
      const program = makeProgram("x");
      const execution = makeExecution("x", "x");
      const entry = makeHistory("x", 0);
      await adapter.saveProgram(program);
      assertSame(await adapter.getExecution("x"), null, "getExecution() of a program's id");
      await expectExecutions(adapter, [], "only a program saved");
      await adapter.saveExecution(execution);
      await adapter.saveHistory(entry);
      assertSame(await adapter.deleteProgram("x"), true, "deleteProgram()");
      assertEquals(await adapter.getExecution("x"), expected(execution), "getExecution()");
      assertEquals(await adapter.getHistory("x"), [expected(entry)], "getHistory()");
      await adapter.saveProgram(program);
      assertSame(await adapter.deleteExecution("x"), true, "deleteExecution()");
      assertEquals(await adapter.getProgram("x"), expected(program), "getProgram()");
      await expectPrograms(adapter, [program], "after deleteExecution()");
      await expectExecutions(adapter, [], "after deleteExecution()");
    },
  },
  {
    name: "saveProgram() and saveExecution() store a deleted id again as a new record",
    async run(adapter) {
      await adapter.saveProgram(makeProgram("p1", { extra: "old" }));
      await adapter.saveExecution(makeExecution("e1", "p1", { extra: "old" }));
      await adapter.deleteProgram("p1");
      await adapter.deleteExecution("e1");
      const program = makeProgram("p1", { name: "again" });
      const execution = makeExecution("e1", "p2");
      await adapter.saveProgram(program);
      await adapter.saveExecution(execution);
      await expectPrograms(adapter, [program], "after saving again");
      await expectExecutions(adapter, [execution], "after saving again");
      await expectExecutions(adapter, [], "after saving again", "p1");
    },
  },
];
