// Hostile files under node:test, against the BUILT package (see scripts/test_node.sh); the
// cases are shared with Bun: tests/_runtime/hostile_files.mjs.

import { test } from "node:test";
import * as storage from "@cvm/storage";
import { registerHostileFileTests } from "../_runtime/hostile_files.mjs";

registerHostileFileTests({ test, storage, runtime: "node" });
