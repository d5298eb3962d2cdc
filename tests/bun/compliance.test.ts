// The compliance suite under `bun test`, on the TypeScript sources as they are.
//
// MongoDB runs when MONGODB_URI is set: each test gets a database of its own, dropped
// afterwards. Without MONGODB_URI the MongoDB tests are reported as skipped, unless
// CVM_REQUIRE_MONGODB=1 (CI), where the missing server is a failure. scripts/test_bun.sh
// runs this in a copy of the project with `mongodb` in node_modules.

import { afterAll, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import type { MongoClient } from "mongodb";
import {
  FileStorageAdapter,
  MemoryStorageAdapter,
  MongoDBAdapter,
  type StorageAdapter,
} from "../../mod.ts";
import { testStorageAdapter } from "../../src/testing/mod.ts";

testStorageAdapter({
  name: "MemoryStorageAdapter",
  test,
  createAdapter: () => new MemoryStorageAdapter(),
});

testStorageAdapter({
  name: "FileStorageAdapter",
  test,
  createAdapter: async () =>
    new FileStorageAdapter(await mkdtemp(join(tmpdir(), "cvm-storage-bun-"))),
  destroyAdapter: async (adapter) => {
    await rm((adapter as FileStorageAdapter).dataDir, { recursive: true, force: true });
  },
});

const mongoUri = process.env.MONGODB_URI;
if (mongoUri) {
  const dbNames = new WeakMap<StorageAdapter, string>();
  let created = 0;
  let admin: Promise<MongoClient> | undefined;
  const adminClient = (): Promise<MongoClient> => {
    admin ??= import("mongodb").then(({ MongoClient }) =>
      new MongoClient(mongoUri, { serverSelectionTimeoutMS: 10_000 }).connect()
    );
    return admin;
  };
  afterAll(async () => {
    if (admin) await (await admin).close();
  });

  testStorageAdapter({
    name: "MongoDBAdapter",
    test,
    createAdapter: () => {
      // MongoDB and FerretDB allow 63 characters: [A-Za-z0-9_] is safe everywhere.
      const dbName = `cvm_bun_${process.pid}_${Date.now().toString(36)}_${created++}`;
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
  test.skip("MongoDBAdapter: compliance suite (set MONGODB_URI to run it)", () => {});
}
