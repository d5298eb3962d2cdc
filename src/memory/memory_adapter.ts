/**
 * An in-memory adapter: for tests, and as the reference every other adapter matches.
 *
 * @module
 */

import type { JsonObject } from "../codec.ts";
import { ConflictError, NotConnectedError } from "../errors.ts";
import { assertId } from "../ids.ts";
import {
  checkRecord,
  compareHistory,
  compareIds,
  decodeRecord,
  type RecordTypes,
} from "../records.ts";
import type { Execution, ExecutionFilter, History, Program, StorageAdapter } from "../types.ts";

/**
 * Keeps records in memory, in the same encoded form the file backend writes, so it
 * validates, copies and orders exactly as every other adapter does. Records survive
 * `disconnect()` and `connect()` on the same instance, and are lost with it.
 *
 * @example
 * ```ts
 * import { MemoryStorageAdapter } from "@cvm/storage";
 *
 * const storage = new MemoryStorageAdapter();
 * await storage.connect();
 * await storage.saveExecution({
 *   id: "run-1",
 *   programId: "hello",
 *   state: "ready",
 *   pc: 0,
 *   stack: [],
 *   variables: {},
 *   output: [],
 *   created: new Date(),
 * });
 * console.log((await storage.listExecutions({ programId: "hello" })).length); // 1
 * await storage.disconnect();
 * ```
 */
export class MemoryStorageAdapter implements StorageAdapter {
  #connected = false;
  #programs = new Map<string, JsonObject>();
  #executions = new Map<string, JsonObject>();
  /** History entries by execution id, then by `"<timestamp>-<step>"`. */
  #history = new Map<string, Map<string, JsonObject>>();

  /** Creates an empty, unconnected adapter. */
  constructor() {}

  /** Marks the adapter connected. Calling it again does nothing. */
  connect(): Promise<void> {
    this.#connected = true;
    return Promise.resolve();
  }

  /** Marks the adapter disconnected; records are kept. Calling it again does nothing. */
  disconnect(): Promise<void> {
    this.#connected = false;
    return Promise.resolve();
  }

  /**
   * Whether the adapter is connected.
   *
   * @returns `true` between `connect()` and `disconnect()`.
   */
  isConnected(): boolean {
    return this.#connected;
  }

  /**
   * Inserts a program or replaces the one with the same id.
   *
   * @param program The program.
   * @throws {ValidationError} For an invalid program; nothing is stored.
   * @throws {NotConnectedError} When not connected.
   */
  saveProgram(program: Program): Promise<void> {
    return this.#run("save program", () => {
      const { json, record } = checkRecord("program", program);
      this.#programs.set(record.id, json);
    });
  }

  /**
   * The program with this id.
   *
   * @param id The program's id.
   * @returns A fresh copy, or `null` if there is none.
   * @throws {ValidationError} For an invalid id.
   * @throws {NotConnectedError} When not connected.
   */
  getProgram(id: string): Promise<Program | null> {
    return this.#run("get program", () => this.#get("program", this.#programs, id));
  }

  /**
   * Inserts an execution or replaces the one with the same id.
   *
   * @param execution The execution.
   * @throws {ValidationError} For an invalid execution; nothing is stored.
   * @throws {NotConnectedError} When not connected.
   */
  saveExecution(execution: Execution): Promise<void> {
    return this.#run("save execution", () => {
      const { json, record } = checkRecord("execution", execution);
      this.#executions.set(record.id, json);
    });
  }

  /**
   * The execution with this id.
   *
   * @param id The execution's id.
   * @returns A fresh copy, or `null` if there is none.
   * @throws {ValidationError} For an invalid id.
   * @throws {NotConnectedError} When not connected.
   */
  getExecution(id: string): Promise<Execution | null> {
    return this.#run("get execution", () => this.#get("execution", this.#executions, id));
  }

  /**
   * Appends a history entry.
   *
   * @param history The entry.
   * @throws {ConflictError} When an entry with the same `(executionId, step, timestamp)`
   * exists; it is left untouched.
   * @throws {ValidationError} For an invalid entry; nothing is stored.
   * @throws {NotConnectedError} When not connected.
   */
  saveHistory(history: History): Promise<void> {
    return this.#run("save history", () => {
      const { json, record } = checkRecord("history", history);
      const { executionId, step, timestamp } = record;
      const key = `${timestamp.getTime()}-${step}`;
      const entries = this.#history.get(executionId) ?? new Map();
      if (entries.has(key)) {
        throw new ConflictError(
          `Cannot save history of execution "${executionId}" at step ${step}: an entry ` +
            `with timestamp ${timestamp.toISOString()} ` +
            `already exists; history is append-only, so use a new timestamp or step`,
        );
      }
      entries.set(key, json);
      this.#history.set(executionId, entries);
    });
  }

  /**
   * An execution's history, ascending by step, then by timestamp.
   *
   * @param executionId The execution's id.
   * @returns Fresh copies; `[]` if there are none.
   * @throws {ValidationError} For an invalid id.
   * @throws {NotConnectedError} When not connected.
   */
  getHistory(executionId: string): Promise<History[]> {
    return this.#run("get history", () => {
      assertId(executionId, "Cannot get history", "executionId");
      const entries = [...this.#history.get(executionId)?.values() ?? []];
      return entries
        .map((json) => decodeRecord("history", json, `history of execution "${executionId}"`))
        .sort(compareHistory);
    });
  }

  /**
   * All programs, ascending by id.
   *
   * @returns Fresh copies.
   * @throws {NotConnectedError} When not connected.
   */
  listPrograms(): Promise<Program[]> {
    return this.#run("list programs", () => this.#list("program", this.#programs));
  }

  /**
   * All executions, or those of one program, ascending by id.
   *
   * @param filter Narrows the list to one program's executions.
   * @returns Fresh copies.
   * @throws {ValidationError} For an invalid `filter.programId`.
   * @throws {NotConnectedError} When not connected.
   */
  listExecutions(filter: ExecutionFilter = {}): Promise<Execution[]> {
    return this.#run("list executions", () => {
      const { programId } = filter;
      if (programId !== undefined) assertId(programId, "Cannot list executions", "programId");
      const all = this.#list("execution", this.#executions);
      return programId === undefined ? all : all.filter((e) => e.programId === programId);
    });
  }

  /**
   * Deletes a program. Its executions are kept.
   *
   * @param id The program's id.
   * @returns `true` if it existed.
   * @throws {ValidationError} For an invalid id.
   * @throws {NotConnectedError} When not connected.
   */
  deleteProgram(id: string): Promise<boolean> {
    return this.#run("delete program", () => {
      assertId(id, "Cannot delete program");
      return this.#programs.delete(id);
    });
  }

  /**
   * Deletes an execution and its history.
   *
   * @param id The execution's id.
   * @returns `true` if the execution existed.
   * @throws {ValidationError} For an invalid id.
   * @throws {NotConnectedError} When not connected.
   */
  deleteExecution(id: string): Promise<boolean> {
    return this.#run("delete execution", () => {
      assertId(id, "Cannot delete execution");
      this.#history.delete(id);
      return this.#executions.delete(id);
    });
  }

  /** Runs `fn` if connected, turning a throw into a rejected promise. */
  #run<T>(action: string, fn: () => T): Promise<T> {
    try {
      if (!this.#connected) {
        throw new NotConnectedError(
          `Cannot ${action}: the MemoryStorageAdapter is not connected; call connect() first`,
        );
      }
      return Promise.resolve(fn());
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #get<K extends "program" | "execution">(
    kind: K,
    records: Map<string, JsonObject>,
    id: string,
  ): RecordTypes[K] | null {
    assertId(id, `Cannot get ${kind}`);
    const json = records.get(id);
    return json === undefined ? null : decodeRecord(kind, json, `${kind} "${id}"`);
  }

  #list<K extends "program" | "execution">(
    kind: K,
    records: Map<string, JsonObject>,
  ): RecordTypes[K][] {
    return [...records].map(([id, json]) => decodeRecord(kind, json, `${kind} "${id}"`))
      .sort(compareIds);
  }
}
