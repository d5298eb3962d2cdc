// The MongoDB adapter's connection: options and connection strings, credentials kept out
// of every message, the database it uses, connect() and disconnect() in any order, and
// several adapters on one database.

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
import {
  ConfigError,
  ConflictError,
  ConnectionError,
  MongoDBAdapter,
  type MongoDBOptions,
  NotConnectedError,
  StorageError,
} from "../mod.ts";
import {
  dropDatabase,
  freshDbName,
  offlineTest,
  reportMissingServer,
  serverTest,
  withClient,
  withDatabase,
} from "./_mongodb.ts";
import { makeExecution, makeHistory, makeProgram } from "./_utils.ts";

reportMissingServer("mongodb_connection_test.ts");

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
  "MongoDBAdapter.connect() waits timeoutMS (5000 ms) for a server by default, or what the URI says",
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
  // Nor does the adapter itself, inspected, connected or not.
  const storage = new MongoDBAdapter(`mongodb://user:${secret}@127.0.0.1:1/db`);
  for (const text of [Deno.inspect(storage, { depth: 10, showHidden: true }), String(storage)]) {
    assertFalse(text.includes(secret), text);
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
      { uri: "mongodb://127.0.0.1:1/", timeoutMS: 0 },
      { uri: "mongodb://127.0.0.1:1/", timeoutMS: Infinity },
      { uri: "mongodb://127.0.0.1:1/", timeoutMS: "5000" as unknown as number },
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

    // The unique key holds across adapters: the same entry again is a no-op, another one a
    // conflict.
    await b.saveHistory(makeHistory({ step: 0 }));
    await assertRejects(() => b.saveHistory(makeHistory({ step: 0, pc: 9 })), ConflictError);
    assertEquals((await a.getHistory("e1")).map((h) => h.step), [0, 1]);

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

serverTest(
  "MongoDBAdapter: adapters contesting one history key leave exactly one winner",
  async (uri) => {
    await withDatabase(uri, async (adapters) => {
      for (let round = 0; round < 5; round++) {
        const timestamp = new Date(round);
        const outcomes = await Promise.all(
          adapters.map((storage, writer) =>
            storage.saveHistory(makeHistory({ step: round, timestamp, pc: writer })).then(
              () => writer,
              (error) => error,
            )
          ),
        );
        const winners = outcomes.filter((outcome) => typeof outcome === "number");
        assertEquals(winners.length, 1, `round ${round}: ${outcomes}`);
        for (const outcome of outcomes) {
          if (typeof outcome !== "number") assertInstanceOf(outcome, ConflictError);
        }
        const stored = await adapters[0].getHistory("e1", { fromStep: round, toStep: round });
        assertEquals(stored, [makeHistory({ step: round, timestamp, pc: winners[0] })]);
        // The same entry from every adapter at once: all succeed, one is stored.
        const same = makeHistory({ step: round, timestamp: new Date(1000 + round) });
        await Promise.all(adapters.map((storage) => storage.saveHistory(same)));
        assertEquals((await adapters[1].getHistory("e1", { after: stored[0] }))[0], same);
      }
    }, 4);
  },
);
