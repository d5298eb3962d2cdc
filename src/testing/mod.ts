/**
 * The compliance suite every {@linkcode StorageAdapter} must pass: one set of tests,
 * written once, run against the file, memory and MongoDB adapters here and against any
 * third-party adapter.
 *
 * It registers its tests through the `test` function you pass, so it runs under
 * `Deno.test`, `node:test` and `bun:test` alike, and it depends on nothing but the
 * runtime: it brings its own assertions. Each test gets a fresh adapter from
 * `createAdapter`, connects it (unless the test is about connecting), and always
 * disconnects it and hands it to `destroyAdapter` afterwards.
 *
 * {@linkcode testStorageAdapter} registers every group; each group is also exported on its
 * own ({@linkcode testConnection}, {@linkcode testRoundTrip}, {@linkcode testCopies},
 * {@linkcode testAbsent}, {@linkcode testHistory}, {@linkcode testValidation},
 * {@linkcode testIds}, {@linkcode testListAndDelete}), so an adapter author can work
 * through them one at a time.
 *
 * @example Running the suite under Deno
 * ```ts
 * import { MemoryStorageAdapter } from "@cvm/storage";
 * import { testStorageAdapter } from "@cvm/storage/testing";
 *
 * testStorageAdapter({
 *   name: "MemoryStorageAdapter",
 *   test: (name, fn) => {
 *     Deno.test(name, fn);
 *   },
 *   createAdapter: () => new MemoryStorageAdapter(),
 * });
 * ```
 *
 * Under Node.js or Bun, pass their `test` instead:
 * `import { test } from "node:test"` or `import { test } from "bun:test"`.
 *
 * @module
 */

import type { StorageAdapter } from "../types.ts";
import { absentCases } from "./_absent.ts";
import { connectionCases } from "./_connection.ts";
import { copiesCases } from "./_copies.ts";
import { register } from "./_harness.ts";
import { historyCases } from "./_history.ts";
import { idsCases } from "./_ids.ts";
import { listAndDeleteCases } from "./_list_and_delete.ts";
import { roundTripCases } from "./_round_trip.ts";
import { validationCases } from "./_validation.ts";

// Re-exported so this entry point stands alone: its API mentions the adapter interface,
// and the interface mentions the records.
export type {
  Execution,
  ExecutionQuery,
  ExecutionState,
  History,
  HistoryKey,
  HistoryQuery,
  ListQuery,
  OutputQuery,
  Program,
  StorageAdapter,
} from "../types.ts";

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
 * const dirs = new Map<FileStorageAdapter, string>();
 * const options: ComplianceOptions = {
 *   name: "FileStorageAdapter",
 *   test: (name, fn) => {
 *     Deno.test(name, fn);
 *   },
 *   createAdapter: async () => {
 *     const dir = await Deno.makeTempDir();
 *     const adapter = new FileStorageAdapter(dir);
 *     dirs.set(adapter, dir);
 *     return adapter;
 *   },
 *   destroyAdapter: async (adapter) => {
 *     await Deno.remove(dirs.get(adapter as FileStorageAdapter)!, { recursive: true });
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
   * Cleans up after each test (removes a temp directory, drops a database). Called after
   * the adapter is disconnected, whether the test passed or not.
   */
  destroyAdapter?: (adapter: StorageAdapter) => void | Promise<void>;
  /** Prefix for test names, such as `"FileStorageAdapter"`. */
  name?: string;
}

/**
 * Registers every compliance test: all the groups below, in order.
 *
 * @param options The test function, the adapter factory and clean-up, and a name.
 * @returns Nothing; the tests run when the runner runs them.
 * @throws {TypeError} When `options.test` or `options.createAdapter` is not a function.
 *
 * @example Testing an adapter under Deno
 * ```ts
 * import { MemoryStorageAdapter } from "@cvm/storage";
 * import { testStorageAdapter } from "@cvm/storage/testing";
 *
 * testStorageAdapter({
 *   name: "MemoryStorageAdapter",
 *   test: (name, fn) => {
 *     Deno.test(name, fn);
 *   },
 *   createAdapter: () => new MemoryStorageAdapter(),
 * });
 * ```
 */
export function testStorageAdapter(options: ComplianceOptions): void {
  testConnection(options);
  testRoundTrip(options);
  testCopies(options);
  testAbsent(options);
  testHistory(options);
  testValidation(options);
  testIds(options);
  testListAndDelete(options);
}

/**
 * Registers the connection tests: `isConnected()` tracks `connect()` and `disconnect()`,
 * both are idempotent, every record method throws `NotConnectedError` before `connect()`
 * and after `disconnect()` and writes nothing, and data saved before `disconnect()` is
 * there after `connect()` on the same adapter.
 *
 * @param options The test function, the adapter factory and clean-up, and a name.
 * @returns Nothing; the tests run when the runner runs them.
 * @throws {TypeError} When `options.test` or `options.createAdapter` is not a function.
 *
 * @example Running the tests yourself, without a test runner
 * ```ts
 * import { MemoryStorageAdapter } from "@cvm/storage";
 * import { testConnection } from "@cvm/storage/testing";
 *
 * const tests = new Map<string, () => Promise<void>>();
 * testConnection({
 *   test: (name, fn) => tests.set(name, fn),
 *   createAdapter: () => new MemoryStorageAdapter(),
 * });
 * for (const [name, fn] of tests) {
 *   await fn(); // rejects with a message naming what broke
 *   console.log("ok", name);
 * }
 * ```
 */
export function testConnection(options: ComplianceOptions): void {
  register(options, connectionCases);
}

/**
 * Registers the round-trip tests: all three record kinds come back deep-equal, with every
 * optional and extra field, `Date`s at any depth, object keys of any string (`"$x"`,
 * `"a.b"`, `""`, `"__proto__"`), objects that merely look encoded, edge numbers and
 * strings, and no backend fields such as `_id`; properties holding `undefined` are
 * dropped; saving an id again replaces the whole record.
 *
 * @param options The test function, the adapter factory and clean-up, and a name.
 * @returns Nothing; the tests run when the runner runs them.
 * @throws {TypeError} When `options.test` or `options.createAdapter` is not a function.
 *
 * @example Running only the round-trip tests under Deno
 * ```ts
 * import { MemoryStorageAdapter } from "@cvm/storage";
 * import { testRoundTrip } from "@cvm/storage/testing";
 *
 * testRoundTrip({
 *   name: "MemoryStorageAdapter",
 *   test: (name, fn) => {
 *     Deno.test(name, fn);
 *   },
 *   createAdapter: () => new MemoryStorageAdapter(),
 * });
 * ```
 */
export function testRoundTrip(options: ComplianceOptions): void {
  register(options, roundTripCases);
}

/**
 * Registers the copy tests: saving never modifies the record passed in, and changing a
 * saved record or a returned one (down to its `Date`s) never changes what is stored;
 * every read returns new objects.
 *
 * @param options The test function, the adapter factory and clean-up, and a name.
 * @returns Nothing; the tests run when the runner runs them.
 * @throws {TypeError} When `options.test` or `options.createAdapter` is not a function.
 *
 * @example Running only the copy tests under Deno
 * ```ts
 * import { MemoryStorageAdapter } from "@cvm/storage";
 * import { testCopies } from "@cvm/storage/testing";
 *
 * testCopies({
 *   name: "MemoryStorageAdapter",
 *   test: (name, fn) => {
 *     Deno.test(name, fn);
 *   },
 *   createAdapter: () => new MemoryStorageAdapter(),
 * });
 * ```
 */
export function testCopies(options: ComplianceOptions): void {
  register(options, copiesCases);
}

/**
 * Registers the absent-record tests: unknown programs and executions are `null`, an
 * unknown execution's history is `[]`, deleting what is not there returns `false`, and
 * empty lists are `[]`.
 *
 * @param options The test function, the adapter factory and clean-up, and a name.
 * @returns Nothing; the tests run when the runner runs them.
 * @throws {TypeError} When `options.test` or `options.createAdapter` is not a function.
 *
 * @example Running only the absent-record tests under Deno
 * ```ts
 * import { MemoryStorageAdapter } from "@cvm/storage";
 * import { testAbsent } from "@cvm/storage/testing";
 *
 * testAbsent({
 *   name: "MemoryStorageAdapter",
 *   test: (name, fn) => {
 *     Deno.test(name, fn);
 *   },
 *   createAdapter: () => new MemoryStorageAdapter(),
 * });
 * ```
 */
export function testAbsent(options: ComplianceOptions): void {
  register(options, absentCases);
}

/**
 * Registers the history tests: entries come back ascending by step in numeric order, then
 * by timestamp; the same step at two timestamps is two entries; a duplicate
 * `(executionId, step, timestamp)` throws `ConflictError` and keeps the first entry, even
 * under concurrent saves; histories of different executions are separate; `step` must be
 * a non-negative safe integer and `timestamp` a valid `Date`.
 *
 * @param options The test function, the adapter factory and clean-up, and a name.
 * @returns Nothing; the tests run when the runner runs them.
 * @throws {TypeError} When `options.test` or `options.createAdapter` is not a function.
 *
 * @example Running only the history tests under Deno
 * ```ts
 * import { MemoryStorageAdapter } from "@cvm/storage";
 * import { testHistory } from "@cvm/storage/testing";
 *
 * testHistory({
 *   name: "MemoryStorageAdapter",
 *   test: (name, fn) => {
 *     Deno.test(name, fn);
 *   },
 *   createAdapter: () => new MemoryStorageAdapter(),
 * });
 * ```
 */
export function testHistory(options: ComplianceOptions): void {
  register(options, historyCases);
}

/**
 * Registers the validation tests: every write method rejects records that are not plain
 * objects, records of the wrong shape, and values that cannot round-trip anywhere in the
 * record (functions, symbols, BigInt, `NaN`, `Infinity`, `undefined` in arrays, sparse
 * arrays, class instances, invalid dates, circular references, lone surrogates in strings
 * and keys) with `ValidationError`, and writes nothing, neither a new record nor over the
 * stored one; every method rejects invalid ids the same way.
 *
 * @param options The test function, the adapter factory and clean-up, and a name.
 * @returns Nothing; the tests run when the runner runs them.
 * @throws {TypeError} When `options.test` or `options.createAdapter` is not a function.
 *
 * @example Running only the validation tests under Deno
 * ```ts
 * import { MemoryStorageAdapter } from "@cvm/storage";
 * import { testValidation } from "@cvm/storage/testing";
 *
 * testValidation({
 *   name: "MemoryStorageAdapter",
 *   test: (name, fn) => {
 *     Deno.test(name, fn);
 *   },
 *   createAdapter: () => new MemoryStorageAdapter(),
 * });
 * ```
 */
export function testValidation(options: ComplianceOptions): void {
  register(options, validationCases);
}

/**
 * Registers the id tests: some two hundred hard ids (`/`, `\`, `..`, NUL, spaces,
 * trailing dots, `CON`, ids that differ only in case or Unicode normalization, ids that
 * look like escapes of other ids, ids of 256 code units that differ only at the end) are
 * each stored as their own program, execution and history, read and listed back exactly,
 * and deleted without touching the others.
 *
 * @param options The test function, the adapter factory and clean-up, and a name.
 * @returns Nothing; the tests run when the runner runs them.
 * @throws {TypeError} When `options.test` or `options.createAdapter` is not a function.
 *
 * @example Running only the id tests under Deno
 * ```ts
 * import { MemoryStorageAdapter } from "@cvm/storage";
 * import { testIds } from "@cvm/storage/testing";
 *
 * testIds({
 *   name: "MemoryStorageAdapter",
 *   test: (name, fn) => {
 *     Deno.test(name, fn);
 *   },
 *   createAdapter: () => new MemoryStorageAdapter(),
 * });
 * ```
 */
export function testIds(options: ComplianceOptions): void {
  register(options, idsCases);
}

/**
 * Registers the list and delete tests: lists are ascending by id in JavaScript string
 * order and complete, `listExecutions` filters by exact `programId`, saving an id again
 * replaces it, `delete*` returns `true` then `false`, `deleteExecution` removes exactly
 * its own history, and deleting a program keeps its executions.
 *
 * @param options The test function, the adapter factory and clean-up, and a name.
 * @returns Nothing; the tests run when the runner runs them.
 * @throws {TypeError} When `options.test` or `options.createAdapter` is not a function.
 *
 * @example Running only the list and delete tests under Deno
 * ```ts
 * import { MemoryStorageAdapter } from "@cvm/storage";
 * import { testListAndDelete } from "@cvm/storage/testing";
 *
 * testListAndDelete({
 *   name: "MemoryStorageAdapter",
 *   test: (name, fn) => {
 *     Deno.test(name, fn);
 *   },
 *   createAdapter: () => new MemoryStorageAdapter(),
 * });
 * ```
 */
export function testListAndDelete(options: ComplianceOptions): void {
  register(options, listAndDeleteCases);
}
