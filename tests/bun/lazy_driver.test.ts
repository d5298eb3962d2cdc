// Importing and using the library under Bun does not load the `mongodb` driver, even where
// it is installed: only MongoDBAdapter.connect() may. A child process, because `bun test`
// runs every test file in one process. The probe, shared with Node, imports the sources.

import { expect, test } from "bun:test";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import process from "node:process";
import { promisify } from "node:util";

const here = (path: string) => new URL(path, import.meta.url);

test("import of mod.ts does not load mongodb, though it is installed", async () => {
  const probe = fileURLToPath(here("../_runtime/driver_probe.mjs"));
  const args = [probe, here("../../mod.ts").href, here("../../src/testing/mod.ts").href];
  const { stdout } = await promisify(execFile)(process.execPath, args);
  const { before, after } = JSON.parse(stdout.trim().split("\n").at(-1)!);
  expect(after).toBeGreaterThan(0); // else the probe cannot see the driver at all
  expect(before).toBe(0);
});
