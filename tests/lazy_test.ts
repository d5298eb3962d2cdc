// Backends load their engines in connect() through one helper (src/_lazy.ts).

import { assertEquals, assertRejects, assertStrictEquals } from "@std/assert";
import { ConnectionError } from "../mod.ts";
import { lazyModules } from "../src/_lazy.ts";

Deno.test("lazyModules() imports once, on the first call, and keeps what it loaded", async () => {
  let imports = 0;
  const modules = { answer: 42 };
  const load = lazyModules(() => {
    imports++;
    return Promise.resolve(modules);
  }, "test");
  assertEquals(imports, 0, "nothing is imported before the first call");
  const [a, b] = await Promise.all([load(), load()]);
  assertStrictEquals(a, modules);
  assertStrictEquals(b, modules);
  assertStrictEquals(await load(), modules);
  assertEquals(imports, 1);
});

Deno.test("lazyModules() turns a failed import into a ConnectionError and tries again next time", async () => {
  let imports = 0;
  const load = lazyModules(() => {
    imports++;
    return imports === 1
      ? Promise.reject(new TypeError("Module not found"))
      : Promise.resolve({ ok: true });
  }, "file");
  const error = await assertRejects(
    load,
    ConnectionError,
    "Cannot load the file backend's modules",
  );
  assertEquals((error.cause as Error).message, "Module not found");
  assertEquals(await load(), { ok: true });
  assertEquals(imports, 2);
});
