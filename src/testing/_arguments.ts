/**
 * Compliance cases: every method checks its arguments, rejects bad ones through its
 * promise with a `StorageError` (never a synchronous throw, never a `TypeError`), and
 * writes nothing.
 *
 * @module
 */

import { StorageError, ValidationError } from "../errors.ts";
import type { Execution, History, Program, StorageAdapter } from "../types.ts";
import { assertEquals, assertRejects, assertSame, checkEach, describe } from "./_assert.ts";
import { expected, makeExecution, makeHistory, makeProgram } from "./_fixtures.ts";
import { INVALID_IDS } from "./_id_values.ts";
import type { Case } from "./_types.ts";

interface IdMethod {
  method: string;
  call(adapter: StorageAdapter, id: unknown): Promise<unknown>;
  /** Ids this method accepts although other methods reject them. */
  accepts?: (id: unknown) => boolean;
}

const ID_METHODS: readonly IdMethod[] = [
  {
    method: "saveProgram()",
    call: (a, id) => a.saveProgram({ ...makeProgram("x"), id } as Program),
  },
  { method: "getProgram()", call: (a, id) => a.getProgram(id as string) },
  { method: "deleteProgram()", call: (a, id) => a.deleteProgram(id as string) },
  {
    method: "saveExecution()",
    call: (a, id) => a.saveExecution({ ...makeExecution("x"), id } as Execution),
  },
  {
    method: "saveExecution() with the id as programId",
    call: (a, programId) => a.saveExecution({ ...makeExecution("x"), programId } as Execution),
  },
  { method: "getExecution()", call: (a, id) => a.getExecution(id as string) },
  { method: "deleteExecution()", call: (a, id) => a.deleteExecution(id as string) },
  {
    method: "saveHistory()",
    call: (a, executionId) => a.saveHistory({ ...makeHistory("x", 0), executionId } as History),
  },
  { method: "getHistory()", call: (a, id) => a.getHistory(id as string) },
  {
    method: "listExecutions({ programId })",
    call: (a, programId) => a.listExecutions({ programId: programId as string }),
    // `{ programId: undefined }` is no filter, as if the property were absent.
    accepts: (id) => id === undefined,
  },
  { method: "appendOutput()", call: (a, id) => a.appendOutput(id as string, ["line"]) },
  { method: "getOutput()", call: (a, id) => a.getOutput(id as string) },
  {
    method: "setCurrentExecutionId()",
    call: (a, id) => a.setCurrentExecutionId(id as string),
    // `null` clears the current execution.
    accepts: (id) => id === null,
  },
];

/** What is stored before each attempt, so "nothing was written" can be checked. */
async function seed(adapter: StorageAdapter): Promise<void> {
  await adapter.saveProgram(makeProgram("p-stored"));
  await adapter.saveExecution(makeExecution("e-stored", "p-stored"));
  await adapter.saveHistory(makeHistory("e-stored", 0));
  await adapter.appendOutput("e-stored", ["stored"]);
  await adapter.setCurrentExecutionId("e-stored");
}

async function expectSeedOnly(adapter: StorageAdapter, context: string): Promise<void> {
  assertEquals(
    await adapter.listPrograms(),
    [expected(makeProgram("p-stored"))],
    `listPrograms() ${context}`,
  );
  assertEquals(
    await adapter.listExecutions(),
    [expected(makeExecution("e-stored", "p-stored"))],
    `listExecutions() ${context}`,
  );
  assertEquals(
    await adapter.getHistory("e-stored"),
    [expected(makeHistory("e-stored", 0))],
    `getHistory() ${context}`,
  );
  assertEquals(await adapter.getOutput("e-stored"), ["stored"], `getOutput() ${context}`);
  assertSame(
    await adapter.getCurrentExecutionId(),
    "e-stored",
    `getCurrentExecutionId() ${context}`,
  );
}

function idCases(): Case[] {
  return ID_METHODS.map((m) => ({
    name: `${m.method} rejects an invalid id and writes nothing`,
    async run(adapter: StorageAdapter) {
      await seed(adapter);
      const ids = INVALID_IDS.filter((c) => !m.accepts?.(c.id));
      await checkEach(ids, (c) => `id ${c.label}`, async ({ id }) => {
        await assertRejects(() => m.call(adapter, id), ValidationError, "VALIDATION", m.method);
      });
      await expectSeedOnly(adapter, "afterwards");
    },
  }));
}

/** Values no method accepts anywhere, some of which throw when touched. */
function hostileValues(): { label: string; value: unknown }[] {
  const { proxy: revoked, revoke } = Proxy.revocable({}, {});
  revoke();
  const { proxy: revokedArray, revoke: revokeArray } = Proxy.revocable([], {});
  revokeArray();
  const trap = () => {
    throw new Error("trap failed");
  };
  return [
    { label: "a revoked proxy", value: revoked },
    { label: "a revoked proxy of an array", value: revokedArray },
    {
      label: "a proxy whose every trap throws",
      value: new Proxy({}, {
        get: trap,
        has: trap,
        ownKeys: trap,
        getOwnPropertyDescriptor: trap,
        getPrototypeOf: trap,
      }),
    },
    {
      label: "an object whose conversions throw",
      value: { toString: trap, valueOf: trap, [Symbol.toPrimitive]: trap },
    },
    {
      label: "an object whose getters throw",
      value: Object.defineProperties({}, {
        id: { get: trap, enumerable: true },
        after: { get: trap, enumerable: true },
        limit: { get: trap, enumerable: true },
        from: { get: trap, enumerable: true },
      }),
    },
    { label: "a symbol", value: Symbol("s") },
    { label: "a function", value: () => "p1" },
    { label: "a BigInt", value: BigInt(1) },
  ];
}

interface Slot {
  label: string;
  call(adapter: StorageAdapter, value: unknown): Promise<unknown>;
}

/** Every argument of every method that takes one. */
const SLOTS: readonly Slot[] = [
  { label: "saveProgram(program)", call: (a, v) => a.saveProgram(v as Program) },
  { label: "saveExecution(execution)", call: (a, v) => a.saveExecution(v as Execution) },
  { label: "saveHistory(entry)", call: (a, v) => a.saveHistory(v as History) },
  { label: "getProgram(id)", call: (a, v) => a.getProgram(v as string) },
  { label: "getExecution(id)", call: (a, v) => a.getExecution(v as string) },
  { label: "getHistory(executionId)", call: (a, v) => a.getHistory(v as string) },
  { label: "getHistory(id, query)", call: (a, v) => a.getHistory("e-stored", v as never) },
  {
    label: "getHistory(id, { after })",
    call: (a, v) => a.getHistory("e-stored", { after: v as never }),
  },
  { label: "listPrograms(query)", call: (a, v) => a.listPrograms(v as never) },
  { label: "listExecutions(query)", call: (a, v) => a.listExecutions(v as never) },
  { label: "deleteProgram(id)", call: (a, v) => a.deleteProgram(v as string) },
  { label: "deleteExecution(id)", call: (a, v) => a.deleteExecution(v as string) },
  { label: "appendOutput(executionId)", call: (a, v) => a.appendOutput(v as string, ["x"]) },
  { label: "appendOutput(id, lines)", call: (a, v) => a.appendOutput("e-stored", v as string[]) },
  { label: "appendOutput(id, [line])", call: (a, v) => a.appendOutput("e-stored", [v as string]) },
  { label: "getOutput(executionId)", call: (a, v) => a.getOutput(v as string) },
  { label: "getOutput(id, query)", call: (a, v) => a.getOutput("e-stored", v as never) },
  { label: "setCurrentExecutionId(id)", call: (a, v) => a.setCurrentExecutionId(v as string) },
];

/** The argument cases. */
export const argumentsCases: readonly Case[] = [
  ...idCases(),
  {
    name:
      "every method rejects hostile arguments through its promise with ValidationError, never a synchronous throw",
    async run(adapter) {
      await seed(adapter);
      const attempts = SLOTS.flatMap((slot) =>
        hostileValues().map(({ label, value }) => ({
          label: `${slot.label}: ${label}`,
          slot,
          value,
        }))
      );
      await checkEach(attempts, (a) => a.label, async ({ slot, value }) => {
        const error = await assertRejects(
          () => slot.call(adapter, value),
          ValidationError,
          "VALIDATION",
          slot.label,
        );
        if (!(error instanceof StorageError)) {
          throw new Error(`${slot.label}: the error must extend StorageError`);
        }
      });
      await expectSeedOnly(adapter, "after every hostile call");
    },
  },
  {
    name:
      "setCurrentExecutionId() rejects anything but a valid id or null, and keeps the stored one",
    async run(adapter) {
      await seed(adapter);
      const bad = [undefined, 0, false, {}, [], ["e1"], Object("e1"), new Date(0)];
      await checkEach(bad, describe, async (value) => {
        await assertRejects(
          () => adapter.setCurrentExecutionId(value as string),
          ValidationError,
          "VALIDATION",
          "setCurrentExecutionId()",
        );
      });
      await expectSeedOnly(adapter, "afterwards");
    },
  },
];
