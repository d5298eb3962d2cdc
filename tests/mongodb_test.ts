// The MongoDB backend: the compliance suite against a real server (MONGODB_URI; CI starts
// FerretDB with scripts/ferretdb.sh), plus what only MongoDB has: the stored form, indexes,
// duplicate keys, unreachable servers, credentials in URIs, several adapters on one
// database. Every test here runs with Deno's op and resource sanitizers on, so a timer or
// socket the driver leaves after disconnect() fails the test.
//
// Needs --allow-net --allow-env. Without them, or without MONGODB_URI, the tests are
// ignored, unless CVM_REQUIRE_MONGODB=1 (CI), where one test fails instead.

import {
  assert,
  assertEquals,
  assertFalse,
  assertInstanceOf,
  assertLess,
  assertMatch,
  assertNotStrictEquals,
  assertRejects,
  assertStringIncludes,
  assertThrows,
} from "@std/assert";
import type { MongoClient } from "mongodb";
import {
  ConfigError,
  ConflictError,
  ConnectionError,
  CorruptRecordError,
  MongoDBAdapter,
  type MongoDBOptions,
  NotConnectedError,
  StorageError,
  ValidationError,
} from "../mod.ts";
import { testStorageAdapter } from "../src/testing/mod.ts";
import { makeExecution, makeHistory, makeProgram } from "./_utils.ts";

const granted = (name: "env" | "net") => Deno.permissions.querySync({ name }).state === "granted";
const permitted = granted("env") && granted("net");
const uri = permitted ? Deno.env.get("MONGODB_URI") || undefined : undefined;
const required = permitted && Deno.env.get("CVM_REQUIRE_MONGODB") === "1";

/** Why the tests that need permissions, or a server, do not run; `undefined` if they do. */
const noPermissions = permitted ? undefined : "they need --allow-net --allow-env";
const noServer = noPermissions ??
  (uri === undefined
    ? "MONGODB_URI is not set; start a server with `scripts/ferretdb.sh start` and export " +
      "the MONGODB_URI it prints"
    : undefined);

if (noServer !== undefined && !required) {
  console.warn(`MongoDB tests that need a server are ignored: ${noServer}`);
}
if (noServer !== undefined && required) {
  Deno.test("MongoDBAdapter tests must run when CVM_REQUIRE_MONGODB=1", () => {
    throw new Error(
      `CVM_REQUIRE_MONGODB=1, but the MongoDB suite would be skipped: ${noServer}`,
    );
  });
}

/** Registers a test with the sanitizers on; ignored when `reason` says why it cannot run. */
function mongoTest(name: string, reason: string | undefined, fn: () => Promise<void>): void {
  Deno.test({
    name: reason === undefined ? name : `${name} (ignored: ${reason.split(";")[0]})`,
    ignore: reason !== undefined,
    sanitizeOps: true,
    sanitizeResources: true,
    fn,
  });
}

/** A test that needs a server. */
function serverTest(name: string, fn: (uri: string) => Promise<void>): void {
  mongoTest(name, noServer, () => fn(uri!));
}

/** A test that needs only --allow-net --allow-env (it talks to no server, or to none that answers). */
function offlineTest(name: string, fn: () => Promise<void>): void {
  mongoTest(name, noPermissions, fn);
}

let databases = 0;
/** A database name no other test (or test run) uses; MongoDB allows 63 bytes. */
function freshDbName(): string {
  const random = Array.from(crypto.getRandomValues(new Uint8Array(4)))
    .map((byte) => byte.toString(16).padStart(2, "0")).join("");
  return `cvm_test_${Date.now().toString(36)}_${random}_${databases++}`;
}

/** Runs `fn` with a driver client of the test's own, closed afterwards. */
async function withClient<T>(uri: string, fn: (client: MongoClient) => Promise<T>): Promise<T> {
  const { MongoClient } = await import("mongodb");
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 10_000 });
  try {
    await client.connect();
    return await fn(client);
  } finally {
    await client.close();
  }
}

async function dropDatabase(uri: string, dbName: string): Promise<void> {
  await withClient(uri, (client) => client.db(dbName).dropDatabase());
}

/** Runs `fn` with connected adapters on one fresh database, dropped afterwards. */
async function withDatabase(
  uri: string,
  fn: (adapters: MongoDBAdapter[], dbName: string) => Promise<void>,
  count = 1,
  options: Partial<MongoDBOptions> = {},
): Promise<void> {
  const dbName = freshDbName();
  const adapters = Array.from(
    { length: count },
    () => new MongoDBAdapter({ uri, dbName, serverSelectionTimeoutMS: 10_000, ...options }),
  );
  try {
    for (const adapter of adapters) await adapter.connect();
    await fn(adapters, dbName);
  } finally {
    for (const adapter of adapters) await adapter.disconnect();
    await dropDatabase(uri, dbName);
  }
}

// --- The compliance suite --------------------------------------------------------------

if (noServer === undefined) {
  const dbNames = new Map<unknown, string>();
  testStorageAdapter({
    name: "MongoDBAdapter",
    test: (name, fn) => mongoTest(name, undefined, fn),
    createAdapter: () => {
      const dbName = freshDbName();
      const adapter = new MongoDBAdapter({ uri: uri!, dbName, serverSelectionTimeoutMS: 10_000 });
      dbNames.set(adapter, dbName);
      return adapter;
    },
    destroyAdapter: async (adapter) => {
      const dbName = dbNames.get(adapter)!;
      dbNames.delete(adapter);
      await dropDatabase(uri!, dbName);
    },
  });
} else {
  mongoTest("MongoDBAdapter: compliance suite", noServer, () => Promise.resolve());
}

// --- Stored form and indexes -----------------------------------------------------------

serverTest("MongoDBAdapter.connect() creates the collections' unique indexes", async (uri) => {
  await withDatabase(uri, async (_, dbName) => {
    await withClient(uri, async (client) => {
      const db = client.db(dbName);
      const keys = async (name: string) =>
        (await db.collection(name).indexes()).map((index) => ({
          key: index.key,
          unique: index.unique === true,
        }));
      assertEquals(await keys("programs"), [
        { key: { _id: 1 }, unique: false },
        { key: { id: 1 }, unique: true },
      ]);
      assertEquals(await keys("executions"), [
        { key: { _id: 1 }, unique: false },
        { key: { id: 1 }, unique: true },
        { key: { programId: 1 }, unique: false },
      ]);
      assertEquals(await keys("history"), [
        { key: { _id: 1 }, unique: false },
        { key: { executionId: 1, step: 1, timestamp: 1 }, unique: true },
      ]);
      // Unique means unique: the server itself refuses a second document with the same id.
      const error = await assertRejects(() =>
        db.collection("programs").insertOne({ id: "p-dup", doc: "{}" }).then(() =>
          db.collection("programs").insertOne({ id: "p-dup", doc: "{}" })
        )
      );
      assertEquals((error as { code?: number }).code, 11000);
    });
  });
});

serverTest(
  "MongoDBAdapter.connect() again, and on a second adapter, keeps the indexes",
  async (uri) => {
    await withDatabase(uri, async ([a], dbName) => {
      await a.disconnect();
      await a.connect();
      await withClient(uri, async (client) => {
        for (const name of ["programs", "executions", "history"]) {
          const count = (await client.db(dbName).collection(name).indexes()).length;
          assertEquals(count, name === "executions" ? 3 : 2, `indexes of ${name}`);
        }
      });
    }, 2);
  },
);

serverTest(
  "MongoDBAdapter stores each record as JSON text beside its indexed fields",
  async (uri) => {
    await withDatabase(uri, async ([storage], dbName) => {
      const program = makeProgram({ id: "p1", bytecode: { "$x": 1, "a.b": [new Date(0)] } });
      const execution = makeExecution({ id: "e1", programId: "p1" });
      const entry = makeHistory({ executionId: "e1", step: 7 });
      await storage.saveProgram(program);
      await storage.saveExecution(execution);
      await storage.saveHistory(entry);
      await withClient(uri, async (client) => {
        const db = client.db(dbName);
        const p = await db.collection("programs").findOne({}, { projection: { _id: 0 } });
        assertEquals(Object.keys(p!), ["id", "doc"]);
        assertEquals(p!.id, "p1");
        const json = JSON.parse(p!.doc);
        assertEquals(json.bytecode, { "$x": 1, "a.b": [{ $date: "1970-01-01T00:00:00.000Z" }] });
        assertEquals(json.created, { $date: "2026-01-02T03:04:05.678Z" });

        const e = await db.collection("executions").findOne({}, { projection: { _id: 0 } });
        assertEquals(Object.keys(e!), ["id", "programId", "doc"]);
        assertEquals([e!.id, e!.programId], ["e1", "p1"]);

        const h = await db.collection("history").findOne({}, { projection: { _id: 0 } });
        assertEquals(Object.keys(h!), ["executionId", "step", "timestamp", "doc"]);
        assertEquals([h!.executionId, h!.step, h!.timestamp], ["e1", 7, entry.timestamp]);
        assertInstanceOf(h!.timestamp, Date);
        assertEquals(JSON.parse(h!.doc).step, 7);
      });
    });
  },
);

serverTest("MongoDBAdapter returns no _id from any read", async (uri) => {
  await withDatabase(uri, async ([storage]) => {
    await storage.saveProgram(makeProgram());
    await storage.saveExecution(makeExecution());
    await storage.saveHistory(makeHistory());
    const records: object[] = [
      (await storage.getProgram("p1"))!,
      (await storage.getExecution("e1"))!,
      ...await storage.getHistory("e1"),
      ...await storage.listPrograms(),
      ...await storage.listExecutions(),
      ...await storage.listExecutions({ programId: "p1" }),
    ];
    assertEquals(records.length, 6);
    for (const record of records) assertFalse(Object.hasOwn(record, "_id"), "no _id");
  });
});

serverTest(
  "MongoDBAdapter.saveProgram() and friends do not let the driver touch the caller's object",
  async (uri) => {
    await withDatabase(uri, async ([storage]) => {
      const records = [
        makeProgram({ id: "p-new" }),
        makeExecution({ id: "e-new" }),
        makeHistory({ executionId: "e-new" }),
      ] as const;
      const before = records.map((record) => structuredClone(record));
      await storage.saveProgram(records[0]);
      await storage.saveExecution(records[1]);
      await storage.saveHistory(records[2]);
      // Saved a second time: replace (and, for history, a rejected insert) must not touch it.
      await storage.saveProgram(records[0]);
      await storage.saveExecution(records[1]);
      await assertRejects(() => storage.saveHistory(records[2]), ConflictError);
      for (const [i, record] of records.entries()) {
        assertFalse(Object.hasOwn(record, "_id"), "the driver added _id to the caller's object");
        assertEquals(record, before[i]);
        assertEquals(Object.keys(record), Object.keys(before[i]));
      }
    });
  },
);

// --- Errors ----------------------------------------------------------------------------

serverTest(
  "MongoDBAdapter.saveHistory() maps MongoDB's duplicate key error to ConflictError",
  async (uri) => {
    await withDatabase(uri, async ([storage]) => {
      const first = makeHistory({ instruction: "FIRST" });
      await storage.saveHistory(first);
      const error = await assertRejects(
        () => storage.saveHistory({ ...first, instruction: "SECOND" }),
        ConflictError,
      );
      assertEquals(error.code, "CONFLICT");
      assertMatch(error.message, /^Cannot save history of execution "e1" at step 0: .*append-only/);
      assertEquals((error.cause as { code?: unknown }).code, 11000);
      assertEquals(await storage.getHistory("e1"), [first]);
    });
  },
);

serverTest(
  "MongoDBAdapter reads a damaged document as CorruptRecordError naming the collection",
  async (uri) => {
    await withDatabase(uri, async ([storage], dbName) => {
      await storage.saveProgram(makeProgram({ id: "good" }));
      await withClient(uri, async (client) => {
        const db = client.db(dbName);
        await db.collection("programs").insertOne({ id: "not-json", doc: "{oops" });
        await db.collection("programs").insertOne({ id: "no-doc" });
        await db.collection("programs").insertOne({
          id: "moved",
          doc: JSON.stringify({
            ...JSON.parse((await db.collection("programs").findOne({ id: "good" }))!.doc),
          }),
        });
        await db.collection("history").insertOne({
          executionId: "e1",
          step: 1,
          timestamp: new Date(0),
          doc: JSON.stringify({
            executionId: "e1",
            step: 2,
            pc: 0,
            instruction: "",
            stack: [],
            variables: {},
            timestamp: { $date: "1970-01-01T00:00:00.000Z" },
          }),
        });
      });
      const notJson = await assertRejects(() => storage.getProgram("not-json"), CorruptRecordError);
      assertStringIncludes(notJson.message, `collection "${dbName}.programs"`);
      assertStringIncludes(notJson.message, "not valid JSON");
      assertEquals(notJson.path, `${dbName}.programs`);
      await assertRejects(() => storage.getProgram("no-doc"), CorruptRecordError, '"doc"');
      await assertRejects(
        () => storage.getProgram("moved"),
        CorruptRecordError,
        'holds program "good"',
      );
      await assertRejects(() => storage.listPrograms(), CorruptRecordError);
      await assertRejects(() => storage.getHistory("e1"), CorruptRecordError, "another key");
      // Other records still read.
      assertEquals((await storage.getProgram("good"))?.id, "good");
    });
  },
);

serverTest(
  "MongoDBAdapter.saveProgram() rejects a record over 16 MiB before sending it",
  async (uri) => {
    await withDatabase(uri, async ([storage]) => {
      const huge = makeProgram({ id: "huge", source: "x".repeat(17 * 1024 * 1024) });
      const error = await assertRejects(() => storage.saveProgram(huge), ValidationError);
      assertMatch(error.message, /^Cannot save program "huge": it is \d+ bytes as JSON/);
      assertEquals(await storage.getProgram("huge"), null);
    });
  },
);

offlineTest(
  "MongoDBAdapter.connect() to an unreachable server throws ConnectionError within serverSelectionTimeoutMS",
  async () => {
    const timeout = 1500;
    const storage = new MongoDBAdapter({
      uri: "mongodb://127.0.0.1:1/x",
      serverSelectionTimeoutMS: timeout,
    });
    const started = performance.now();
    const error = await assertRejects(() => storage.connect(), ConnectionError);
    const elapsed = performance.now() - started;
    console.log(
      `unreachable server: ConnectionError after ${Math.round(elapsed)} ms (timeout ${timeout} ms)`,
    );
    assertLess(elapsed, timeout + 3000);
    assertEquals(error.code, "CONNECTION");
    assertMatch(error.message, /^Cannot connect to MongoDB at "mongodb:\/\/127\.0\.0\.1:1\/x": /);
    assertStringIncludes(error.message, `no server answered within ${timeout} ms`);
    assertStringIncludes(error.message, "serverSelectionTimeoutMS");
    assertFalse(storage.isConnected());
    // The failed client was closed (the sanitizers check nothing is left), and a second
    // attempt fails the same way instead of hanging or reusing it.
    await assertRejects(() => storage.connect(), ConnectionError);
    await storage.disconnect();
    await assertRejects(() => storage.listPrograms(), NotConnectedError);
  },
);

offlineTest(
  "MongoDBAdapter waits 5000 ms for a server by default, or what the URI says",
  async () => {
    for (
      const [target, bound] of [
        ["mongodb://127.0.0.1:1/x", 5000],
        ["mongodb://127.0.0.1:1/x?serverSelectionTimeoutMS=800", 800],
      ] as const
    ) {
      const storage = new MongoDBAdapter(target);
      const started = performance.now();
      const error = await assertRejects(() => storage.connect(), ConnectionError);
      const elapsed = performance.now() - started;
      assertLess(elapsed, bound + 3000, target);
      assert(elapsed > bound - 100, `${target}: gave up after ${elapsed} ms, before ${bound} ms`);
      if (bound === 5000) assertStringIncludes(error.message, "within 5000 ms");
    }
  },
);

/** Every string reachable from an error: message, stack, String(), inspect, and causes. */
function everything(error: unknown): string {
  const parts: string[] = [];
  for (let e = error, depth = 0; e !== undefined && depth < 10; depth++) {
    parts.push(String(e), Deno.inspect(e, { depth: 10, showHidden: true }));
    if (e instanceof Error) {
      parts.push(e.message, e.stack ?? "", JSON.stringify(e));
      e = e.cause;
    } else {
      break;
    }
  }
  return parts.join("\n");
}

offlineTest("MongoDBAdapter never shows a password from the URI or clientOptions", async () => {
  const secret = "s3cr3t-pass";
  const cases: [string, MongoDBOptions][] = [
    ["password in the URI", { uri: `mongodb://user:${secret}@127.0.0.1:1/db` }],
    [
      "percent-encoded password",
      { uri: `mongodb://user:${encodeURIComponent(`${secret}@:/?`)}@127.0.0.1:1/db` },
    ],
    [
      "password in clientOptions",
      {
        uri: "mongodb://127.0.0.1:1/db",
        clientOptions: { auth: { username: "u", password: secret } },
      },
    ],
    [
      "password in a query option",
      { uri: `mongodb://127.0.0.1:1/db?tls=true&tlsCertificateKeyFilePassword=${secret}` },
    ],
  ];
  for (const [label, options] of cases) {
    const storage = new MongoDBAdapter({ ...options, serverSelectionTimeoutMS: 500 });
    const notConnected = await assertRejects(() => storage.getProgram("p1"), NotConnectedError);
    const failed = await assertRejects(() => storage.connect(), StorageError);
    for (const error of [notConnected, failed]) {
      const text = everything(error);
      assertFalse(text.includes(secret), `${label}: the secret appears in\n${text}`);
      assertFalse(text.includes(encodeURIComponent(secret + "@")), `${label}: encoded secret`);
    }
    if (label === "password in the URI") {
      assertStringIncludes(failed.message, '"mongodb://user:***@127.0.0.1:1/db"');
    }
  }
  // A URI the driver would misread must not show its credentials either.
  const ambiguous = assertThrows(
    () => new MongoDBAdapter(`mongodb://user:${secret}@x@127.0.0.1:1/db?appName=a@b`),
    ConfigError,
  );
  assertFalse(everything(ambiguous).includes(secret));
});

Deno.test("MongoDBAdapter shows connection strings in messages with credentials masked", async () => {
  for (
    const [uri, shown] of [
      ["mongodb://alice:s3cr3t@h1:1,h2:2/db?authSource=admin", "mongodb://alice:***@h1:1,h2:2/db"],
      [
        "mongodb+srv://bob:p%40ss%2Fword@cluster.example.com/",
        "mongodb+srv://bob:***@cluster.example.com/",
      ],
      ["mongodb://carol@h/?authMechanism=MONGODB-X509", "mongodb://carol@h/"],
      ["mongodb://h/db?tls=true&tlsCertificateKeyFilePassword=s3cr3t", "mongodb://h/db"],
      ["mongodb://h:27017", "mongodb://h:27017"],
    ]
  ) {
    const storage = new MongoDBAdapter(uri);
    const error = await assertRejects(() => storage.listPrograms(), NotConnectedError);
    assertStringIncludes(error.message, `"${shown}"`, uri);
  }
});

Deno.test("MongoDBAdapter's constructor rejects bad options with ConfigError", () => {
  for (
    const options of [
      { uri: "mongodb://127.0.0.1:1/", dbName: "" },
      { uri: "mongodb://127.0.0.1:1/", dbName: "a.b" },
      { uri: "mongodb://127.0.0.1:1/", dbName: "x".repeat(64) },
      { uri: "mongodb://127.0.0.1:1/a%2Fb" },
      { uri: "mongodb://127.0.0.1:1/", serverSelectionTimeoutMS: 0 },
      { uri: "mongodb://127.0.0.1:1/", serverSelectionTimeoutMS: Number.NaN },
      { uri: "mongodb://127.0.0.1:1/", clientOptions: null as unknown as Record<string, unknown> },
    ]
  ) {
    assertThrows(
      () => new MongoDBAdapter(options),
      ConfigError,
      undefined,
      JSON.stringify(options),
    );
  }
});

// --- Connections -----------------------------------------------------------------------

serverTest(
  "MongoDBAdapter uses the database from dbName, else from the URI's path",
  async (uri) => {
    const fromPath = freshDbName();
    const fromOption = freshDbName();
    const withPath = uri.replace(/^(mongodb(?:\+srv)?:\/\/[^/?]*)\/?[^?]*/, `$1/${fromPath}`);
    try {
      for (const options of [{ uri: withPath }, { uri: withPath, dbName: fromOption }]) {
        const storage = new MongoDBAdapter(options);
        await storage.connect();
        await storage.saveProgram(makeProgram({ id: options.dbName ?? "from-path" }));
        await storage.disconnect();
      }
      await withClient(uri, async (client) => {
        const ids = async (name: string) =>
          (await client.db(name).collection("programs").find().toArray()).map((d) => d.id);
        assertEquals(await ids(fromPath), ["from-path"]);
        assertEquals(await ids(fromOption), [fromOption]);
      });
    } finally {
      await dropDatabase(uri, fromPath);
      await dropDatabase(uri, fromOption);
    }
  },
);

serverTest("MongoDBAdapter: two adapters on one database see each other's writes", async (uri) => {
  await withDatabase(uri, async ([a, b]) => {
    await a.saveProgram(makeProgram({ id: "p1", name: "from a" }));
    await a.saveExecution(makeExecution({ id: "e1" }));
    await a.saveHistory(makeHistory({ step: 0 }));
    assertEquals((await b.getProgram("p1"))?.name, "from a");
    assertEquals((await b.listExecutions()).map((e) => e.id), ["e1"]);

    await b.saveProgram(makeProgram({ id: "p1", name: "from b" }));
    await b.saveHistory(makeHistory({ step: 1 }));
    assertEquals((await a.getProgram("p1"))?.name, "from b");
    assertEquals((await a.getHistory("e1")).map((h) => h.step), [0, 1]);

    // The unique index holds across adapters.
    await assertRejects(() => b.saveHistory(makeHistory({ step: 0 })), ConflictError);

    assertEquals(await b.deleteExecution("e1"), true);
    assertEquals(await a.getExecution("e1"), null);
    assertEquals(await a.getHistory("e1"), []);
    assertEquals(await a.deleteExecution("e1"), false);
  }, 2);
});

serverTest(
  "MongoDBAdapter: concurrent saves of a new id from two adapters both succeed",
  async (uri) => {
    await withDatabase(uri, async ([a, b]) => {
      for (let round = 0; round < 20; round++) {
        const id = `p-race-${round}`;
        await Promise.all([
          a.saveProgram(makeProgram({ id, name: "a" })),
          b.saveProgram(makeProgram({ id, name: "b" })),
        ]);
        const programs = (await a.listPrograms()).filter((p) => p.id === id);
        assertEquals(programs.length, 1);
      }
    }, 2);
  },
);

serverTest(
  "MongoDBAdapter.connect() and disconnect() called together end as the last call says",
  async (uri) => {
    const dbName = freshDbName();
    try {
      const storage = new MongoDBAdapter({ uri, dbName });
      const first = storage.connect();
      const second = storage.disconnect();
      const third = storage.connect();
      assertNotStrictEquals(first, third);
      assertEquals(storage.connect(), third, "a connect() while one is queued shares it");
      await Promise.all([first, second, third]);
      assert(storage.isConnected(), "connect, disconnect, connect ends connected");
      await storage.saveProgram(makeProgram());

      const a = storage.disconnect();
      const b = storage.connect();
      const c = storage.disconnect();
      await Promise.all([a, b, c]);
      assertFalse(storage.isConnected(), "disconnect, connect, disconnect ends disconnected");
      await assertRejects(() => storage.getProgram("p1"), NotConnectedError);
    } finally {
      await dropDatabase(uri, dbName);
    }
  },
);

serverTest(
  "MongoDBAdapter.disconnect() during a call rejects it with NotConnectedError or lets it finish",
  async (uri) => {
    await withDatabase(uri, async ([storage]) => {
      for (let i = 0; i < 20; i++) await storage.saveProgram(makeProgram({ id: `p${i}` }));
      const listing = storage.listPrograms().then(
        (programs) => programs.length,
        (error) => error,
      );
      await storage.disconnect();
      const outcome = await listing;
      if (typeof outcome !== "number") assertInstanceOf(outcome, NotConnectedError);
      else assertEquals(outcome, 20);
      await storage.connect();
    });
  },
);
