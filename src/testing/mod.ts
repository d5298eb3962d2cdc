/**
 * The compliance suite every {@linkcode StorageAdapter} must pass: one set of tests,
 * written once, run against the file, memory and MongoDB adapters here and against any
 * third-party adapter, and the durability kit that proves an adapter keeps what it
 * acknowledged when its process is killed or shares the store with other processes.
 *
 * The suite registers its tests through the `test` function you pass, so it runs under
 * `Deno.test`, `node:test` and `bun:test` alike, and it depends on nothing but the
 * runtime: it brings its own assertions. Each test gets a fresh adapter from
 * `createAdapter`, connects it (unless the test is about connecting), and always
 * disconnects it and hands it to `destroyAdapter` afterwards. Tests that restart use
 * `reopenAdapter` for a new adapter on the same store.
 *
 * {@linkcode testStorageAdapter} registers every group; each group is also exported on its
 * own ({@linkcode testConnection}, {@linkcode testRoundTrip}, {@linkcode testCopies},
 * {@linkcode testAbsent}, {@linkcode testHistory}, {@linkcode testValidation},
 * {@linkcode testArguments}, {@linkcode testIds}, {@linkcode testListAndDelete},
 * {@linkcode testOutput}, {@linkcode testCurrentExecution}, {@linkcode testHistoryQueries},
 * {@linkcode testListQueries}, {@linkcode testStreamHistory}, {@linkcode testVmFlow}), so
 * an adapter author can work through them one at a time.
 *
 * The durability kit ({@linkcode testCrashConsistency}, {@linkcode testConcurrentProcesses})
 * runs under Deno only: it spawns child processes that load your adapter module.
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

import { absentCases } from "./_absent.ts";
import { argumentsCases } from "./_arguments.ts";
import { connectionCases } from "./_connection.ts";
import { copiesCases } from "./_copies.ts";
import { currentExecutionCases } from "./_current_execution.ts";
import { register } from "./_harness.ts";
import { historyCases } from "./_history.ts";
import { historyQueryCases } from "./_history_queries.ts";
import { idsCases } from "./_ids.ts";
import { listAndDeleteCases } from "./_list_and_delete.ts";
import { listQueryCases } from "./_list_queries.ts";
import { outputCases } from "./_output.ts";
import { roundTripCases } from "./_round_trip.ts";
import { streamHistoryCases } from "./_stream_history.ts";
import { validationCases } from "./_validation.ts";
import { vmFlowCases } from "./_vm_flow.ts";
import type { ComplianceOptions } from "./_types.ts";

export type { ComplianceOptions, ComplianceTest } from "./_types.ts";
export { type ConcurrencyOptions, testConcurrentProcesses } from "./durability/concurrency.ts";
export { type CrashOptions, testCrashConsistency } from "./durability/crash.ts";
export type { DurabilityOptions } from "./durability/options.ts";

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
 * Registers every compliance test: all the groups below, in order.
 *
 * @param options The test function, the adapter factory, restart and clean-up, and a name.
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
  testArguments(options);
  testIds(options);
  testListAndDelete(options);
  testOutput(options);
  testCurrentExecution(options);
  testHistoryQueries(options);
  testListQueries(options);
  testStreamHistory(options);
  testVmFlow(options);
}

/**
 * Registers the connection tests: `isConnected()` tracks `connect()` and `disconnect()`,
 * both are idempotent, every method rejects with `NotConnectedError` before `connect()`
 * and after `disconnect()` and writes nothing, `[Symbol.asyncDispose]()` disconnects (so
 * `await using` releases the adapter), and everything saved (records, history, output,
 * the current execution) is there after `connect()` on the same adapter and after a
 * restart (see `reopenAdapter`).
 *
 * @param options The test function, the adapter factory, restart and clean-up, and a name.
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
 * Registers the round-trip tests: all three record kinds come back deep-equal and of the
 * same types, with every optional and extra field (`ccPrompt`, `returnValue`, `heap`,
 * `iterators`, `status`), any state, `null` for `updated` and `error`, `Date`s at any
 * depth and at the edges of time, `Uint8Array`s, `NaN`, `Infinity`, `-Infinity` and `-0`,
 * strings and keys with lone surrogates, object keys of any string (`"$x"`, `"a.b"`,
 * `""`, `"__proto__"`, NUL), objects that merely look encoded (`{ "$date": … }`,
 * `{ "$oid": "x", "a": 1 }`), values 512 levels deep, and no backend fields such as
 * `_id`; properties holding `undefined` are dropped; saving an id again replaces the
 * whole record.
 *
 * @param options The test function, the adapter factory, restart and clean-up, and a name.
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
 * saved record, a returned one (down to its `Date`s and bytes), the lines passed to
 * `appendOutput` or the array `getOutput` returned never changes what is stored; every
 * read returns new objects.
 *
 * @param options The test function, the adapter factory, restart and clean-up, and a name.
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
 * unknown execution's history and output are `[]` (with any query), deleting what is not
 * there returns `false`, empty lists are `[]`, and no current execution is `null`.
 *
 * @param options The test function, the adapter factory, restart and clean-up, and a name.
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
 * Registers the history tests: entries come back ascending by step in numeric order
 * (negative steps such as `-1` included), then by timestamp; the same step at two
 * timestamps is two entries; saving an entry whose `(executionId, step, timestamp)` is
 * stored changes nothing when it is deep-equal to the stored one (a safe retry, even
 * concurrent) and otherwise throws `ConflictError` and keeps the stored one; exactly one
 * of concurrent different entries wins; `step` is any safe integer and `timestamp` a
 * valid `Date`.
 *
 * @param options The test function, the adapter factory, restart and clean-up, and a name.
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
 * Registers the validation tests: every save rejects records that are not plain objects,
 * records of the wrong shape, and values that cannot round-trip anywhere in the record
 * (functions, symbols, BigInt, `undefined` in arrays, sparse arrays, class instances,
 * `Date` and `Uint8Array` subclasses, `Date`s or arrays with extra own properties, typed
 * arrays other than `Uint8Array`, invalid dates, circular references, getters that
 * throw, nesting deeper than 512 levels) with `ValidationError`, and writes nothing,
 * neither a new record nor over the stored one.
 *
 * @param options The test function, the adapter factory, restart and clean-up, and a name.
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
 * Registers the argument tests: every method rejects an invalid id (and
 * `setCurrentExecutionId` anything but an id or `null`) with `ValidationError` and writes
 * nothing, and every method rejects hostile arguments (revoked proxies, throwing getters
 * and conversions, symbols) through its promise with a `ValidationError`, never by a
 * synchronous throw or a `TypeError`.
 *
 * @param options The test function, the adapter factory, restart and clean-up, and a name.
 * @returns Nothing; the tests run when the runner runs them.
 * @throws {TypeError} When `options.test` or `options.createAdapter` is not a function.
 *
 * @example Running only the argument tests under Deno
 * ```ts
 * import { MemoryStorageAdapter } from "@cvm/storage";
 * import { testArguments } from "@cvm/storage/testing";
 *
 * testArguments({
 *   name: "MemoryStorageAdapter",
 *   test: (name, fn) => {
 *     Deno.test(name, fn);
 *   },
 *   createAdapter: () => new MemoryStorageAdapter(),
 * });
 * ```
 */
export function testArguments(options: ComplianceOptions): void {
  register(options, argumentsCases);
}

/**
 * Registers the id tests: some two hundred hard ids (`/`, `\\`, `..`, NUL, spaces,
 * trailing dots, `CON`, ids that differ only in case or Unicode normalization, ids that
 * look like escapes of other ids, ids of 256 code units that differ only at the end) are
 * each stored as their own program, execution, history, output and current execution,
 * read and listed back exactly, and deleted without touching the others.
 *
 * @param options The test function, the adapter factory, restart and clean-up, and a name.
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
 * Registers the list and delete tests: lists are ascending by id in Unicode code point
 * order and complete, `listExecutions` filters by exact `programId`, saving an id again
 * replaces it, `delete*` returns `true` then `false`, `deleteExecution` removes exactly its
 * own history and output, and deleting a program keeps its executions.
 *
 * @param options The test function, the adapter factory, restart and clean-up, and a name.
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

/**
 * Registers the output tests: `appendOutput` adds all its lines after the existing ones
 * (any string, lone surrogates and newlines included) or, for bad input, none of them;
 * an empty append changes nothing; concurrent appends keep every call's lines together;
 * `getOutput` returns the lines in order, or the range `from` and `limit` select, and
 * rejects invalid queries; the output is apart from the execution record, is deleted with
 * the execution, and survives a restart.
 *
 * @param options The test function, the adapter factory, restart and clean-up, and a name.
 * @returns Nothing; the tests run when the runner runs them.
 * @throws {TypeError} When `options.test` or `options.createAdapter` is not a function.
 *
 * @example Running only the output tests under Deno
 * ```ts
 * import { MemoryStorageAdapter } from "@cvm/storage";
 * import { testOutput } from "@cvm/storage/testing";
 *
 * testOutput({
 *   name: "MemoryStorageAdapter",
 *   test: (name, fn) => {
 *     Deno.test(name, fn);
 *   },
 *   createAdapter: () => new MemoryStorageAdapter(),
 * });
 * ```
 */
export function testOutput(options: ComplianceOptions): void {
  register(options, outputCases);
}

/**
 * Registers the current-execution tests: `getCurrentExecutionId` is `null` until set,
 * `setCurrentExecutionId` replaces it and `null` clears it, it need not name a stored
 * execution, deleting executions and programs does not change it, and it survives
 * `disconnect()` and `connect()` and a restart.
 *
 * @param options The test function, the adapter factory, restart and clean-up, and a name.
 * @returns Nothing; the tests run when the runner runs them.
 * @throws {TypeError} When `options.test` or `options.createAdapter` is not a function.
 *
 * @example Running only the current-execution tests under Deno
 * ```ts
 * import { MemoryStorageAdapter } from "@cvm/storage";
 * import { testCurrentExecution } from "@cvm/storage/testing";
 *
 * testCurrentExecution({
 *   name: "MemoryStorageAdapter",
 *   test: (name, fn) => {
 *     Deno.test(name, fn);
 *   },
 *   createAdapter: () => new MemoryStorageAdapter(),
 * });
 * ```
 */
export function testCurrentExecution(options: ComplianceOptions): void {
  register(options, currentExecutionCases);
}

/**
 * Registers the history query tests: `getHistory` with every `HistoryQuery` option and
 * their combinations (`fromStep`, `toStep`, `after` in either order, `limit`, `reverse`)
 * over a history with step `-1` entries and many entries at one step; `{ reverse: true,
 * limit: 1 }` is the latest entry; paging with `after` returns every entry once; empty
 * ranges are `[]`; invalid queries are a `ValidationError`.
 *
 * @param options The test function, the adapter factory, restart and clean-up, and a name.
 * @returns Nothing; the tests run when the runner runs them.
 * @throws {TypeError} When `options.test` or `options.createAdapter` is not a function.
 *
 * @example Running only the history query tests under Deno
 * ```ts
 * import { MemoryStorageAdapter } from "@cvm/storage";
 * import { testHistoryQueries } from "@cvm/storage/testing";
 *
 * testHistoryQueries({
 *   name: "MemoryStorageAdapter",
 *   test: (name, fn) => {
 *     Deno.test(name, fn);
 *   },
 *   createAdapter: () => new MemoryStorageAdapter(),
 * });
 * ```
 */
export function testHistoryQueries(options: ComplianceOptions): void {
  register(options, historyQueryCases);
}

/**
 * Registers the list query tests: `listPrograms` and `listExecutions` page with `after`
 * and `limit` in Unicode code point order and return every record once across pages,
 * `listExecutions` filters by `programId` and `state` (alone, together and with paging),
 * and invalid queries (`listExecutions("p1")`, `null`, a `limit` of 0, unknown options)
 * are a `ValidationError`.
 *
 * @param options The test function, the adapter factory, restart and clean-up, and a name.
 * @returns Nothing; the tests run when the runner runs them.
 * @throws {TypeError} When `options.test` or `options.createAdapter` is not a function.
 *
 * @example Running only the list query tests under Deno
 * ```ts
 * import { MemoryStorageAdapter } from "@cvm/storage";
 * import { testListQueries } from "@cvm/storage/testing";
 *
 * testListQueries({
 *   name: "MemoryStorageAdapter",
 *   test: (name, fn) => {
 *     Deno.test(name, fn);
 *   },
 *   createAdapter: () => new MemoryStorageAdapter(),
 * });
 * ```
 */
export function testListQueries(options: ComplianceOptions): void {
  register(options, listQueryCases);
}

/**
 * Registers the query tests: {@linkcode testHistoryQueries} and
 * {@linkcode testListQueries}.
 *
 * @param options The test function, the adapter factory, restart and clean-up, and a name.
 * @returns Nothing; the tests run when the runner runs them.
 * @throws {TypeError} When `options.test` or `options.createAdapter` is not a function.
 *
 * @example Running only the query tests under Deno
 * ```ts
 * import { MemoryStorageAdapter } from "@cvm/storage";
 * import { testQueries } from "@cvm/storage/testing";
 *
 * testQueries({
 *   name: "MemoryStorageAdapter",
 *   test: (name, fn) => {
 *     Deno.test(name, fn);
 *   },
 *   createAdapter: () => new MemoryStorageAdapter(),
 * });
 * ```
 */
export function testQueries(options: ComplianceOptions): void {
  testHistoryQueries(options);
  testListQueries(options);
}

/**
 * Registers the `streamHistory` tests, run over the adapter: it yields exactly what one
 * `getHistory` call with the same query returns, for page sizes from 1 up, in either
 * order and with every option; it reads pages of at most `pageSize` entries with the
 * `after` cursor; its `limit` caps the total; invalid options reject the first `next()`
 * with `ValidationError`.
 *
 * @param options The test function, the adapter factory, restart and clean-up, and a name.
 * @returns Nothing; the tests run when the runner runs them.
 * @throws {TypeError} When `options.test` or `options.createAdapter` is not a function.
 *
 * @example Running only the streamHistory tests under Deno
 * ```ts
 * import { MemoryStorageAdapter } from "@cvm/storage";
 * import { testStreamHistory } from "@cvm/storage/testing";
 *
 * testStreamHistory({
 *   name: "MemoryStorageAdapter",
 *   test: (name, fn) => {
 *     Deno.test(name, fn);
 *   },
 *   createAdapter: () => new MemoryStorageAdapter(),
 * });
 * ```
 */
export function testStreamHistory(options: ComplianceOptions): void {
  register(options, streamHistoryCases);
}

/**
 * Registers the VM flow tests: a small VM written against the original CVM's later
 * storage interface runs programs on the adapter: states in capitals and
 * `"waiting_cc"`, output appended with `appendOutput`, the current execution resumed
 * after a restart (a new adapter from `reopenAdapter`), history at step `-1`, `NaN`,
 * `Infinity` and half a surrogate pair in variables, `error: null`, extra fields such as
 * `ccPrompt` and `heap`; after every restart it reads back exactly what it saved.
 *
 * @param options The test function, the adapter factory, restart and clean-up, and a name.
 * @returns Nothing; the tests run when the runner runs them.
 * @throws {TypeError} When `options.test` or `options.createAdapter` is not a function.
 *
 * @example Running only the VM flow tests under Deno
 * ```ts
 * import { MemoryStorageAdapter } from "@cvm/storage";
 * import { testVmFlow } from "@cvm/storage/testing";
 *
 * testVmFlow({
 *   name: "MemoryStorageAdapter",
 *   test: (name, fn) => {
 *     Deno.test(name, fn);
 *   },
 *   createAdapter: () => new MemoryStorageAdapter(),
 * });
 * ```
 */
export function testVmFlow(options: ComplianceOptions): void {
  register(options, vmFlowCases);
}
