/**
 * The options every test of the durability kit takes, their checks, and the store each
 * run gets.
 *
 * @module
 */

import type { StorageAdapter } from "../../types.ts";
import type { ComplianceTest } from "../_types.ts";
import { type CreateAdapter, loadAdapterModule } from "./_adapter_module.ts";
import type { SpawnSettings } from "./_spawn.ts";

/**
 * What every test of the durability kit needs: an adapter module, which the test and each
 * of its child processes and threads import, and a store they all share.
 *
 * The kit runs under Deno only: it spawns `Deno.execPath()` children. The test itself
 * needs `--allow-run` and `--allow-read`, plus what the adapter needs (for example
 * `--allow-write` for files, `--allow-net --allow-env --allow-sys` for MongoDB), and the
 * children get {@linkcode DurabilityOptions.permissions}.
 *
 * @example A file-backed adapter: the default store is a fresh temp directory
 * ```ts
 * import type { DurabilityOptions } from "@cvm/storage/testing";
 *
 * // my_adapter.ts: export function createAdapter(store: string) { ... }
 * const options: DurabilityOptions = {
 *   name: "MyAdapter",
 *   test: (name, fn) => {
 *     Deno.test(name, fn);
 *   },
 *   adapterModule: new URL("./my_adapter.ts", import.meta.url),
 * };
 * ```
 */
export interface DurabilityOptions {
  /** Registers one test; see {@linkcode ComplianceTest}. */
  test: ComplianceTest;
  /**
   * The module that creates the adapter: it exports `createAdapter(store: string)` (or a
   * default export), returning a new, unconnected adapter on the store named by `store`.
   * A `file:` or `https:` URL, as a string or a `URL` (any object with an `href`); child
   * processes import it too.
   */
  adapterModule: string | { readonly href: string };
  /** Prefix for test names, such as `"FileStorageAdapter"`. */
  name?: string;
  /**
   * Returns the name of a new, empty store, passed to `createAdapter`: a directory, a
   * database name. Default: a new temp directory (which needs `--allow-write`).
   */
  createStore?: () => string | Promise<string>;
  /**
   * Removes a store after its test, passed or failed. Default: removes the temp
   * directory when `createStore` is the default; nothing otherwise.
   */
  destroyStore?: (store: string) => void | Promise<void>;
  /**
   * Checks what the adapter's own contract says about a store at rest, after each kill
   * and at the end of a run (for example: no temp files left behind by a fresh
   * `connect()`). Returns the problems found, each a sentence; `[]` when there are none.
   */
  checkStore?: (store: string) => readonly string[] | Promise<readonly string[]>;
  /**
   * Permission flags for the child processes. Default `["--allow-all"]`; an adapter that
   * documents fewer permissions should pass exactly those.
   */
  permissions?: readonly string[];
  /** Other flags for the children's `deno run`, such as `["--config", "deno.json"]`. */
  runArgs?: readonly string[];
  /**
   * The children's working directory, where Deno looks for `deno.json` (its import map).
   * Default: the test's working directory.
   */
  cwd?: string;
}

/** A store for one test, and its adapters, released by `close()`. */
export interface Run {
  store: string;
  /** A new, unconnected adapter on the store. */
  createAdapter(): Promise<StorageAdapter>;
  /** How children are started. */
  spawn: SpawnSettings;
  /** The adapter module's URL, for the children. */
  module: string;
  /** The problems `checkStore` finds now, each prefixed. */
  checkStore(): Promise<string[]>;
  close(): Promise<void>;
}

/** Checks options when a test is registered, so a mistake shows before anything runs. */
export function checkDurabilityOptions(options: DurabilityOptions, what: string): void {
  const fail = (message: string): never => {
    throw new TypeError(`Cannot register the ${what}: ${message}`);
  };
  if (typeof options !== "object" || options === null) fail("pass an options object");
  if (typeof options.test !== "function") {
    fail("options.test must be a function such as Deno.test");
  }
  if (moduleUrl(options.adapterModule) === "") {
    fail(
      "options.adapterModule must be the URL of a module exporting createAdapter(store), " +
        'such as new URL("./my_adapter.ts", import.meta.url)',
    );
  }
  for (const hook of ["createStore", "destroyStore", "checkStore"] as const) {
    if (options[hook] !== undefined && typeof options[hook] !== "function") {
      fail(`options.${hook} must be a function or left out`);
    }
  }
}

/** The adapter module's URL as a string; `""` when it is neither a string nor a URL. */
function moduleUrl(module: unknown): string {
  if (typeof module === "string") return module;
  const href = (module as { href?: unknown } | null)?.href;
  return typeof href === "string" ? href : "";
}

/** The name of a test: the adapter's name, then what it proves. */
export function testName(options: DurabilityOptions, name: string): string {
  return options.name ? `${options.name}: ${name}` : name;
}

/** Prepares a run: checks the runtime, loads the adapter module, creates the store. */
export async function startRun(options: DurabilityOptions): Promise<Run> {
  const deno = (globalThis as { Deno?: { execPath?: unknown } }).Deno;
  if (typeof deno?.execPath !== "function") {
    throw new Error(
      "The durability kit runs under Deno only: it starts Deno child processes. Run this " +
        "test with `deno test --allow-run --allow-read` and your adapter's permissions",
    );
  }
  const module = moduleUrl(options.adapterModule);
  let create: CreateAdapter;
  try {
    create = await loadAdapterModule(module);
  } catch (error) {
    throw new Error(`Cannot load the adapter module "${module}": ${String(error)}`, {
      cause: error,
    });
  }
  const ownStore = options.createStore === undefined;
  const store = ownStore
    ? await Deno.makeTempDir({ prefix: "cvm-storage-durability-" })
    : await options.createStore!();
  if (typeof store !== "string" || store === "") {
    throw new TypeError("options.createStore must return the store's name, a non-empty string");
  }
  return {
    store,
    module,
    createAdapter: async () => await create(store),
    spawn: {
      permissions: options.permissions ?? ["--allow-all"],
      runArgs: options.runArgs ?? [],
      cwd: options.cwd ?? Deno.cwd(),
    },
    async checkStore() {
      const problems = await options.checkStore?.(store) ?? [];
      return problems.map((problem) => `the store check: ${problem}`);
    },
    async close() {
      if (options.destroyStore !== undefined) await options.destroyStore(store);
      else if (ownStore) await Deno.remove(store, { recursive: true });
    },
  };
}
