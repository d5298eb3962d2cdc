/**
 * The types the compliance suite's entry point and its harness share: what the caller
 * passes, and what one case is.
 *
 * @module
 */

import type { StorageAdapter } from "../types.ts";

/**
 * Registers one test: `Deno.test`, `test` from `node:test` or `bun:test`, or anything
 * with the same shape. The suite awaits nothing it returns.
 *
 * @example Collecting tests to run them yourself
 * ```ts
 * import type { ComplianceTest } from "@cvm/storage/testing";
 *
 * const tests = new Map<string, () => Promise<void>>();
 * const test: ComplianceTest = (name, fn) => tests.set(name, fn);
 * ```
 */
export interface ComplianceTest {
  /**
   * Registers one test.
   *
   * @param name The test's name: the adapter name, then "symbol + behaviour".
   * @param fn The test body; it rejects when the adapter fails the test.
   * @returns Whatever the runner returns; ignored.
   */
  (name: string, fn: () => Promise<void>): unknown;
}

/**
 * What the compliance suite needs to test an adapter.
 *
 * @example Options for a file-backed adapter with a temp directory per test
 * ```ts
 * import { FileStorageAdapter } from "@cvm/storage";
 * import type { ComplianceOptions } from "@cvm/storage/testing";
 *
 * const options: ComplianceOptions = {
 *   name: "FileStorageAdapter",
 *   test: (name, fn) => {
 *     Deno.test(name, fn);
 *   },
 *   createAdapter: async () => new FileStorageAdapter(await Deno.makeTempDir()),
 *   // A restart: a new adapter on the same directory.
 *   reopenAdapter: (adapter) => new FileStorageAdapter((adapter as FileStorageAdapter).dataDir),
 *   destroyAdapter: async (adapter) => {
 *     await Deno.remove((adapter as FileStorageAdapter).dataDir, { recursive: true });
 *   },
 * };
 * ```
 */
export interface ComplianceOptions {
  /** Registers one test; see {@linkcode ComplianceTest}. */
  test: ComplianceTest;
  /** Returns a fresh adapter: unconnected, and with no records. Called once per test. */
  createAdapter: () => StorageAdapter | Promise<StorageAdapter>;
  /**
   * Returns a NEW, unconnected adapter on the same store as `adapter`, as a process that
   * restarts would create: same data directory, same database. The suite calls it where a
   * case restarts (data, output and the current execution must survive), after it has
   * disconnected `adapter`, which is the adapter from `createAdapter` or from an earlier
   * `reopenAdapter`. Leave it out for a store that lives in the adapter object (such as
   * `MemoryStorageAdapter`): the suite then reconnects the same instance.
   */
  reopenAdapter?: (adapter: StorageAdapter) => StorageAdapter | Promise<StorageAdapter>;
  /**
   * Cleans up after each test (removes a temp directory, drops a database). Called with
   * the adapter `createAdapter` returned, after every adapter of the test is disconnected,
   * whether the test passed or not.
   */
  destroyAdapter?: (adapter: StorageAdapter) => void | Promise<void>;
  /** Prefix for test names, such as `"FileStorageAdapter"`. */
  name?: string;
}

/** What the harness gives a case besides its connected adapter. */
export interface CaseContext {
  /**
   * Simulates a restart: disconnects the adapter in use, opens the store again
   * (`reopenAdapter`, or the same instance), connects it and returns it. Later clean-up
   * disconnects the adapter returned.
   */
  restart(): Promise<StorageAdapter>;
  /** Whether `reopenAdapter` was given, so `restart()` returns a new instance. */
  readonly reopens: boolean;
}

/** One compliance test, run against one fresh adapter. */
export interface Case {
  /** "symbol + behaviour", without the adapter name. */
  name: string;
  /** Whether the harness connects the adapter first; default `true`. */
  connect?: boolean;
  /** The test body. The harness disconnects and destroys the adapter afterwards. */
  run(adapter: StorageAdapter, context: CaseContext): Promise<void>;
}
