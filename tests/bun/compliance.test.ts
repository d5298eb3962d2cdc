// The compliance suite under `bun test`, on the TypeScript sources as they are;
// scripts/test_bun.sh runs this in a copy of the project with `mongodb` in node_modules.
// The runs themselves (memory, file, and MongoDB when MONGODB_URI is set) are shared with
// Node: see tests/_runtime/compliance_suites.mjs.

import { afterAll, test } from "bun:test";
import * as storage from "../../mod.ts";
import * as testing from "../../src/testing/mod.ts";
import { registerComplianceSuites } from "../_runtime/compliance_suites.mjs";

registerComplianceSuites({
  runtime: "bun",
  test,
  after: afterAll,
  skip: (name, reason) => test.skip(`${name} (${reason})`, () => {}),
  storage,
  testing,
});
