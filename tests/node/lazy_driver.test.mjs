// Importing and using the built package in Node does not load the `mongodb` driver, even
// where it is installed: only MongoDBAdapter.connect() may. The probe, shared with Bun,
// imports the package by name.

import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import process from "node:process";
import { promisify } from "node:util";

test("import of @cvm/storage does not load mongodb, though it is installed", async () => {
  const probe = fileURLToPath(new URL("../_runtime/driver_probe.mjs", import.meta.url));
  const args = [probe, "@cvm/storage", "@cvm/storage/testing"];
  const { stdout } = await promisify(execFile)(process.execPath, args, {
    cwd: fileURLToPath(new URL(".", import.meta.url)),
  });
  const { before, after } = JSON.parse(stdout.trim().split("\n").at(-1));
  assert.ok(after > 0, `the probe cannot see the driver even after importing it (${after} files)`);
  assert.equal(before, 0, `using the file and memory backends loaded ${before} mongodb files`);
});
