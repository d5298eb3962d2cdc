/**
 * Compliance cases: connecting, disconnecting, and `NotConnectedError`.
 *
 * @module
 */

import { ConflictError, NotConnectedError, StorageError } from "../errors.ts";
import type { StorageAdapter } from "../types.ts";
import { assert, assertEquals, assertRejects, assertSame, checkEach } from "./_assert.ts";
import { expected, makeExecution, makeHistory, makeProgram, saveAndCheck } from "./_fixtures.ts";
import type { Case } from "./_harness.ts";

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
      await adapter.disconnect();
      for (const c of RECORD_CALLS) await c.call(adapter).catch(() => {});
      await adapter.deleteExecution("e-kept").catch(() => {});
      await adapter.connect();
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
    async run(adapter) {
      const program = makeProgram("p1", { updated: new Date(1) });
      const execution = makeExecution("e1", "p1", { variables: { when: new Date(2) } });
      const entries = [makeHistory("e1", 1), makeHistory("e1", 0)];
      await adapter.saveProgram(program);
      await adapter.saveProgram(makeProgram("p2"));
      await adapter.deleteProgram("p2");
      await adapter.saveExecution(execution);
      for (const entry of entries) await adapter.saveHistory(entry);

      await adapter.disconnect();
      await adapter.connect();
      assertSame(adapter.isConnected(), true, "isConnected() after reconnecting");

      assertEquals(await adapter.getProgram("p1"), expected(program), "getProgram()");
      assertSame(await adapter.getProgram("p2"), null, "getProgram() of a deleted program");
      assertEquals(await adapter.listPrograms(), [expected(program)], "listPrograms()");
      assertEquals(await adapter.getExecution("e1"), expected(execution), "getExecution()");
      assertEquals(
        await adapter.getHistory("e1"),
        expected([entries[1], entries[0]]),
        "getHistory()",
      );
      // The history key survived too: a duplicate is still a conflict.
      await assertRejects(
        () => adapter.saveHistory(makeHistory("e1", 0)),
        ConflictError,
        "CONFLICT",
        "saveHistory() of a duplicate key after reconnecting",
      );
    },
  },
];
