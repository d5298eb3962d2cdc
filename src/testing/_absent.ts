/**
 * Compliance cases: asking for what is not there is not an error.
 *
 * @module
 */

import type { StorageAdapter } from "../types.ts";
import { assertEquals, assertSame } from "./_assert.ts";
import { expected, makeExecution, makeHistory, makeProgram } from "./_fixtures.ts";
import type { Case } from "./_types.ts";

/** Ids close to "p1" and "e1": prefixes, extensions, case and space variants. */
const NEIGHBOURS = ["p", "p10", "P1", "p1 ", " p1", "p1.json", "p*", "p.", ".*", "e", "e10", "E1"];

/** Saves p1, e1 (of p1) and one history entry of e1, so lookups have neighbours. */
async function seed(adapter: StorageAdapter): Promise<void> {
  await adapter.saveProgram(makeProgram("p1"));
  await adapter.saveExecution(makeExecution("e1", "p1"));
  await adapter.saveHistory(makeHistory("e1", 0));
  await adapter.appendOutput("e1", ["line"]);
}

/** The absent-record cases. */
export const absentCases: readonly Case[] = [
  {
    name: "getProgram() returns null for an unknown id",
    async run(adapter) {
      assertSame(await adapter.getProgram("p1"), null, "getProgram() on an empty store");
      await seed(adapter);
      for (const id of [...NEIGHBOURS, "e1"]) {
        assertSame(await adapter.getProgram(id), null, `getProgram(${JSON.stringify(id)})`);
      }
    },
  },
  {
    name: "getExecution() returns null for an unknown id",
    async run(adapter) {
      assertSame(await adapter.getExecution("e1"), null, "getExecution() on an empty store");
      await seed(adapter);
      for (const id of [...NEIGHBOURS.filter((id) => id !== "e1"), "p1"]) {
        assertSame(await adapter.getExecution(id), null, `getExecution(${JSON.stringify(id)})`);
      }
    },
  },
  {
    name: "getHistory() returns [] for an execution without history",
    async run(adapter) {
      assertEquals(await adapter.getHistory("e1"), [], "getHistory() on an empty store");
      await seed(adapter);
      await adapter.saveExecution(makeExecution("e2", "p1"));
      assertEquals(await adapter.getHistory("e2"), [], "getHistory() of a saved execution");
      for (const id of [...NEIGHBOURS, "p1"]) {
        assertEquals(await adapter.getHistory(id), [], `getHistory(${JSON.stringify(id)})`);
      }
    },
  },
  {
    name: "getHistory() with a query returns [] for an execution without history",
    async run(adapter) {
      await seed(adapter);
      for (const id of ["e2", ...NEIGHBOURS.filter((id) => id !== "e1")]) {
        for (const query of [{ limit: 1 }, { reverse: true, limit: 1 }, { fromStep: 0 }]) {
          assertEquals(
            await adapter.getHistory(id, query),
            [],
            `getHistory(${JSON.stringify(id)}, ${JSON.stringify(query)})`,
          );
        }
      }
    },
  },
  {
    name: "getOutput() returns [] for an execution without output",
    async run(adapter) {
      assertEquals(await adapter.getOutput("e1"), [], "getOutput() on an empty store");
      await seed(adapter);
      await adapter.saveExecution(makeExecution("e2", "p1"));
      assertEquals(await adapter.getOutput("e2"), [], "getOutput() of a saved execution");
      assertEquals(
        await adapter.getOutput("e2", { from: 0, limit: 5 }),
        [],
        "getOutput() of a saved execution, with a query",
      );
      for (const id of [...NEIGHBOURS.filter((id) => id !== "e1"), "p1"]) {
        assertEquals(await adapter.getOutput(id), [], `getOutput(${JSON.stringify(id)})`);
      }
    },
  },
  {
    name: "getCurrentExecutionId() returns null when none was set",
    async run(adapter) {
      assertSame(await adapter.getCurrentExecutionId(), null, "on an empty store");
      await seed(adapter);
      assertSame(await adapter.getCurrentExecutionId(), null, "after saving records");
    },
  },
  {
    name: "deleteProgram() returns false for an unknown id and deletes nothing",
    async run(adapter) {
      assertSame(await adapter.deleteProgram("p1"), false, "deleteProgram() on an empty store");
      await seed(adapter);
      for (const id of [...NEIGHBOURS, "e1"]) {
        assertSame(await adapter.deleteProgram(id), false, `deleteProgram(${JSON.stringify(id)})`);
      }
      assertEquals(await adapter.listPrograms(), [expected(makeProgram("p1"))], "listPrograms()");
      assertEquals(
        await adapter.listExecutions(),
        [expected(makeExecution("e1", "p1"))],
        "listExecutions()",
      );
    },
  },
  {
    name: "deleteExecution() returns false for an unknown id and deletes nothing",
    async run(adapter) {
      assertSame(await adapter.deleteExecution("e1"), false, "deleteExecution() on empty store");
      await seed(adapter);
      for (const id of [...NEIGHBOURS.filter((id) => id !== "e1"), "p1"]) {
        assertSame(
          await adapter.deleteExecution(id),
          false,
          `deleteExecution(${JSON.stringify(id)})`,
        );
      }
      assertEquals(
        await adapter.listExecutions(),
        [expected(makeExecution("e1", "p1"))],
        "listExecutions()",
      );
      assertEquals(
        await adapter.getHistory("e1"),
        [expected(makeHistory("e1", 0))],
        "getHistory()",
      );
      assertEquals(await adapter.listPrograms(), [expected(makeProgram("p1"))], "listPrograms()");
      assertEquals(await adapter.getOutput("e1"), ["line"], "getOutput()");
    },
  },
  {
    name: "listPrograms() and listExecutions() return [] when there is nothing to list",
    async run(adapter) {
      assertEquals(await adapter.listPrograms(), [], "listPrograms() on an empty store");
      assertEquals(await adapter.listExecutions(), [], "listExecutions() on an empty store");
      assertEquals(
        await adapter.listExecutions({ programId: "p1" }),
        [],
        "listExecutions({ programId }) on an empty store",
      );
      assertEquals(
        await adapter.listExecutions({ state: "running", after: "a", limit: 3 }),
        [],
        "listExecutions({ state, after, limit }) on an empty store",
      );
      assertEquals(
        await adapter.listPrograms({ after: "a", limit: 3 }),
        [],
        "listPrograms({ after, limit }) on an empty store",
      );
      await seed(adapter);
      for (const programId of [...NEIGHBOURS, "e1"]) {
        assertEquals(
          await adapter.listExecutions({ programId }),
          [],
          `listExecutions({ programId: ${JSON.stringify(programId)} })`,
        );
      }
    },
  },
];
