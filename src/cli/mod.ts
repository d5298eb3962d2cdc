/**
 * The `cvm-storage` command: look at, check, copy and move `@cvm/storage` stores.
 *
 * ```sh
 * deno run -A jsr:@cvm/storage/cli inspect ./data
 * cvm-storage verify ./data --repair            # from the npm package
 * cvm-storage export --store ./data --out store.jsonl
 * cvm-storage import store.jsonl --store ./copy
 * cvm-storage migrate --from ./data --to mongodb://localhost:27017/cvm
 * cvm-storage migrate --from cvm-legacy:./old-cvm-data --to ./data
 * ```
 *
 * A store is a data directory (`DIR` or `file:DIR`), a `mongodb://` or `mongodb+srv://`
 * URI, or `cvm-legacy:DIR`, a data directory written by the original CVM's file adapter
 * (read-only). Without one, a command opens the store `createStorage()` would:
 * `CVM_STORAGE_TYPE`, `CVM_DATA_DIR`, `MONGODB_URI`, else `~/.cvm`. Every command has
 * `--help`; exit statuses are 0 (success), 1 (failure) and 2 (a wrong command line).
 *
 * Run as a program (`deno run`, `bun`, the npm package's `cvm-storage` bin), this module
 * runs the command line; imported, it only exports {@linkcode main}. The MongoDB driver is
 * loaded only when a MongoDB store is used. Under Deno, file stores need `--allow-read
 * --allow-write --allow-env`, MongoDB stores `--allow-net --allow-env --allow-read
 * --allow-sys`; `-A` grants all.
 *
 * @example Running a command from a program
 * ```ts
 * import { main } from "@cvm/storage/cli";
 *
 * const dir = await Deno.makeTempDir();
 * let output = "";
 * const status = await main(["inspect", dir, "--json"], {
 *   stdout: (text) => {
 *     output += text;
 *   },
 * });
 * console.log(status, JSON.parse(output).collections.programs.count); // 0 0
 * ```
 *
 * @module
 */

import process from "node:process";
import { main } from "./main.ts";

export { type CliOptions, main } from "./main.ts";

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
