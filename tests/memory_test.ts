import { MemoryStorageAdapter } from "../mod.ts";
import { testStorageAdapter } from "../src/testing/mod.ts";

testStorageAdapter({
  name: "MemoryStorageAdapter",
  test: (name, fn) => Deno.test(name, fn),
  createAdapter: () => new MemoryStorageAdapter(),
});
