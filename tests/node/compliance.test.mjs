// The compliance suite under node:test, against the BUILT package (`dist/`, installed into a
// throwaway Node project by scripts/test_node.sh), never the TypeScript sources.
//
// MongoDB runs when MONGODB_URI is set: each test gets a database of its own, dropped
// afterwards. Without MONGODB_URI the MongoDB tests are reported as skipped, unless
// CVM_REQUIRE_MONGODB=1 (CI), where the missing server is a failure.

import { after, test } from "node:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { FileStorageAdapter, MemoryStorageAdapter, MongoDBAdapter } from "@cvm/storage";
import { testStorageAdapter } from "@cvm/storage/testing";

testStorageAdapter({
  name: "MemoryStorageAdapter",
  test,
  createAdapter: () => new MemoryStorageAdapter(),
});

testStorageAdapter({
  name: "FileStorageAdapter",
  test,
  createAdapter: async () =>
    new FileStorageAdapter(await mkdtemp(join(tmpdir(), "cvm-storage-node-"))),
  destroyAdapter: (adapter) => rm(adapter.dataDir, { recursive: true, force: true }),
});

const mongoUri = process.env.MONGODB_URI;
if (mongoUri) {
  const dbNames = new WeakMap();
  let created = 0;
  /** @type {Promise<import("mongodb").MongoClient> | undefined} */
  let admin;
  const adminClient = () => {
    admin ??= import("mongodb").then(({ MongoClient }) =>
      new MongoClient(mongoUri, { serverSelectionTimeoutMS: 10_000 }).connect()
    );
    return admin;
  };
  after(async () => {
    if (admin) await (await admin).close();
  });

  testStorageAdapter({
    name: "MongoDBAdapter",
    test,
    createAdapter: () => {
      // MongoDB and FerretDB allow 63 characters: [A-Za-z0-9_] is safe everywhere.
      const dbName = `cvm_node_${process.pid}_${Date.now().toString(36)}_${created++}`;
      const adapter = new MongoDBAdapter({ uri: mongoUri, dbName });
      dbNames.set(adapter, dbName);
      return adapter;
    },
    destroyAdapter: async (adapter) => {
      const client = await adminClient();
      await client.db(dbNames.get(adapter)).dropDatabase();
    },
  });
} else if (process.env.CVM_REQUIRE_MONGODB === "1") {
  test("MongoDBAdapter: compliance suite", () => {
    throw new Error("CVM_REQUIRE_MONGODB=1 but MONGODB_URI is not set; start a server first");
  });
} else {
  test("MongoDBAdapter: compliance suite", { skip: "set MONGODB_URI to run it" }, () => {});
}
