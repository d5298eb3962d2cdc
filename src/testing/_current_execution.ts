/**
 * Compliance cases: the current execution is one stored pointer, a string id or `null`.
 *
 * @module
 */

import type { StorageAdapter } from "../types.ts";
import { assert, assertSame, describe } from "./_assert.ts";
import { makeExecution, makeHistory, makeProgram } from "./_fixtures.ts";
import type { Case } from "./_types.ts";

async function expectCurrent(
  adapter: StorageAdapter,
  want: string | null,
  context: string,
): Promise<void> {
  assertSame(await adapter.getCurrentExecutionId(), want, `getCurrentExecutionId() ${context}`);
}

/** The current-execution cases. */
export const currentExecutionCases: readonly Case[] = [
  {
    name: "getCurrentExecutionId() is null until setCurrentExecutionId() sets it",
    async run(adapter) {
      await expectCurrent(adapter, null, "on an empty store");
      await adapter.saveExecution(makeExecution("e1"));
      await expectCurrent(adapter, null, "after saving an execution");
      await adapter.setCurrentExecutionId("e1");
      await expectCurrent(adapter, "e1", "after setting it");
    },
  },
  {
    name: "setCurrentExecutionId() replaces the stored id, and null clears it",
    async run(adapter) {
      for (const id of ["e1", "e2", "e2", "E2", "e1"]) {
        await adapter.setCurrentExecutionId(id);
        await expectCurrent(adapter, id, `after setting "${id}"`);
      }
      await adapter.setCurrentExecutionId(null);
      await expectCurrent(adapter, null, "after clearing it");
      await adapter.setCurrentExecutionId(null);
      await expectCurrent(adapter, null, "after clearing it twice");
      await adapter.setCurrentExecutionId("e3");
      await expectCurrent(adapter, "e3", "after setting it again");
    },
  },
  {
    name: "setCurrentExecutionId() takes an id no execution has",
    async run(adapter) {
      await adapter.setCurrentExecutionId("never-saved");
      await expectCurrent(adapter, "never-saved", "for an unknown execution");
      assertSame(await adapter.getExecution("never-saved"), null, "getExecution()");
      for (const id of ["null", "undefined", "\u{1f600}", "../e1", "e1\u0000"]) {
        await adapter.setCurrentExecutionId(id);
        await expectCurrent(adapter, id, `after setting ${describe(id)}`);
      }
    },
  },
  {
    name: "deleteExecution() and deleteProgram() leave the current execution as it is",
    async run(adapter) {
      await adapter.saveProgram(makeProgram("p1"));
      await adapter.saveExecution(makeExecution("e1", "p1"));
      await adapter.saveHistory(makeHistory("e1", 0));
      await adapter.appendOutput("e1", ["line"]);
      await adapter.setCurrentExecutionId("e1");
      assertSame(await adapter.deleteExecution("e1"), true, "deleteExecution()");
      await expectCurrent(adapter, "e1", "after deleting that execution");
      assertSame(await adapter.deleteProgram("p1"), true, "deleteProgram()");
      await expectCurrent(adapter, "e1", "after deleting its program");
      await adapter.saveExecution(makeExecution("e2"));
      await adapter.deleteExecution("e2");
      await expectCurrent(adapter, "e1", "after saving and deleting another execution");
    },
  },
  {
    name: "getCurrentExecutionId() survives disconnect() and connect() of the same adapter",
    async run(adapter) {
      await adapter.setCurrentExecutionId("e1");
      await adapter.disconnect();
      await adapter.connect();
      await expectCurrent(adapter, "e1", "after reconnecting");
      await adapter.setCurrentExecutionId(null);
      await adapter.disconnect();
      await adapter.connect();
      await expectCurrent(adapter, null, "after clearing it and reconnecting");
    },
  },
  {
    name: "getCurrentExecutionId() survives a restart: a new adapter on the same store",
    async run(adapter, context) {
      await adapter.saveExecution(makeExecution("e1"));
      await adapter.setCurrentExecutionId("e1");
      let again = await context.restart();
      await expectCurrent(again, "e1", "after a restart");
      await again.setCurrentExecutionId("e2");
      again = await context.restart();
      await expectCurrent(again, "e2", "after changing it and restarting");
      await again.setCurrentExecutionId(null);
      again = await context.restart();
      await expectCurrent(again, null, "after clearing it and restarting");
    },
  },
  {
    name: "setCurrentExecutionId() called concurrently keeps one of the ids set, whole",
    async run(adapter) {
      const ids = Array.from({ length: 16 }, (_, i) => `execution-${i}-${"x".repeat(i * 10)}`);
      await Promise.all(ids.map((id) => adapter.setCurrentExecutionId(id)));
      const got = await adapter.getCurrentExecutionId();
      assert(
        got !== null && ids.includes(got),
        `getCurrentExecutionId() after concurrent sets must be one of them, got ${describe(got)}`,
      );
    },
  },
];
