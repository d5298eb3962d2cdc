// The built package's file backend under Node with worker_threads and a low descriptor
// limit (tests/_runtime/file_threads.mjs).

import { test } from "node:test";
import { fileThreadTests } from "../_runtime/file_threads.mjs";

fileThreadTests(test, "@cvm/storage", (specifier) => import(specifier));
