/**
 * An in-memory adapter: for tests, and as the reference every other adapter matches.
 *
 * @module
 */

import type { JsonObject } from "../codec.ts";
import { deepEqual } from "../_deep_equal.ts";
import { NotConnectedError } from "../errors.ts";
import { assertId, checkCurrentId } from "../ids.ts";
import {
  checkHistoryQuery,
  checkListQuery,
  checkOutputQuery,
  compareCodePoints,
  compareHistoryKeys,
  lowerBound,
  selectHistory,
  selectPage,
} from "../query.ts";
import {
  checkOutputLines,
  checkRecord,
  decodeRecord,
  historyConflict,
  type RecordTypes,
} from "../records.ts";
import type {
  Execution,
  ExecutionQuery,
  History,
  HistoryQuery,
  ListQuery,
  OutputQuery,
  Program,
  StorageAdapter,
} from "../types.ts";

/** A stored history entry with its key. */
interface Entry {
  step: number;
  time: number;
  json: JsonObject;
}

/** A stored execution with the fields its queries filter on. */
interface StoredExecution {
  json: JsonObject;
  programId: string;
  state: string;
}

/**
 * Keeps records in memory, in the same encoded form the file backend writes, so it
 * validates, copies and orders exactly as every other adapter does. Records survive
 * `disconnect()` and `connect()` on the same instance, and are lost with it.
 *
 * @example
 * ```ts
 * import { MemoryStorageAdapter } from "@cvm/storage";
 *
 * await using storage = new MemoryStorageAdapter();
 * await storage.connect();
 * await storage.saveExecution({
 *   id: "run-1",
 *   programId: "hello",
 *   state: "ready",
 *   pc: 0,
 *   stack: [],
 *   variables: {},
 *   created: new Date(),
 * });
 * console.log((await storage.listExecutions({ programId: "hello" })).length); // 1
 * ```
 */
export class MemoryStorageAdapter implements StorageAdapter {
  #connected = false;
  #programs = new Map<string, JsonObject>();
  #executions = new Map<string, StoredExecution>();
  /** Ids in code point order, rebuilt when an id is added or removed. */
  #programIds: string[] | undefined;
  #executionIds: string[] | undefined;
  /** History entries by execution id, ascending by step, then time. */
  #history = new Map<string, Entry[]>();
  #output = new Map<string, string[]>();
  #current: string | null = null;

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

  /** Disconnects; for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.disconnect();
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
      const { json, id } = checkRecord("program", program);
      if (!this.#programs.has(id)) this.#programIds = undefined;
      this.#programs.set(id, json);
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
    return this.#run("get program", () => {
      assertId(id, "Cannot get program");
      const json = this.#programs.get(id);
      return json === undefined ? null : decode("program", json, `program "${id}"`);
    });
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
      const { json, id, programId, state } = checkRecord("execution", execution);
      if (!this.#executions.has(id)) this.#executionIds = undefined;
      this.#executions.set(id, { json, programId, state });
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
    return this.#run("get execution", () => {
      assertId(id, "Cannot get execution");
      const stored = this.#executions.get(id);
      return stored === undefined ? null : decode("execution", stored.json, `execution "${id}"`);
    });
  }

  /**
   * Appends a history entry. Saving an entry deep-equal to the stored one with the same
   * key does nothing.
   *
   * @param history The entry.
   * @throws {ConflictError} When a different entry with the same
   * `(executionId, step, timestamp)` exists; it is left untouched.
   * @throws {ValidationError} For an invalid entry; nothing is stored.
   * @throws {NotConnectedError} When not connected.
   */
  saveHistory(history: History): Promise<void> {
    return this.#run("save history", () => {
      const { json, executionId, step, time } = checkRecord("history", history);
      let entries = this.#history.get(executionId);
      if (entries === undefined) this.#history.set(executionId, entries = []);
      const at = lowerBound(entries, (e) => compareHistoryKeys(e.step, e.time, step, time) >= 0);
      const found = entries[at];
      if (found !== undefined && found.step === step && found.time === time) {
        if (deepEqual(found.json, json)) return;
        throw historyConflict(executionId, step, time);
      }
      entries.splice(at, 0, { step, time, json });
    });
  }

  /**
   * An execution's history, or the part `query` selects.
   *
   * @param executionId The execution's id.
   * @param query The step range, cursor, limit and order.
   * @returns Fresh copies, ascending by step, then by timestamp (descending with
   * `reverse`); `[]` if there are none.
   * @throws {ValidationError} For an invalid id or query.
   * @throws {NotConnectedError} When not connected.
   */
  getHistory(executionId: string, query?: HistoryQuery): Promise<History[]> {
    return this.#run("get history", () => {
      assertId(executionId, "Cannot get history", "executionId");
      const plan = checkHistoryQuery(query, `Cannot get history of execution "${executionId}"`);
      const what = `history of execution "${executionId}"`;
      return selectHistory(this.#history.get(executionId) ?? [], plan, (e) => e)
        .map((entry) => decode("history", entry.json, what));
    });
  }

  /**
   * Programs, ascending by id in code point order, paged by `query`.
   *
   * @param query The cursor and limit.
   * @returns Fresh copies.
   * @throws {ValidationError} For an invalid query.
   * @throws {NotConnectedError} When not connected.
   */
  listPrograms(query?: ListQuery): Promise<Program[]> {
    return this.#run("list programs", () => {
      const plan = checkListQuery(query, "Cannot list programs", false);
      this.#programIds ??= [...this.#programs.keys()].sort(compareCodePoints);
      return selectPage(this.#programIds, plan, (id) => id)
        .map((id) => decode("program", this.#programs.get(id)!, `program "${id}"`));
    });
  }

  /**
   * Executions, ascending by id in code point order, filtered and paged by `query`.
   *
   * @param query The program and state to keep, the cursor and the limit.
   * @returns Fresh copies.
   * @throws {ValidationError} For an invalid query.
   * @throws {NotConnectedError} When not connected.
   */
  listExecutions(query?: ExecutionQuery): Promise<Execution[]> {
    return this.#run("list executions", () => {
      const plan = checkListQuery(query, "Cannot list executions", true);
      this.#executionIds ??= [...this.#executions.keys()].sort(compareCodePoints);
      const { programId, state } = plan;
      let ids = this.#executionIds;
      if (programId !== undefined || state !== undefined) {
        ids = ids.filter((id) => {
          const stored = this.#executions.get(id)!;
          return (programId === undefined || stored.programId === programId) &&
            (state === undefined || stored.state === state);
        });
      }
      return selectPage(ids, plan, (id) => id).map((id) =>
        decode("execution", this.#executions.get(id)!.json, `execution "${id}"`)
      );
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
      const existed = this.#programs.delete(id);
      if (existed) this.#programIds = undefined;
      return existed;
    });
  }

  /**
   * Deletes an execution with its history and output.
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
      this.#output.delete(id);
      const existed = this.#executions.delete(id);
      if (existed) this.#executionIds = undefined;
      return existed;
    });
  }

  /**
   * Appends lines to an execution's output: all of them, or none.
   *
   * @param executionId The execution's id.
   * @param lines The lines, in order.
   * @throws {ValidationError} For an invalid id or lines; nothing is stored.
   * @throws {NotConnectedError} When not connected.
   */
  appendOutput(executionId: string, lines: string[]): Promise<void> {
    return this.#run("append output", () => {
      assertId(executionId, "Cannot append output", "executionId");
      const copy = checkOutputLines(lines, `Cannot append output of execution "${executionId}"`);
      if (copy.length === 0) return;
      const stored = this.#output.get(executionId);
      if (stored === undefined) this.#output.set(executionId, copy);
      else for (const line of copy) stored.push(line);
    });
  }

  /**
   * An execution's output lines, or the range `query` selects.
   *
   * @param executionId The execution's id.
   * @param query The first line's index and the number of lines.
   * @returns The lines in order; `[]` if there are none.
   * @throws {ValidationError} For an invalid id or query.
   * @throws {NotConnectedError} When not connected.
   */
  getOutput(executionId: string, query?: OutputQuery): Promise<string[]> {
    return this.#run("get output", () => {
      assertId(executionId, "Cannot get output", "executionId");
      const { from, limit } = checkOutputQuery(
        query,
        `Cannot get output of execution "${executionId}"`,
      );
      const lines = this.#output.get(executionId) ?? [];
      return lines.slice(from, limit === undefined ? undefined : from + limit);
    });
  }

  /**
   * The current-execution id.
   *
   * @returns The id, or `null` when none is set.
   * @throws {NotConnectedError} When not connected.
   */
  getCurrentExecutionId(): Promise<string | null> {
    return this.#run("get the current execution", () => this.#current);
  }

  /**
   * Sets the current-execution id; `null` clears it.
   *
   * @param id The id, which need not name a stored execution, or `null`.
   * @throws {ValidationError} For an id that is neither valid nor `null`.
   * @throws {NotConnectedError} When not connected.
   */
  setCurrentExecutionId(id: string | null): Promise<void> {
    return this.#run("set the current execution", () => {
      this.#current = checkCurrentId(id);
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
}

/** Decodes a fresh copy of a stored form. */
function decode<K extends keyof RecordTypes>(
  kind: K,
  json: JsonObject,
  what: string,
): RecordTypes[K] {
  return decodeRecord(kind, structuredClone(json), what);
}
