// The compliance suite against the file backend, one fresh temp directory per test.

import { FileStorageAdapter } from "../mod.ts";
import { testStorageAdapter } from "../src/testing/mod.ts";

const dirs = new WeakMap<FileStorageAdapter, string>();

testStorageAdapter({
  name: "FileStorageAdapter",
  test: (name, fn) => Deno.test(name, fn),
  async createAdapter() {
    const dir = await Deno.makeTempDir({ prefix: "cvm-storage-compliance-" });
    const adapter = new FileStorageAdapter(dir);
    dirs.set(adapter, dir);
    return adapter;
  },
  // A restart: a new adapter on the same directory.
  reopenAdapter: (adapter) => new FileStorageAdapter((adapter as FileStorageAdapter).dataDir),
  async destroyAdapter(adapter) {
    await Deno.remove(dirs.get(adapter as FileStorageAdapter)!, { recursive: true });
  },
});
