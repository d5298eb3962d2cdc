/**
 * Compliance cases: the adapter and its caller never share mutable objects.
 *
 * @module
 */

import type { Execution, History, Program, StorageAdapter } from "../types.ts";
import { assert, assertEquals, assertNoSharedObjects, hasOwn } from "./_assert.ts";
import {
  at,
  expected,
  makeExecution,
  makeHistory,
  makeProgram,
  saveAndCheck,
} from "./_fixtures.ts";
import type { Case } from "./_types.ts";

function richProgram(id = "p1"): Program {
  return makeProgram(id, {
    updated: at(1),
    bytecode: [{ op: "PUSH", arg: [1, 2], at: at(2) }, { op: "PRINT" }, new Uint8Array([7, 8])],
    meta: { tags: ["a"], when: at(3) },
  });
}

function richExecution(id = "e1"): Execution {
  return makeExecution(id, "p1", {
    updated: at(1),
    stack: [1, [2, 3], { when: at(2) }],
    variables: { x: 1, list: [1, 2], obj: { y: "z", when: at(3) }, bytes: new Uint8Array(3) },
    output: ["one", "two"],
    meta: { attempts: [1] },
  });
}

function richHistory(executionId = "e1", step = 0): History {
  return makeHistory(executionId, step, {
    stack: [1, [2, 3], { when: at(2) }],
    variables: { x: 1, list: [1, 2], obj: { y: "z", when: at(3) } },
    meta: { tags: ["a"], bytes: new Uint8Array([1]) },
  });
}

/**
 * Changes everything reachable from `value`: every primitive it holds, every `Date`'s
 * time, and adds an item to every array and a key to every object.
 */
function vandalize(value: unknown, seen = new Set<object>()): void {
  if (typeof value !== "object" || value === null || seen.has(value)) return;
  seen.add(value);
  if (value instanceof Date) {
    value.setTime(value.getTime() + 86_400_000);
    return;
  }
  if (value instanceof Uint8Array) {
    value.fill(0xee);
    return;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      if (typeof value[i] === "object" && value[i] !== null) vandalize(value[i], seen);
      else value[i] = "vandalized";
    }
    value.push("vandalized");
    return;
  }
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    const item = record[key];
    if (typeof item === "object" && item !== null) vandalize(item, seen);
    else record[key] = "vandalized";
  }
  record.vandalized = true;
}

/** Freezes `value` and everything reachable from it. */
function deepFreeze<T>(value: T): T {
  // A typed array with elements cannot be frozen.
  if (ArrayBuffer.isView(value)) return value;
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}

function checkUnchanged(record: object, snapshot: object, label: string): void {
  assertEquals(record, snapshot, `${label}: the record passed in was modified`);
  assert(
    Object.getPrototypeOf(record) === Object.getPrototypeOf(snapshot),
    `${label}: the record's prototype was changed`,
  );
}

async function checkDistinct(
  adapter: StorageAdapter,
  read: () => Promise<unknown>,
  saved: unknown,
  label: string,
): Promise<void> {
  const first = await read();
  const second = await read();
  assertNoSharedObjects(first, second, `two calls of ${label}`);
  assertNoSharedObjects(saved, first, `the saved record and the result of ${label}`);
  assert(adapter.isConnected(), "the adapter must stay connected");
}

/** The copy cases. */
export const copiesCases: readonly Case[] = [
  {
    name: "saveProgram() does not modify the record passed to it",
    async run(adapter) {
      const program = richProgram();
      const snapshot = expected(program);
      await adapter.saveProgram(program);
      checkUnchanged(program, snapshot, "saveProgram()");
      await adapter.saveProgram(program);
      checkUnchanged(program, snapshot, "saveProgram() replacing");
    },
  },
  {
    name: "saveExecution() does not modify the record passed to it",
    async run(adapter) {
      const execution = richExecution();
      const snapshot = expected(execution);
      await adapter.saveExecution(execution);
      checkUnchanged(execution, snapshot, "saveExecution()");
      await adapter.saveExecution(execution);
      checkUnchanged(execution, snapshot, "saveExecution() replacing");
    },
  },
  {
    name: "saveHistory() does not modify the record passed to it",
    async run(adapter) {
      const entry = richHistory();
      const snapshot = expected(entry);
      await adapter.saveHistory(entry);
      checkUnchanged(entry, snapshot, "saveHistory()");
      await adapter.saveHistory(entry).catch(() => {});
      checkUnchanged(entry, snapshot, "saveHistory() of a duplicate");
    },
  },
  {
    name: "saveProgram(), saveExecution() and saveHistory() accept deeply frozen records",
    async run(adapter) {
      await saveAndCheck(adapter, {
        program: deepFreeze(richProgram()),
        execution: deepFreeze(richExecution()),
        entry: deepFreeze(richHistory()),
      });
    },
  },
  {
    name: "saveProgram() keeps a copy: changing the record afterwards changes nothing stored",
    async run(adapter) {
      const program = richProgram();
      const snapshot = expected(program);
      await adapter.saveProgram(program);
      vandalize(program);
      assertEquals(await adapter.getProgram("p1"), snapshot, "getProgram()");
      assertEquals(await adapter.listPrograms(), [snapshot], "listPrograms()");
    },
  },
  {
    name: "saveExecution() keeps a copy: changing the record afterwards changes nothing stored",
    async run(adapter) {
      const execution = richExecution();
      const snapshot = expected(execution);
      await adapter.saveExecution(execution);
      vandalize(execution);
      assertEquals(await adapter.getExecution("e1"), snapshot, "getExecution()");
      assertEquals(await adapter.listExecutions(), [snapshot], "listExecutions()");
    },
  },
  {
    name: "saveHistory() keeps a copy: changing the entry afterwards changes nothing stored",
    async run(adapter) {
      const entry = richHistory();
      const snapshot = expected(entry);
      await adapter.saveHistory(entry);
      vandalize(entry);
      assertEquals(await adapter.getHistory("e1"), [snapshot], "getHistory()");
    },
  },
  {
    name: "getProgram() and listPrograms() return copies: changing them changes nothing stored",
    async run(adapter) {
      const snapshot = expected(richProgram());
      await adapter.saveProgram(richProgram());
      vandalize(await adapter.getProgram("p1"));
      assertEquals(await adapter.getProgram("p1"), snapshot, "getProgram() after changing one");
      const list = await adapter.listPrograms();
      vandalize(list);
      list.length = 0;
      assertEquals(await adapter.getProgram("p1"), snapshot, "getProgram() after changing a list");
      assertEquals(await adapter.listPrograms(), [snapshot], "listPrograms()");
    },
  },
  {
    name: "getExecution() and listExecutions() return copies: changing them changes nothing stored",
    async run(adapter) {
      const snapshot = expected(richExecution());
      await adapter.saveExecution(richExecution());
      vandalize(await adapter.getExecution("e1"));
      assertEquals(await adapter.getExecution("e1"), snapshot, "getExecution() after changing");
      const all = await adapter.listExecutions();
      vandalize(all);
      const filtered = await adapter.listExecutions({ programId: "p1" });
      vandalize(filtered);
      filtered.pop();
      assertEquals(await adapter.getExecution("e1"), snapshot, "getExecution() after lists");
      assertEquals(await adapter.listExecutions(), [snapshot], "listExecutions()");
      assertEquals(
        await adapter.listExecutions({ programId: "p1" }),
        [snapshot],
        "listExecutions({ programId })",
      );
    },
  },
  {
    name: "getHistory() returns copies: changing them changes nothing stored",
    async run(adapter) {
      const entries = [richHistory("e1", 0), richHistory("e1", 1)];
      const snapshot = expected(entries);
      for (const entry of entries) await adapter.saveHistory(entry);
      const got = await adapter.getHistory("e1");
      vandalize(got);
      got.reverse();
      got.push(richHistory("e1", 2));
      assertEquals(await adapter.getHistory("e1"), snapshot, "getHistory() after changing one");
    },
  },
  {
    name: "getProgram() and listPrograms() return new objects on every call",
    async run(adapter) {
      const program = richProgram();
      await adapter.saveProgram(program);
      await checkDistinct(adapter, () => adapter.getProgram("p1"), program, "getProgram()");
      await checkDistinct(adapter, () => adapter.listPrograms(), [program], "listPrograms()");
      assertNoSharedObjects(
        await adapter.getProgram("p1"),
        await adapter.listPrograms(),
        "getProgram() and listPrograms()",
      );
    },
  },
  {
    name: "getExecution() and listExecutions() return new objects on every call",
    async run(adapter) {
      const execution = richExecution();
      await adapter.saveExecution(execution);
      await checkDistinct(adapter, () => adapter.getExecution("e1"), execution, "getExecution()");
      await checkDistinct(
        adapter,
        () => adapter.listExecutions(),
        [execution],
        "listExecutions()",
      );
      await checkDistinct(
        adapter,
        () => adapter.listExecutions({ programId: "p1" }),
        [execution],
        "listExecutions({ programId })",
      );
    },
  },
  {
    name: "getHistory() returns new objects on every call",
    async run(adapter) {
      const entries = [richHistory("e1", 0), richHistory("e1", 1)];
      for (const entry of entries) await adapter.saveHistory(entry);
      await checkDistinct(adapter, () => adapter.getHistory("e1"), entries, "getHistory()");
      const [first, second] = await adapter.getHistory("e1");
      assertNoSharedObjects(first, second, "two entries of one getHistory() result");
      assert(!hasOwn(first, "_id"), "getHistory(): entries must not carry _id");
    },
  },
  {
    name: "appendOutput() keeps a copy: changing the lines afterwards changes nothing stored",
    async run(adapter) {
      const lines = ["one", "two"];
      await adapter.appendOutput("e1", lines);
      lines.push("three");
      lines[0] = "changed";
      assertEquals(await adapter.getOutput("e1"), ["one", "two"], "getOutput()");
      const frozen = Object.freeze(["three"]);
      await adapter.appendOutput("e1", frozen as string[]);
      assertEquals(await adapter.getOutput("e1"), ["one", "two", "three"], "getOutput()");
    },
  },
  {
    name: "getOutput() returns a new array: changing it changes nothing stored",
    async run(adapter) {
      await adapter.appendOutput("e1", ["one", "two"]);
      const got = await adapter.getOutput("e1");
      got.push("three");
      got[0] = "changed";
      const ranged = await adapter.getOutput("e1", { from: 1 });
      ranged.length = 0;
      assertEquals(await adapter.getOutput("e1"), ["one", "two"], "getOutput() after changes");
      assert(
        (await adapter.getOutput("e1")) !== (await adapter.getOutput("e1")),
        "getOutput() must return a new array on every call",
      );
    },
  },
];
