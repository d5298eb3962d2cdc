/**
 * The records CVM persists and the interface every storage backend implements.
 *
 * @module
 */

/**
 * The lifecycle state of an {@linkcode Execution}.
 *
 * @example Narrowing a state
 * ```ts
 * import type { ExecutionState } from "@cvm/storage";
 *
 * function isFinished(state: ExecutionState): boolean {
 *   return state === "completed" || state === "error";
 * }
 * console.log(isFinished("running")); // false
 * ```
 */
export type ExecutionState = "ready" | "running" | "completed" | "error";

/**
 * A compiled CVM program.
 *
 * Fields beyond the documented ones are stored and returned unchanged (the type lists
 * only the documented ones).
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
  /** Compiled bytecode: any storable value (plain data and `Date`s). */
  bytecode: unknown;
  /** When the program was created. */
  created: Date;
  /** When the program was last changed. */
  updated?: Date;
}

/**
 * The state of one run of a {@linkcode Program}.
 *
 * Fields beyond the documented ones are stored and returned unchanged (the type lists
 * only the documented ones).
 *
 * @example A fresh execution
 * ```ts
 * import type { Execution } from "@cvm/storage";
 *
 * const execution: Execution = {
 *   id: "run-1",
 *   programId: "hello",
 *   state: "ready",
 *   pc: 0,
 *   stack: [],
 *   variables: {},
 *   output: [],
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
  /** Program counter: a finite number. */
  pc: number;
  /** The operand stack. */
  stack: unknown[];
  /** Variables by name. */
  variables: Record<string, unknown>;
  /** Lines printed so far. */
  output: string[];
  /** Why the execution failed, when `state` is `"error"`. */
  error?: string;
  /** When the execution was created. */
  created: Date;
  /** When the execution was last changed. */
  updated?: Date;
}

/**
 * One step of an execution's history: an append-only log entry.
 *
 * Its key is `(executionId, step, timestamp)`; saving a second entry with the same key
 * throws {@linkcode ConflictError}.
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
  /** Step number: a non-negative safe integer. */
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
}

/**
 * Narrows {@linkcode StorageAdapter.listExecutions}.
 *
 * @example Executions of one program
 * ```ts
 * import type { ExecutionFilter } from "@cvm/storage";
 *
 * const filter: ExecutionFilter = { programId: "hello" };
 * ```
 */
export interface ExecutionFilter {
  /** Only executions of this program. */
  programId?: string;
}

/**
 * The interface every storage backend implements.
 *
 * All methods but `connect`, `disconnect` and `isConnected` throw
 * {@linkcode NotConnectedError} before `connect` and after `disconnect`, and
 * {@linkcode ValidationError} for bad input, before anything is written.
 *
 * @example Using any adapter
 * ```ts
 * import { MemoryStorageAdapter, type StorageAdapter } from "@cvm/storage";
 *
 * const storage: StorageAdapter = new MemoryStorageAdapter();
 * await storage.connect();
 * await storage.saveProgram({
 *   id: "p1",
 *   name: "P",
 *   source: "",
 *   bytecode: [],
 *   created: new Date(),
 * });
 * console.log((await storage.getProgram("p1"))?.name); // "P"
 * await storage.disconnect();
 * ```
 */
export interface StorageAdapter {
  /** Opens the backend. Calling it again while connected does nothing. */
  connect(): Promise<void>;
  /** Closes the backend. Calling it again while disconnected does nothing. */
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
   * Appends a history entry. Never replaces: an entry with the same
   * `(executionId, step, timestamp)` throws {@linkcode ConflictError}.
   */
  saveHistory(history: History): Promise<void>;
  /** An execution's history, ascending by `step`, then by `timestamp`; `[]` if none. */
  getHistory(executionId: string): Promise<History[]>;
  /** All programs, ascending by id (JavaScript string order). */
  listPrograms(): Promise<Program[]>;
  /** All executions, or those of one program, ascending by id (JavaScript string order). */
  listExecutions(filter?: ExecutionFilter): Promise<Execution[]>;
  /** Deletes a program; `true` if it existed. */
  deleteProgram(id: string): Promise<boolean>;
  /** Deletes an execution and its history; `true` if the execution existed. */
  deleteExecution(id: string): Promise<boolean>;
}
