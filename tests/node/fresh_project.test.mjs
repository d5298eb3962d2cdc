// A fresh Node project that installed only the built package (scripts/test_node.sh installs
// the packed tarball, nothing else) saves and reads a record with the file backend, and the
// driver is neither installed (it is an optional peer dependency) nor loaded.

import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConnectionError, createStorage, MongoDBAdapter } from "@cvm/storage";

const require = createRequire(import.meta.url);
const driverFiles = () =>
  Object.keys(require.cache).filter((path) => /[\\/]node_modules[\\/]mongodb[\\/]/.test(path));

test("fresh project: installing @cvm/storage does not install mongodb", () => {
  assert.throws(() => import.meta.resolve("mongodb"), { code: "ERR_MODULE_NOT_FOUND" });
});

test("fresh project: createStorage() saves and reads a program with the file backend", async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "cvm-storage-fresh-"));
  try {
    const storage = createStorage({ dataDir });
    await storage.connect();
    const created = new Date("2026-01-02T03:04:05.678Z");
    await storage.saveProgram({
      id: "hello",
      name: "Hello",
      source: 'print("hi")',
      bytecode: [{ op: "PUSH", arg: "hi" }, { op: "PRINT" }],
      created,
    });
    const program = await storage.getProgram("hello");
    assert.ok(program?.created instanceof Date, "created comes back as a Date");
    assert.equal(program.created.getTime(), created.getTime());
    assert.deepEqual(program.bytecode, [{ op: "PUSH", arg: "hi" }, { op: "PRINT" }]);
    await storage.disconnect();

    const file = JSON.parse(await readFile(join(dataDir, "programs", "hello.json"), "utf8"));
    assert.deepEqual(file.created, { $date: created.toISOString() });
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
  assert.deepEqual(driverFiles(), [], "the mongodb driver was loaded");
});

test("fresh project: MongoDBAdapter.connect() without the driver says how to install it", async () => {
  const adapter = new MongoDBAdapter({
    uri: "mongodb://127.0.0.1:9/cvm",
    serverSelectionTimeoutMS: 500,
  });
  await assert.rejects(adapter.connect(), (error) => {
    assert.ok(error instanceof ConnectionError, `expected ConnectionError, got ${error}`);
    assert.match(error.message, /install/i);
    assert.match(error.message, /mongodb/);
    return true;
  });
  assert.equal(adapter.isConnected(), false);
});
