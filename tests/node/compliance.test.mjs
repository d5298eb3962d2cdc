// The compliance suite under node:test, against the BUILT package (`dist/`, installed into a
// throwaway Node project by scripts/test_node.sh), never the TypeScript sources. The runs
// themselves (memory, file, and MongoDB when MONGODB_URI is set) are shared with Bun: see
// tests/_runtime/compliance_suites.mjs.

import { after, test } from "node:test";
import * as storage from "@cvm/storage";
import * as testing from "@cvm/storage/testing";
import { registerComplianceSuites } from "../_runtime/compliance_suites.mjs";

registerComplianceSuites({
  runtime: "node",
  test,
  after,
  skip: (name, reason) => test(name, { skip: reason }, () => {}),
  storage,
  testing,
});
