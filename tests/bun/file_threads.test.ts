// The file backend under Bun with worker_threads and a low descriptor limit
// (tests/_runtime/file_threads.mjs), on the sources.

import { test } from "bun:test";
import { fileThreadTests } from "../_runtime/file_threads.mjs";

const mod = new URL("../../mod.ts", import.meta.url).href;
fileThreadTests((name, fn) => test(name, fn, 120_000), mod, (specifier) => import(specifier));
