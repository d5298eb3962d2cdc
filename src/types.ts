/**
 * The records CVM persists, the queries that read them, and the interface every storage
 * backend implements.
 *
 * @module
 */

/**
 * The lifecycle state of an {@linkcode Execution}: one of the four states CVM's seed
 * named, or any other non-empty, well-formed string of at most 256 UTF-16 code units (real
 * CVM versions use `"waiting_cc"`, `"READY"`, `"AWAITING_COGNITIVE_RESULT"`). Editors still
 * offer the four named states.
 *
 * @example Narrowing a state
 * ```ts
 * import type { ExecutionState } from "@cvm/storage";
 *
 * function isFinished(state: ExecutionState): boolean {
 *   return state === "completed" || state === "error" || state === "COMPLETED";
 * }
 * console.log(isFinished("waiting_cc")); // false
 * ```
 */
// `string & {}` keeps the named states as editor suggestions while accepting any string.
// deno-lint-ignore ban-types
export type ExecutionState = "ready" | "running" | "completed" | "error" | (string & {});

/**
 * A compiled CVM program. Fields beyond the documented ones are stored and returned
 * unchanged.
 *
 * @example A minimal program
 * ```ts
 * import type { Program } from "@cvm/storage";
 *
 * const program: Program = {
 *   id: "hello",
 *   name: "Hello",
 *   source: 'print("hi")',
 *   bytecode: [{ op: "PUSH", arg: "hi" }, { op: "PRINT" }],
 *   created: new Date(),
 * };
 * ```
 */
export interface Program {
  /** Unique id: a non-empty, well-formed string of at most 256 UTF-16 code units. */
  id: string;
  /** Human-readable name. */
  name: string;
  /** The program's source text. */
  source: string;
  /** Compiled bytecode: any storable value (plain data, `Date`s, `Uint8Array`s). */
  bytecode: unknown;
  /** When the program was created. */
  created: Date;
  /** When the program was last changed, if ever. */
  updated?: Date | null;
  /** Any other field, stored and returned unchanged. */
  [field: string]: unknown;
}

/**
 * The state of one run of a {@linkcode Program}. Fields beyond the documented ones (CVM
 * keeps `ccPrompt`, `returnValue`, `heap` and more) are stored and returned unchanged.
 *
 * @example A fresh execution
 * ```ts
 * import type { Execution } from "@cvm/storage";
 *
 * const execution: Execution = {
 *   id: "run-1",
 *   programId: "hello",
 *   state: "READY",
 *   pc: 0,
 *   stack: [],
 *   variables: {},
 *   error: null,
 *   created: new Date(),
 * };
 * ```
 */
export interface Execution {
  /** Unique id: a non-empty, well-formed string of at most 256 UTF-16 code units. */
  id: string;
  /** The id of the program being run. */
  programId: string;
  /** Where the execution is in its lifecycle. */
  state: ExecutionState;
  /** Program counter. */
  pc: number;
  /** The operand stack. */
  stack: unknown[];
  /** Variables by name. */
  variables: Record<string, unknown>;
  /**
   * Lines printed so far, for VMs that keep them in the execution. Later CVM versions
   * append them with {@linkcode StorageAdapter.appendOutput} instead.
   */
  output?: string[];
  /** Why the execution failed, if it did. */
  error?: string | null;
  /** When the execution was created. */
  created: Date;
  /** When the execution was last changed, if ever. */
  updated?: Date | null;
  /** Any other field, stored and returned unchanged. */
  [field: string]: unknown;
}

/**
 * One step of an execution's history: an append-only log entry whose key is
 * `(executionId, step, timestamp)`.
 *
 * @example A history entry
 * ```ts
 * import type { History } from "@cvm/storage";
 *
 * const entry: History = {
 *   executionId: "run-1",
 *   step: 0,
 *   pc: 0,
 *   instruction: "PUSH",
 *   stack: ["hi"],
 *   variables: {},
 *   timestamp: new Date(),
 * };
 * ```
 */
export interface History {
  /** The execution this entry belongs to. */
  executionId: string;
  /** Step number: any safe integer (CVM uses `-1` for out-of-band entries). */
  step: number;
  /** Program counter at this step. */
  pc: number;
  /** The instruction executed. */
  instruction: string;
  /** The operand stack after the step. */
  stack: unknown[];
  /** Variables after the step. */
  variables: Record<string, unknown>;
  /** When the step ran. */
  timestamp: Date;
  /** Any other field, stored and returned unchanged. */
  [field: string]: unknown;
}

/**
 * The position of a history entry within its execution's history: a cursor for
 * {@linkcode HistoryQuery.after}. Any {@linkcode History} entry is one.
 *
 * @example Continuing after the last entry of a page
 * ```ts
 * import type { HistoryKey } from "@cvm/storage";
 *
 * const key: HistoryKey = { step: 41, timestamp: new Date("2026-01-01T00:00:00Z") };
 * ```
 */
export interface HistoryKey {
  /** The entry's step. */
  step: number;
  /** The entry's timestamp. */
  timestamp: Date;
}

/**
 * Selects part of an execution's history. Entries are ordered by `step`, then by
 * `timestamp`; `reverse` makes the order descending. Options combine.
 *
 * @example The latest entry, to resume from
 * ```ts
 * import type { HistoryQuery } from "@cvm/storage";
 *
 * const latest: HistoryQuery = { reverse: true, limit: 1 };
 * const range: HistoryQuery = { fromStep: 100, toStep: 199 };
 * ```
 */
export interface HistoryQuery {
  /** Only entries whose step is at least this (a safe integer). */
  fromStep?: number;
  /** Only entries whose step is at most this (a safe integer). */
  toStep?: number;
  /** Only entries after this key, in the query's order (exclusive). */
  after?: HistoryKey;
  /** At most this many entries (a positive integer). */
  limit?: number;
  /** Descending instead of ascending. */
  reverse?: boolean;
}

/**
 * Pages through a list of programs or executions, ascending by id in Unicode code point
 * order.
 *
 * @example The first page, then the next
 * ```ts
 * import type { ListQuery } from "@cvm/storage";
 *
 * const first: ListQuery = { limit: 100 };
 * const next: ListQuery = { after: "last-id-of-the-first-page", limit: 100 };
 * ```
 */
export interface ListQuery {
  /** Only records whose id comes after this one (exclusive). */
  after?: string;
  /** At most this many records (a positive integer). */
  limit?: number;
}

/**
 * Filters and pages through executions.
 *
 * @example The running executions of one program
 * ```ts
 * import type { ExecutionQuery } from "@cvm/storage";
 *
 * const query: ExecutionQuery = { programId: "hello", state: "running", limit: 50 };
 * ```
 */
export interface ExecutionQuery extends ListQuery {
  /** Only executions of this program. */
  programId?: string;
  /** Only executions in this state. */
  state?: ExecutionState;
}

/**
 * Selects a range of an execution's output lines by index.
 *
 * @example Lines 100 to 149
 * ```ts
 * import type { OutputQuery } from "@cvm/storage";
 *
 * const query: OutputQuery = { from: 100, limit: 50 };
 * ```
 */
export interface OutputQuery {
  /** The index of the first line to return (a non-negative integer); default 0. */
  from?: number;
  /** At most this many lines (a positive integer). */
  limit?: number;
}

/**
 * The interface every storage backend implements.
 *
 * All methods but `connect`, `disconnect` and `isConnected` reject with
 * {@linkcode NotConnectedError} before `connect` and after `disconnect`, and with
 * {@linkcode ValidationError} for bad input, before anything is written. No method throws
 * synchronously. `await using` disconnects the adapter at the end of the scope.
 *
 * @example Using any adapter
 * ```ts
 * import { MemoryStorageAdapter, type StorageAdapter } from "@cvm/storage";
 *
 * await using storage: StorageAdapter = new MemoryStorageAdapter();
 * await storage.connect();
 * await storage.saveProgram({
 *   id: "p1",
 *   name: "P",
 *   source: "",
 *   bytecode: [],
 *   created: new Date(),
 * });
 * console.log((await storage.getProgram("p1"))?.name); // "P"
 * ```
 */
export interface StorageAdapter extends AsyncDisposable {
  /** Opens the backend. Calling it again while connected does nothing. */
  connect(): Promise<void>;
  /**
   * Closes the backend. Calling it again does nothing; it waits for a `connect()` still
   * running, and wins over it.
   */
  disconnect(): Promise<void>;
  /** Whether `connect` has completed and `disconnect` has not been called since. */
  isConnected(): boolean;
  /** Inserts a program, or replaces the one with the same id. */
  saveProgram(program: Program): Promise<void>;
  /** The program with this id, or `null`. */
  getProgram(id: string): Promise<Program | null>;
  /** Inserts an execution, or replaces the one with the same id. */
  saveExecution(execution: Execution): Promise<void>;
  /** The execution with this id, or `null`. */
  getExecution(id: string): Promise<Execution | null>;
  /**
   * Appends a history entry. Never replaces: saving an entry whose
   * `(executionId, step, timestamp)` exists does nothing when the stored entry is deep-equal
   * to it, and otherwise rejects with {@linkcode ConflictError}.
   */
  saveHistory(history: History): Promise<void>;
  /**
   * An execution's history, or the part of it `query` selects: ascending by `step`, then
   * by `timestamp` (descending with `reverse`); `[]` if there is none.
   */
  getHistory(executionId: string, query?: HistoryQuery): Promise<History[]>;
  /** Programs, ascending by id in Unicode code point order, paged by `query`. */
  listPrograms(query?: ListQuery): Promise<Program[]>;
  /**
   * Executions, ascending by id in Unicode code point order, filtered by `programId` and
   * `state` and paged by `query`.
   */
  listExecutions(query?: ExecutionQuery): Promise<Execution[]>;
  /** Deletes a program; `true` if it existed. Its executions are kept. */
  deleteProgram(id: string): Promise<boolean>;
  /** Deletes an execution with its history and output; `true` if the execution existed. */
  deleteExecution(id: string): Promise<boolean>;
  /** Appends all of `lines` after an execution's existing output lines, or none of them. */
  appendOutput(executionId: string, lines: string[]): Promise<void>;
  /** An execution's output lines in order, or the range `query` selects; `[]` if none. */
  getOutput(executionId: string, query?: OutputQuery): Promise<string[]>;
  /** The stored current-execution id, or `null`. */
  getCurrentExecutionId(): Promise<string | null>;
  /** Stores the current-execution id (`null` clears it). It need not name an execution. */
  setCurrentExecutionId(id: string | null): Promise<void>;
}
