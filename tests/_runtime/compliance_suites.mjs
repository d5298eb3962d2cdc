// @ts-check
// The compliance runs that tests/node/compliance.test.mjs and tests/bun/compliance.test.ts
// both register: plain JavaScript, so Node runs it as it is, next to the built package
// (scripts/test_node.sh), and Bun next to the TypeScript sources (scripts/test_bun.sh).
// Each caller passes its runner's functions and the library it tests; nothing here
// imports the library or a runner.
//
// MongoDB runs when MONGODB_URI is set: each test gets a database of its own, dropped
// afterwards. Without MONGODB_URI the MongoDB tests are reported as skipped, unless
// CVM_REQUIRE_MONGODB=1 (CI), where the missing server is a failure.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";

/**
 * What the caller brings.
 *
 * @typedef {object} SuiteOptions
 * @property {"node" | "bun"} runtime Names the temp directories (`cvm-storage-node-…`)
 *   and the MongoDB databases (`cvm_node_…`), so a leftover tells where it came from.
 * @property {(name: string, fn: () => unknown) => unknown} test The runner's `test`:
 *   registers one test, which fails when `fn` throws or rejects.
 * @property {(fn: () => Promise<void>) => unknown} after Runs `fn` once all the tests in
 *   this file are done (`after` in node:test, `afterAll` in bun:test).
 * @property {(name: string, reason: string) => unknown} skip Registers a test that is
 *   reported as skipped, in the runner's own way.
 * @property {typeof import("@cvm/storage")} storage The library: the built package under
 *   Node, `mod.ts` under Bun.
 * @property {typeof import("@cvm/storage/testing")} testing Its testing entry point.
 */

/**
 * Registers the compliance suite against the memory, file and MongoDB adapters, in that
 * order; test names start with the adapter's name (`MemoryStorageAdapter: …`), which the
 * scripts count passed tests by.
 *
 * @param {SuiteOptions} options
 * @returns {void}
 */
export function registerComplianceSuites({ runtime, test, after, skip, storage, testing }) {
  const { FileStorageAdapter, MemoryStorageAdapter, MongoDBAdapter } = storage;
  const { testStorageAdapter } = testing;

  testStorageAdapter({
    name: "MemoryStorageAdapter",
    test,
    createAdapter: () => new MemoryStorageAdapter(),
  });

  testStorageAdapter({
    name: "FileStorageAdapter",
    test,
    createAdapter: async () =>
      new FileStorageAdapter(await mkdtemp(join(tmpdir(), `cvm-storage-${runtime}-`))),
    destroyAdapter: (adapter) =>
      rm(/** @type {InstanceType<typeof FileStorageAdapter>} */ (adapter).dataDir, {
        recursive: true,
        force: true,
      }),
    // A restart: a new adapter on the same directory.
    reopenAdapter: (adapter) =>
      new FileStorageAdapter(
        /** @type {InstanceType<typeof FileStorageAdapter>} */ (adapter).dataDir,
      ),
  });

  const mongoUri = process.env.MONGODB_URI;
  if (mongoUri) {
    /** @type {WeakMap<import("@cvm/storage").StorageAdapter, string>} */
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
        const dbName = `cvm_${runtime}_${process.pid}_${Date.now().toString(36)}_${created++}`;
        const adapter = new MongoDBAdapter({ uri: mongoUri, dbName });
        dbNames.set(adapter, dbName);
        return adapter;
      },
      // A restart: a new adapter on the same database.
      reopenAdapter: (adapter) => {
        const dbName = dbNames.get(adapter);
        const next = new MongoDBAdapter({ uri: mongoUri, dbName });
        dbNames.set(next, /** @type {string} */ (dbName));
        return next;
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
    skip("MongoDBAdapter: compliance suite", "set MONGODB_URI to run it");
  }
}
