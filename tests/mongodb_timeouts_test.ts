// Bounded calls and lost replies on the MongoDB backend: a server that is stopped
// (SIGSTOP), that accepts connections and never answers, or whose replies are lost after
// it applied a write. Every call fails within timeoutMS + 1 s with ConnectionError, a write
// that may have been applied says so (maybeStored), retrying it is safe, and the adapter
// works again once the server does.

import {
  assert,
  assertEquals,
  assertFalse,
  assertInstanceOf,
  assertLess,
  assertRejects,
  assertStringIncludes,
} from "@std/assert";
import {
  ConnectionError,
  MongoDBAdapter,
  NotConnectedError,
  type StorageAdapter,
  StorageError,
} from "../mod.ts";
import { type FerretDB, noFerretDB, startFerretDB } from "./_ferretdb.ts";
import {
  dropDatabase,
  freshDbName,
  mongoTest,
  noPermissions,
  noServer,
  offlineTest,
  reportMissingServer,
  serverTest,
} from "./_mongodb.ts";
import { startProxy, startSilentListener } from "./_tcp_proxy.ts";
import { makeExecution, makeHistory, makeProgram } from "./_utils.ts";

reportMissingServer("mongodb_timeouts_test.ts");

const TIMEOUT = 1000;
/** The contract's slack on top of timeoutMS. */
const SLACK = 1000;

/** Every method that talks to the server, with whether it writes. */
function calls(storage: StorageAdapter): [string, boolean, () => Promise<unknown>][] {
  return [
    ["getProgram", false, () => storage.getProgram("p1")],
    ["saveProgram", true, () => storage.saveProgram(makeProgram({ name: "again" }))],
    ["getExecution", false, () => storage.getExecution("e1")],
    ["saveExecution", true, () => storage.saveExecution(makeExecution({ pc: 9 }))],
    ["saveHistory", true, () => storage.saveHistory(makeHistory({ step: 9 }))],
    ["getHistory", false, () => storage.getHistory("e1", { reverse: true, limit: 1 })],
    ["listPrograms", false, () => storage.listPrograms()],
    ["listExecutions", false, () => storage.listExecutions({ state: "running" })],
    ["appendOutput", true, () => storage.appendOutput("e1", ["late"])],
    ["getOutput", false, () => storage.getOutput("e1")],
    ["getCurrentExecutionId", false, () => storage.getCurrentExecutionId()],
    ["setCurrentExecutionId", true, () => storage.setCurrentExecutionId("e9")],
    ["deleteProgram", true, () => storage.deleteProgram("p-none")],
    ["deleteExecution", true, () => storage.deleteExecution("e-none")],
  ];
}

async function fill(storage: StorageAdapter): Promise<void> {
  await storage.saveProgram(makeProgram());
  await storage.saveExecution(makeExecution());
  await storage.saveHistory(makeHistory());
  await storage.appendOutput("e1", ["hello"]);
}

/**
 * Asserts that every call fails within the bound, with a ConnectionError: all at once,
 * then a few one after another (so that earlier failures cannot have primed later ones).
 */
async function expectBounded(storage: StorageAdapter, label: string): Promise<void> {
  const all = calls(storage);
  const one = async ([name, write, call]: (typeof all)[number]) => {
    const started = performance.now();
    const error = await assertRejects(call, StorageError, undefined, `${label}: ${name}`);
    const elapsed = performance.now() - started;
    assertLess(elapsed, TIMEOUT + SLACK, `${label}: ${name} took ${Math.round(elapsed)} ms`);
    assertInstanceOf(error, ConnectionError, `${label}: ${name}: ${error.message}`);
    if (!write) assertFalse(error.maybeStored, `${label}: ${name} is a read`);
    if (error.maybeStored) assertStringIncludes(error.message, "may have been stored");
    return elapsed;
  };
  const together = await Promise.all(all.map(one));
  const apart = [];
  for (const name of ["getExecution", "saveHistory", "getHistory"]) {
    apart.push(await one(all.find(([n]) => n === name)!));
  }
  console.log(
    `${label}: ${all.length} calls at once failed after at most ` +
      `${Math.round(Math.max(...together))} ms, ${apart.length} one by one after at most ` +
      `${Math.round(Math.max(...apart))} ms (timeoutMS ${TIMEOUT})`,
  );
}

/**
 * Asserts that the adapter works again, and holds what was saved before. It writes a record
 * no abandoned call wrote: a write that failed with `maybeStored` may still be applied
 * once the server answers again, even after a newer write of its record (its request was
 * sent), which is what `maybeStored` says.
 */
async function expectWorking(storage: StorageAdapter, label: string): Promise<void> {
  assertEquals((await storage.getProgram("p1"))?.id, "p1", label);
  await storage.saveProgram(makeProgram({ id: "p-after", name: "after" }));
  assertEquals((await storage.getProgram("p-after"))?.name, "after", label);
  assertEquals((await storage.getHistory("e1", { limit: 1 }))[0]?.step, 0, label);
}

const noOwnServer = noPermissions ?? await noFerretDB();

mongoTest(
  "MongoDBAdapter: every call against a stopped (SIGSTOP) server fails within timeoutMS + 1 s, and works after SIGCONT",
  noOwnServer,
  async () => {
    let server: FerretDB | undefined;
    try {
      server = await startFerretDB();
      const storage = new MongoDBAdapter({ uri: server.uri, dbName: "x", timeoutMS: TIMEOUT });
      await storage.connect();
      await fill(storage);
      Deno.kill(server.pid, "SIGSTOP");
      try {
        await expectBounded(storage, "stopped server");
      } finally {
        Deno.kill(server.pid, "SIGCONT");
      }
      await expectWorking(storage, "after SIGCONT");

      // disconnect() is bounded too, and connect() against a stopped server as well.
      Deno.kill(server.pid, "SIGSTOP");
      try {
        for (const [name, step] of [["disconnect", () => storage.disconnect()]] as const) {
          const started = performance.now();
          await step();
          assertLess(performance.now() - started, TIMEOUT + SLACK, name);
        }
        const started = performance.now();
        await assertRejects(() => storage.connect(), ConnectionError);
        assertLess(performance.now() - started, TIMEOUT + SLACK, "connect");
      } finally {
        Deno.kill(server.pid, "SIGCONT");
      }
      await storage.connect();
      await expectWorking(storage, "after reconnecting");
      await storage.disconnect();
    } finally {
      await server?.stop();
    }
  },
);

offlineTest(
  "MongoDBAdapter.connect() to a listener that never answers fails within timeoutMS + 1 s",
  async () => {
    const listener = startSilentListener();
    try {
      const storage = new MongoDBAdapter({
        uri: `mongodb://127.0.0.1:${listener.port}/x`,
        timeoutMS: TIMEOUT,
      });
      const started = performance.now();
      const error = await assertRejects(() => storage.connect(), ConnectionError);
      const elapsed = performance.now() - started;
      assertLess(elapsed, TIMEOUT + SLACK);
      assertStringIncludes(error.message, `no server answered within ${TIMEOUT} ms`);
      assertFalse(storage.isConnected());
      await storage.disconnect();
    } finally {
      await listener.close();
      // A handshake the driver started on its own (its monitor) times out connectTimeoutMS
      // after it began, with a timer of its own: let it, before the sanitizers look.
      await new Promise((resolve) => setTimeout(resolve, TIMEOUT + 200));
    }
  },
);

/** The port in a `mongodb://host:port/` URI. */
function portOf(uri: string): number {
  const port = /^mongodb:\/\/[^/@]*?:(\d+)/.exec(uri)?.[1];
  if (port === undefined) throw new Error(`no port in ${uri}`);
  return Number(port);
}

/** Runs `fn` with an adapter that reaches the test server through a proxy. */
async function throughProxy(
  uri: string,
  fn: (storage: MongoDBAdapter, proxy: ReturnType<typeof startProxy>) => Promise<void>,
): Promise<void> {
  const proxy = startProxy(portOf(uri));
  const dbName = freshDbName();
  const storage = new MongoDBAdapter({
    uri: `mongodb://127.0.0.1:${proxy.port}/`,
    dbName,
    timeoutMS: TIMEOUT,
    // Past a lost reply, a retry may wait for the driver to find the server again.
    serverSelectionTimeoutMS: 10_000,
  });
  try {
    await storage.connect();
    await fn(storage, proxy);
  } finally {
    proxy.mode = "forward";
    await storage.disconnect();
    await proxy.close();
    await dropDatabase(uri, dbName);
  }
}

serverTest(
  "MongoDBAdapter: every call through a connection that goes silent fails within timeoutMS + 1 s",
  async (uri) => {
    await throughProxy(uri, async (storage, proxy) => {
      await fill(storage);
      proxy.mode = "silent";
      await expectBounded(storage, "silent connection");
      proxy.mode = "forward";
      await expectWorking(storage, "after the connection came back");
    });
  },
);

serverTest(
  "MongoDBAdapter: a write whose reply is lost rejects with maybeStored, and saving it again is safe",
  async (uri) => {
    await throughProxy(uri, async (storage, proxy) => {
      await fill(storage);
      const entry = makeHistory({ step: 1, instruction: "ONCE" });
      const writes: [string, () => Promise<unknown>, string][] = [
        ["saveHistory", () => storage.saveHistory(entry), "saving it again is safe"],
        [
          "saveExecution",
          () => storage.saveExecution(makeExecution({ pc: 7 })),
          "saving it again is safe",
        ],
        ["appendOutput", () => storage.appendOutput("e1", ["maybe"]), "read the output"],
        ["setCurrentExecutionId", () => storage.setCurrentExecutionId("e1"), "again is safe"],
      ];
      for (const [name, write, advice] of writes) {
        proxy.mode = "drop-replies";
        const dropped = proxy.dropped;
        const error = await assertRejects(write, ConnectionError, undefined, name);
        assert(proxy.dropped > dropped, `${name}: the proxy dropped a reply`);
        assert(error.maybeStored, `${name}: ${error.message}`);
        assertStringIncludes(error.message, "may have been stored", name);
        assertStringIncludes(error.message, advice, name);
        proxy.mode = "forward";
        if (name !== "appendOutput") await write();
      }
      // The lost-reply writes had reached the server; their retries changed nothing more.
      assertEquals(await storage.getHistory("e1", { fromStep: 1 }), [entry]);
      assertEquals((await storage.getExecution("e1"))?.pc, 7);
      assertEquals(await storage.getOutput("e1"), ["hello", "maybe"]);
      assertEquals(await storage.getCurrentExecutionId(), "e1");
      // A read whose reply is lost stored nothing.
      proxy.mode = "drop-replies";
      const read = await assertRejects(() => storage.getProgram("p1"), ConnectionError);
      assertFalse(read.maybeStored);
    });
  },
);

serverTest(
  "MongoDBAdapter.disconnect() during a write rejects it as not connected, or as maybe stored",
  async (uri) => {
    const dbName = freshDbName();
    try {
      for (let round = 0; round < 10; round++) {
        const storage = new MongoDBAdapter({ uri, dbName, timeoutMS: 10_000 });
        await storage.connect();
        const entry = makeHistory({ step: round });
        const saving = storage.saveHistory(entry).then(() => "saved", (error) => error);
        await storage.disconnect();
        const outcome = await saving;
        if (outcome !== "saved") {
          assertInstanceOf(outcome, StorageError);
          if (outcome.maybeStored) assertInstanceOf(outcome, ConnectionError);
          else assertInstanceOf(outcome, NotConnectedError);
        }
        await storage.connect();
        const stored = await storage.getHistory("e1", { fromStep: round, toStep: round });
        if (outcome === "saved") assertEquals(stored, [entry]);
        if (outcome instanceof NotConnectedError) assertEquals(stored, []);
        await storage.saveHistory(entry);
        await storage.disconnect();
      }
    } finally {
      await dropDatabase(uri, dbName);
    }
  },
);

if (noServer !== undefined) {
  mongoTest("MongoDBAdapter: lost replies", noServer, () => Promise.resolve());
}
