// Hostile files under `bun test`, on the TypeScript sources (see scripts/test_bun.sh); the
// cases are shared with Node: tests/_runtime/hostile_files.mjs.

import { test } from "bun:test";
import * as storage from "../../mod.ts";
import { registerHostileFileTests } from "../_runtime/hostile_files.mjs";

registerHostileFileTests({ test, storage, runtime: "bun" });
