// @ts-check
// Run as a child process by tests/node/lazy_driver.test.mjs and tests/bun/lazy_driver.test.ts,
// where `mongodb` IS installed:
//
//   node driver_probe.mjs <library> <testing entry>
//   bun driver_probe.mjs <library> <testing entry>
//
// imports the two specifiers it is given (resolved from here: the package name under
// Node, file URLs of mod.ts and src/testing/mod.ts under Bun), uses every entry point and
// backend that needs no server, then reports on stdout, as JSON, how many driver files
// were loaded, before and after importing it on purpose (the second answer proves the
// check can see the driver at all).

import { createRequire } from "node:module";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";

const [library, testing] = process.argv.slice(2);
if (!library || !testing) throw new Error("usage: driver_probe.mjs <library> <testing entry>");

const require = createRequire(import.meta.url);
// `mongodb` is CommonJS: however it is loaded (import or require), Node's CommonJS loader
// and Bun's alike cache each of its files under its real path, in require.cache.
const driverFiles = () =>
  Object.keys(require.cache).filter((path) => /[\\/]node_modules[\\/]mongodb[\\/]/.test(path));

/** @type {typeof import("@cvm/storage")} */
const storage = await import(library);
await import(testing);
const dataDir = await mkdtemp(join(tmpdir(), "cvm-storage-probe-"));
try {
  for (const adapter of [storage.createStorage({ dataDir }), new storage.MemoryStorageAdapter()]) {
    await adapter.connect();
    await adapter.saveProgram({
      id: "p1",
      name: "P",
      source: "",
      bytecode: [],
      created: new Date(),
    });
    if ((await adapter.getProgram("p1"))?.id !== "p1") throw new Error("round trip failed");
    await adapter.disconnect();
  }
  // Constructing the MongoDB adapter (without connecting) must not load the driver either.
  new storage.MongoDBAdapter("mongodb://127.0.0.1:9/cvm");
  storage.createStorage({ type: "mongodb", mongoUri: "mongodb://127.0.0.1:9/cvm" });
} finally {
  await rm(dataDir, { recursive: true, force: true });
}
const before = driverFiles().length;
await import("mongodb");
const after = driverFiles().length;
process.stdout.write(JSON.stringify({ before, after }) + "\n");
