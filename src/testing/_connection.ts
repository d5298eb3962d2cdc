/**
 * Compliance cases: connecting, disconnecting, and `NotConnectedError`.
 *
 * @module
 */

import { ConflictError, NotConnectedError, StorageError } from "../errors.ts";
import type { StorageAdapter } from "../types.ts";
import { assert, assertEquals, assertRejects, assertSame, checkEach } from "./_assert.ts";
import { expected, makeExecution, makeHistory, makeProgram, saveAndCheck } from "./_fixtures.ts";
import type { Case } from "./_types.ts";

interface Call {
  label: string;
  call(adapter: StorageAdapter): Promise<unknown>;
}

/** Every record method, called with valid arguments. */
const RECORD_CALLS: readonly Call[] = [
  { label: "saveProgram()", call: (a) => a.saveProgram(makeProgram("p1")) },
  { label: "getProgram()", call: (a) => a.getProgram("p1") },
  { label: "saveExecution()", call: (a) => a.saveExecution(makeExecution("e1")) },
  { label: "getExecution()", call: (a) => a.getExecution("e1") },
  { label: "saveHistory()", call: (a) => a.saveHistory(makeHistory("e1", 0)) },
  { label: "getHistory()", call: (a) => a.getHistory("e1") },
  { label: "listPrograms()", call: (a) => a.listPrograms() },
  { label: "listExecutions()", call: (a) => a.listExecutions() },
  { label: "listExecutions({ programId })", call: (a) => a.listExecutions({ programId: "p1" }) },
  { label: "deleteProgram()", call: (a) => a.deleteProgram("p1") },
  { label: "deleteExecution()", call: (a) => a.deleteExecution("e1") },
  { label: "getHistory() with a query", call: (a) => a.getHistory("e1", { limit: 1 }) },
  { label: "listPrograms() with a query", call: (a) => a.listPrograms({ limit: 1 }) },
  { label: "appendOutput()", call: (a) => a.appendOutput("e1", ["line"]) },
  { label: "getOutput()", call: (a) => a.getOutput("e1") },
  { label: "getOutput() with a query", call: (a) => a.getOutput("e1", { from: 1 }) },
  { label: "getCurrentExecutionId()", call: (a) => a.getCurrentExecutionId() },
  { label: "setCurrentExecutionId()", call: (a) => a.setCurrentExecutionId("e1") },
  { label: "setCurrentExecutionId(null)", call: (a) => a.setCurrentExecutionId(null) },
];

async function expectNotConnected(adapter: StorageAdapter, when: string): Promise<void> {
  await checkEach(RECORD_CALLS, (c) => `${c.label} ${when}`, async (c) => {
    const error = await assertRejects(
      () => c.call(adapter),
      NotConnectedError,
      "NOT_CONNECTED",
      `${c.label} ${when}`,
    );
    assert(error instanceof StorageError, `${c.label}: NotConnectedError must extend StorageError`);
  });
}

/** The connection cases. */
export const connectionCases: readonly Case[] = [
  {
    name: "isConnected() is false before connect()",
    connect: false,
    run: (adapter) => {
      assertSame(adapter.isConnected(), false, "isConnected() on a fresh adapter");
      return Promise.resolve();
    },
  },
  {
    name: "connect() connects, and calling it again is harmless",
    connect: false,
    async run(adapter) {
      await adapter.connect();
      assertSame(adapter.isConnected(), true, "isConnected() after connect()");
      await adapter.connect();
      assertSame(adapter.isConnected(), true, "isConnected() after a second connect()");
      await saveAndCheck(adapter);
    },
  },
  {
    name: "connect() called twice at once connects once",
    connect: false,
    async run(adapter) {
      await Promise.all([adapter.connect(), adapter.connect()]);
      assertSame(adapter.isConnected(), true, "isConnected() after two concurrent connect()");
      await saveAndCheck(adapter);
      await adapter.disconnect();
      assertSame(adapter.isConnected(), false, "isConnected() after disconnect()");
    },
  },
  {
    name: "disconnect() disconnects, and calling it again is harmless",
    async run(adapter) {
      assertSame(adapter.isConnected(), true, "isConnected() after connect()");
      await adapter.disconnect();
      assertSame(adapter.isConnected(), false, "isConnected() after disconnect()");
      await adapter.disconnect();
      assertSame(adapter.isConnected(), false, "isConnected() after a second disconnect()");
    },
  },
  {
    name: "disconnect() before connect() is harmless",
    connect: false,
    async run(adapter) {
      await adapter.disconnect();
      assertSame(adapter.isConnected(), false, "isConnected() after disconnect()");
      await adapter.connect();
      assertSame(adapter.isConnected(), true, "isConnected() after connect()");
      await saveAndCheck(adapter);
    },
  },
  {
    name: "every record method throws NotConnectedError before connect()",
    connect: false,
    run: (adapter) => expectNotConnected(adapter, "before connect()"),
  },
  {
    name: "every record method throws NotConnectedError after disconnect()",
    async run(adapter) {
      await adapter.disconnect();
      await expectNotConnected(adapter, "after disconnect()");
    },
  },
  {
    name: "record methods rejected with NotConnectedError write nothing",
    async run(adapter) {
      const kept = makeExecution("e-kept");
      await adapter.saveExecution(kept);
      await adapter.saveHistory(makeHistory("e-kept", 0));
      await adapter.appendOutput("e-kept", ["kept"]);
      await adapter.setCurrentExecutionId("e-kept");
      await adapter.disconnect();
      for (const c of RECORD_CALLS) await c.call(adapter).catch(() => {});
      await adapter.deleteExecution("e-kept").catch(() => {});
      await adapter.appendOutput("e-kept", ["lost"]).catch(() => {});
      await adapter.connect();
      assertEquals(await adapter.getOutput("e1"), [], "getOutput() of a rejected append");
      assertEquals(await adapter.getOutput("e-kept"), ["kept"], "getOutput() of e-kept");
      assertSame(
        await adapter.getCurrentExecutionId(),
        "e-kept",
        "getCurrentExecutionId() after rejected sets",
      );
      assertSame(await adapter.getProgram("p1"), null, "getProgram() of a rejected save");
      assertSame(await adapter.getExecution("e1"), null, "getExecution() of a rejected save");
      assertEquals(await adapter.getHistory("e1"), [], "getHistory() of a rejected save");
      assertEquals(
        await adapter.getExecution("e-kept"),
        expected(kept),
        "getExecution() after a rejected deleteExecution()",
      );
      assertEquals(
        await adapter.getHistory("e-kept"),
        [expected(makeHistory("e-kept", 0))],
        "getHistory() after a rejected deleteExecution()",
      );
    },
  },
  {
    name: "connect() after disconnect() finds the data saved before",
    run: (adapter) =>
      checkSurvives(adapter, async () => {
        await adapter.disconnect();
        await adapter.connect();
        assertSame(adapter.isConnected(), true, "isConnected() after reconnecting");
        return adapter;
      }),
  },
  {
    name: "a new adapter on the same store finds the data saved before (a restart)",
    run: (adapter, context) => checkSurvives(adapter, () => context.restart()),
  },
  {
    name: "[Symbol.asyncDispose]() disconnects, so `await using` releases the adapter",
    async run(adapter) {
      assertSame(
        typeof adapter[Symbol.asyncDispose],
        "function",
        "typeof adapter[Symbol.asyncDispose]",
      );
      await adapter.saveProgram(makeProgram("p1"));
      const result = adapter[Symbol.asyncDispose]();
      assert(
        result !== null && typeof (result as Promise<void>)?.then === "function",
        "[Symbol.asyncDispose]() must return a promise",
      );
      await result;
      assertSame(adapter.isConnected(), false, "isConnected() after [Symbol.asyncDispose]()");
      await expectNotConnected(adapter, "after [Symbol.asyncDispose]()");
      await adapter[Symbol.asyncDispose]();
      await adapter.connect();
      assertEquals(await adapter.getProgram("p1"), expected(makeProgram("p1")), "getProgram()");
    },
  },
];

/** Saves one of everything, restarts with `reopen`, and checks that all of it is there. */
async function checkSurvives(
  adapter: StorageAdapter,
  reopen: () => Promise<StorageAdapter>,
): Promise<void> {
  const program = makeProgram("p1", { updated: new Date(1), bytecode: new Uint8Array([1, 2]) });
  const execution = makeExecution("e1", "p1", {
    state: "AWAITING_COGNITIVE_RESULT",
    variables: { when: new Date(2), nan: NaN, half: "\ud83d" },
    error: null,
  });
  const entries = [makeHistory("e1", 1), makeHistory("e1", 0), makeHistory("e1", -1)];
  await adapter.saveProgram(program);
  await adapter.saveProgram(makeProgram("p2"));
  await adapter.deleteProgram("p2");
  await adapter.saveExecution(execution);
  for (const entry of entries) await adapter.saveHistory(entry);
  await adapter.appendOutput("e1", ["one", "two"]);
  await adapter.appendOutput("e1", ["three"]);
  await adapter.setCurrentExecutionId("e1");

  const again = await reopen();

  assertEquals(await again.getProgram("p1"), expected(program), "getProgram()");
  assertSame(await again.getProgram("p2"), null, "getProgram() of a deleted program");
  assertEquals(await again.listPrograms(), [expected(program)], "listPrograms()");
  assertEquals(await again.getExecution("e1"), expected(execution), "getExecution()");
  assertEquals(
    await again.getHistory("e1"),
    expected([entries[2], entries[1], entries[0]]),
    "getHistory()",
  );
  assertEquals(await again.getOutput("e1"), ["one", "two", "three"], "getOutput()");
  assertSame(await again.getCurrentExecutionId(), "e1", "getCurrentExecutionId()");
  // The history key survived too: a different entry is still a conflict.
  await assertRejects(
    () => again.saveHistory(makeHistory("e1", 0, { instruction: "OTHER" })),
    ConflictError,
    "CONFLICT",
    "saveHistory() of a different entry with a stored key, after reconnecting",
  );
  // And the output goes on after what is there.
  await again.appendOutput("e1", ["four"]);
  assertEquals(await again.getOutput("e1"), ["one", "two", "three", "four"], "getOutput()");
}
