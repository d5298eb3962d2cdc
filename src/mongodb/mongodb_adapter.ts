/**
 * The MongoDB backend, on the official `mongodb` driver, loaded only by `connect()`.
 *
 * @module
 */

import {
  type BulkHistoryItem,
  type BulkOutputItem,
  type BulkOutputOptions,
  type BulkReader,
  offerBulkReads,
} from "../_bulk.ts";
import type { NativeDocument } from "../document.ts";
import { NotConnectedError, type StorageError } from "../errors.ts";
import { lazyModules } from "../_lazy.ts";
import { assertId, checkCurrentId } from "../ids.ts";
import { Lifecycle } from "../_lifecycle.ts";
import { checkHistoryQuery, checkListQuery, checkOutputQuery } from "../query.ts";
import { checkOutputLines, checkRecord, type RecordKind } from "../records.ts";
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
import type { Call } from "./_call.ts";
import type { Session } from "./_connection.ts";
import type * as EngineModule from "./_engine.ts";
import type { Failed } from "./_errors.ts";
import { type MongoDBOptions, readOptions, type Settings } from "./_options.ts";
import type { OutputEnds } from "./_output.ts";
import type { Kind } from "./_records.ts";

export type { MongoDBOptions } from "./_options.ts";

/** The modules a connection runs, loaded by the first `connect()`. */
type Engine = typeof EngineModule;
const loadEngine = lazyModules(() => import("./_engine.ts"), "MongoDB");

/** An open connection: the session, the engine that serves it, and its output ends. */
interface Connection {
  session: Session;
  engine: Engine;
  outputEnds: OutputEnds;
}

/** What makes retrying a write that may have been stored safe. */
const SAFE = "and saving it again is safe";

/**
 * Stores records as native documents in the MongoDB database named by `dbName`, the
 * URI's path, or `cvm`: collections `programs`, `executions` and `history` hold one
 * document per record with the record's own fields (`Date`s as BSON dates, bytes as BSON
 * binary), `outputs` holds output lines and `metadata` the current execution, in the
 * shapes the original CVM's MongoDB adapter used, whose documents it also reads.
 * `connect()` loads the `mongodb` driver (with a dynamic `import()`, so that programs
 * using other backends never load it) and creates the indexes: unique on `id`
 * (programs, executions), on `programId` and `state`, unique on
 * `(executionId, step, timestamp)`, and on `(executionId, end)` for output.
 *
 * Values BSON or the server cannot hold (keys starting with `$` or containing `.`,
 * strings that are not well-formed Unicode, very deep nesting; on FerretDB also `NaN`,
 * `±Infinity`, `-0` and nested arrays) are stored in a tagged form, so the round trip is
 * exact; see `src/document.ts`.
 *
 * No call waits more than `timeoutMS` (default 5000) for the server: a server that does
 * not answer fails the call with `ConnectionError`, and a write whose reply was lost
 * says so with `maybeStored: true`. Connection strings are never shown with their
 * credentials: messages show `mongodb://user:***@host/db`, and driver errors attached as
 * a `cause` are scrubbed copies.
 *
 * Under Deno, `connect()` and every call need `--allow-net` (for the server) and
 * `--allow-env` (the driver reads the environment).
 *
 * @example Connect, save and read
 * ```ts ignore
 * import { MongoDBAdapter } from "@cvm/storage";
 *
 * await using storage = new MongoDBAdapter("mongodb://127.0.0.1:27017/cvm");
 * await storage.connect();
 * await storage.saveProgram({
 *   id: "hello",
 *   name: "Hello",
 *   source: 'print("hi")',
 *   bytecode: [],
 *   created: new Date(),
 * });
 * console.log(await storage.listPrograms());
 * ```
 *
 * @example Nothing is loaded or opened before `connect()`
 * ```ts
 * import { MongoDBAdapter, NotConnectedError } from "@cvm/storage";
 *
 * const storage = new MongoDBAdapter({
 *   uri: "mongodb://alice:secret@db.example.com/app",
 *   timeoutMS: 2000,
 * });
 * console.log(storage.isConnected()); // false
 * await storage.getProgram("p1").catch((error) => {
 *   console.log(error instanceof NotConnectedError); // true
 *   console.log(error.message.includes("secret")); // false
 * });
 * ```
 */
export class MongoDBAdapter implements StorageAdapter {
  readonly #settings: Settings;
  #lifecycle = new Lifecycle<Connection>();

  /**
   * Creates an unconnected adapter. Nothing is loaded or opened until `connect()`.
   *
   * @param uri A connection string, or options.
   * @throws {ConfigError} When the URI is not a `mongodb://` or `mongodb+srv://` URI, or
   * the database name or another option is not valid.
   */
  constructor(uri: string | MongoDBOptions) {
    this.#settings = readOptions(uri);
  }

  /**
   * Loads the driver, connects, and creates the indexes. Calling it again while connected
   * does nothing; concurrent calls share one attempt. On failure the client is closed.
   *
   * Under Deno it needs `--allow-net` and `--allow-env`.
   *
   * @throws {ConnectionError} When the driver cannot be loaded (the message says how to
   * add it), no server answers within `serverSelectionTimeoutMS`, authentication fails, or
   * the indexes cannot be created (old data with duplicate ids: the message names them).
   */
  connect(): Promise<void> {
    return this.#lifecycle.open(async () => {
      const engine = await loadEngine();
      const session = await engine.openSession(this.#settings);
      return { session, engine, outputEnds: new engine.OutputEnds() };
    });
  }

  /**
   * Closes the client, and with it every socket and timer the driver holds. Calling it
   * again does nothing; a `connect()` still running finishes first. Calls running meanwhile
   * reject with `NotConnectedError` (or, for a write that may have been stored, a
   * `ConnectionError` with `maybeStored: true`).
   */
  disconnect(): Promise<void> {
    return this.#lifecycle.close(({ session, engine }) =>
      engine.closeSession(this.#settings, session)
    );
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
    return this.#lifecycle.current !== undefined;
  }

  /**
   * Inserts a program or replaces the one with the same id.
   *
   * @param program The program.
   * @throws {ValidationError} For an invalid program, or one larger than 16 MiB as BSON;
   * nothing is written.
   * @throws {NotConnectedError} When not connected.
   * @throws {ConnectionError} When the server does not answer within `timeoutMS`.
   * @throws {StorageError} With code `"IO"` when the server fails.
   */
  async saveProgram(program: Program): Promise<void> {
    await this.#save("program", program);
  }

  /**
   * The program with this id.
   *
   * @param id The program's id.
   * @returns A fresh copy, or `null` if there is none.
   * @throws {CorruptRecordError} When the stored document cannot be read as this program.
   * @throws {ValidationError} For an invalid id.
   * @throws {NotConnectedError} When not connected.
   * @throws {ConnectionError} When the server does not answer within `timeoutMS`.
   * @throws {StorageError} With code `"IO"` when the server fails.
   */
  async getProgram(id: string): Promise<Program | null> {
    return await this.#get("program", id);
  }

  /**
   * Inserts an execution or replaces the one with the same id.
   *
   * @param execution The execution.
   * @throws {ValidationError} For an invalid execution, or one larger than 16 MiB as
   * BSON; nothing is written.
   * @throws {NotConnectedError} When not connected.
   * @throws {ConnectionError} When the server does not answer within `timeoutMS`.
   * @throws {StorageError} With code `"IO"` when the server fails.
   */
  async saveExecution(execution: Execution): Promise<void> {
    await this.#save("execution", execution);
  }

  /**
   * The execution with this id.
   *
   * @param id The execution's id.
   * @returns A fresh copy, or `null` if there is none.
   * @throws {CorruptRecordError} When the stored document cannot be read as this execution.
   * @throws {ValidationError} For an invalid id.
   * @throws {NotConnectedError} When not connected.
   * @throws {ConnectionError} When the server does not answer within `timeoutMS`.
   * @throws {StorageError} With code `"IO"` when the server fails.
   */
  async getExecution(id: string): Promise<Execution | null> {
    return await this.#get("execution", id);
  }

  /**
   * Appends a history entry. Saving an entry deep-equal to the stored one with the same
   * key does nothing, so a retry after a lost reply is safe.
   *
   * @param history The entry.
   * @throws {ConflictError} When a different entry with the same
   * `(executionId, step, timestamp)` exists; it is left untouched.
   * @throws {ValidationError} For an invalid entry, or one larger than 16 MiB as BSON;
   * nothing is written.
   * @throws {NotConnectedError} When not connected.
   * @throws {ConnectionError} When the server does not answer within `timeoutMS`.
   * @throws {StorageError} With code `"IO"` when the server fails.
   */
  async saveHistory(history: History): Promise<void> {
    const connection = this.#connected("save history");
    const { json, executionId, step } = checkRecord("history", history);
    const what = `Cannot save history of execution "${executionId}" at step ${step}`;
    const document = this.#document(connection, "history", json, what);
    await this.#run(
      connection,
      { what, write: true, retry: SAFE },
      (call) => connection.engine.insertHistory(call, document, json, this.#settings.dbName),
    );
  }

  /**
   * An execution's history, or the part `query` selects, read with the index on
   * `(executionId, step, timestamp)`.
   *
   * @param executionId The execution's id.
   * @param query The step range, cursor, limit and order.
   * @returns Fresh copies, ascending by step, then by timestamp (descending with
   * `reverse`); `[]` if there are none.
   * @throws {CorruptRecordError} When a stored entry cannot be read.
   * @throws {ValidationError} For an invalid id or query.
   * @throws {NotConnectedError} When not connected.
   * @throws {ConnectionError} When the server does not answer within `timeoutMS`.
   * @throws {StorageError} With code `"IO"` when the server fails.
   */
  async getHistory(executionId: string, query?: HistoryQuery): Promise<History[]> {
    const connection = this.#connected("get history");
    assertId(executionId, "Cannot get history", "executionId");
    const what = `Cannot get history of execution "${executionId}"`;
    const plan = checkHistoryQuery(query, what);
    return await this.#run(
      connection,
      { what, write: false, retry: "" },
      (call) => connection.engine.readHistory(call, executionId, plan, this.#settings.dbName),
    );
  }

  /**
   * Programs, ascending by id in code point order, paged by `query`.
   *
   * @param query The cursor and limit.
   * @returns Fresh copies.
   * @throws {CorruptRecordError} When a stored program cannot be read.
   * @throws {ValidationError} For an invalid query.
   * @throws {NotConnectedError} When not connected.
   * @throws {ConnectionError} When the server does not answer within `timeoutMS`.
   * @throws {StorageError} With code `"IO"` when the server fails.
   */
  async listPrograms(query?: ListQuery): Promise<Program[]> {
    const connection = this.#connected("list programs");
    const plan = checkListQuery(query, "Cannot list programs", false);
    return await this.#run(connection, { what: "Cannot list programs", write: false, retry: "" }, (
      call,
    ) => connection.engine.listRecords(call, "program", plan, this.#settings.dbName));
  }

  /**
   * Executions, ascending by id in code point order, filtered by `programId` and `state`
   * and paged by `query`, using the indexes.
   *
   * @param query The program and state to keep, the cursor and the limit.
   * @returns Fresh copies.
   * @throws {CorruptRecordError} When a stored execution cannot be read.
   * @throws {ValidationError} For an invalid query.
   * @throws {NotConnectedError} When not connected.
   * @throws {ConnectionError} When the server does not answer within `timeoutMS`.
   * @throws {StorageError} With code `"IO"` when the server fails.
   */
  async listExecutions(query?: ExecutionQuery): Promise<Execution[]> {
    const connection = this.#connected("list executions");
    const what = "Cannot list executions";
    const plan = checkListQuery(query, what, true);
    return await this.#run(
      connection,
      { what, write: false, retry: "" },
      (call) => connection.engine.listRecords(call, "execution", plan, this.#settings.dbName),
    );
  }

  /**
   * Deletes a program. Its executions are kept.
   *
   * @param id The program's id.
   * @returns `true` if it existed.
   * @throws {ValidationError} For an invalid id.
   * @throws {NotConnectedError} When not connected.
   * @throws {ConnectionError} When the server does not answer within `timeoutMS`.
   * @throws {StorageError} With code `"IO"` when the server fails.
   */
  async deleteProgram(id: string): Promise<boolean> {
    const connection = this.#connected("delete program");
    assertId(id, "Cannot delete program");
    const what = `Cannot delete program "${id}"`;
    return await this.#run(connection, {
      what,
      write: true,
      retry: "and deleting it again is safe",
    }, (
      call,
    ) => connection.engine.deleteRecord(call, "program", id));
  }

  /**
   * Deletes an execution's history and output, then the execution. Without transactions
   * these are separate writes: a call that fails between them leaves the execution, and
   * calling it again finishes the job. The current execution is left as it is.
   *
   * @param id The execution's id.
   * @returns `true` if the execution existed.
   * @throws {ValidationError} For an invalid id.
   * @throws {NotConnectedError} When not connected.
   * @throws {ConnectionError} When the server does not answer within `timeoutMS`.
   * @throws {StorageError} With code `"IO"` when the server fails.
   */
  async deleteExecution(id: string): Promise<boolean> {
    const connection = this.#connected("delete execution");
    assertId(id, "Cannot delete execution");
    const what = `Cannot delete execution "${id}"`;
    connection.outputEnds.delete(id);
    return await this.#run(
      connection,
      { what, write: true, retry: "and deleting it again is safe" },
      async (
        call,
      ) => {
        await call.step(() => connection.session.history.deleteMany({ executionId: id }));
        await connection.engine.deleteLines(call, id);
        return await connection.engine.deleteRecord(call, "execution", id);
      },
    );
  }

  /**
   * Appends lines to an execution's output as one document: all of them, or none.
   *
   * @param executionId The execution's id.
   * @param lines The lines, in order.
   * @throws {ValidationError} For an invalid id or lines, or lines larger than 16 MiB as
   * BSON; nothing is stored.
   * @throws {NotConnectedError} When not connected.
   * @throws {ConnectionError} When the server does not answer within `timeoutMS`; with
   * `maybeStored: true` the lines may be stored: read the output before appending again.
   * @throws {StorageError} With code `"IO"` when the server fails.
   */
  async appendOutput(executionId: string, lines: string[]): Promise<void> {
    const connection = this.#connected("append output");
    assertId(executionId, "Cannot append output", "executionId");
    const what = `Cannot append output of execution "${executionId}"`;
    const copy = checkOutputLines(lines, what);
    if (copy.length === 0) return;
    const failed = {
      what,
      write: true,
      retry: "so read the output (getOutput) before appending the lines again",
    };
    await this.#run(
      connection,
      failed,
      (call) =>
        connection.engine.appendLines(call, executionId, copy, connection.outputEnds, {
          what,
          dbName: this.#settings.dbName,
        }),
    );
  }

  /**
   * An execution's output lines, or the range `query` selects.
   *
   * @param executionId The execution's id.
   * @param query The first line's index and the number of lines.
   * @returns The lines in order; `[]` if there are none.
   * @throws {CorruptRecordError} When a stored output document cannot be read.
   * @throws {ValidationError} For an invalid id or query.
   * @throws {NotConnectedError} When not connected.
   * @throws {ConnectionError} When the server does not answer within `timeoutMS`.
   * @throws {StorageError} With code `"IO"` when the server fails.
   */
  async getOutput(executionId: string, query?: OutputQuery): Promise<string[]> {
    const connection = this.#connected("get output");
    assertId(executionId, "Cannot get output", "executionId");
    const what = `Cannot get output of execution "${executionId}"`;
    const plan = checkOutputQuery(query, what);
    return await this.#run(
      connection,
      { what, write: false, retry: "" },
      (call) => connection.engine.readLines(call, executionId, plan, this.#settings.dbName),
    );
  }

  /**
   * The current-execution id, from the `metadata` document `{ _id: "current" }`.
   *
   * @returns The id, or `null` when none is set.
   * @throws {CorruptRecordError} When the stored id is not a valid id.
   * @throws {NotConnectedError} When not connected.
   * @throws {ConnectionError} When the server does not answer within `timeoutMS`.
   * @throws {StorageError} With code `"IO"` when the server fails.
   */
  async getCurrentExecutionId(): Promise<string | null> {
    const connection = this.#connected("get the current execution");
    const what = "Cannot get the current execution";
    return await this.#run(
      connection,
      { what, write: false, retry: "" },
      (call) => connection.engine.readCurrent(call, this.#settings.dbName),
    );
  }

  /**
   * Sets the current-execution id; `null` clears it.
   *
   * @param id The id, which need not name a stored execution, or `null`.
   * @throws {ValidationError} For an id that is neither valid nor `null`.
   * @throws {NotConnectedError} When not connected.
   * @throws {ConnectionError} When the server does not answer within `timeoutMS`.
   * @throws {StorageError} With code `"IO"` when the server fails.
   */
  async setCurrentExecutionId(id: string | null): Promise<void> {
    const connection = this.#connected("set the current execution");
    const current = checkCurrentId(id);
    const what = "Cannot set the current execution";
    await this.#run(connection, { what, write: true, retry: "and setting it again is safe" }, (
      call,
    ) => connection.engine.writeCurrent(call, current));
  }

  static {
    // The command-line tool's bulk reads (src/_bulk.ts), under a symbol: internal, so not
    // a declared member of the public type.
    offerBulkReads(MongoDBAdapter, (adapter) => adapter.#bulkReader());
  }

  #bulkReader(): BulkReader {
    return {
      history: () =>
        this.#bulk(
          "read history in bulk",
          (call, { engine }) => engine.bulkHistory(call, this.#settings.dbName),
        ),
      outputs: (options: BulkOutputOptions = {}) =>
        this.#bulk(
          "read output in bulk",
          (call, { engine, outputEnds }) =>
            engine.bulkOutputs(call, this.#settings.dbName, {
              executionIds: options.executionIds,
              ends: outputEnds,
            }),
        ),
    };
  }

  /** Runs a bulk read, turning failures into storage errors. */
  async *#bulk<T extends BulkHistoryItem | BulkOutputItem>(
    action: string,
    read: (call: Call, connection: Connection) => AsyncGenerator<T>,
  ): AsyncGenerator<T> {
    const connection = this.#connected(action);
    try {
      yield* read(this.#call(connection), connection);
    } catch (error) {
      throw this.#failure(connection, { what: `Cannot ${action}`, write: false, retry: "" }, error);
    }
  }

  /** The open connection, or `NotConnectedError`. */
  #connected(action: string): Connection {
    if (this.#lifecycle.current === undefined) {
      throw new NotConnectedError(
        `Cannot ${action}: the MongoDBAdapter for "${this.#settings.display}" is not ` +
          "connected; call connect() first",
      );
    }
    return this.#lifecycle.current;
  }

  /** A record's document, checked against the size limit. */
  #document(
    connection: Connection,
    kind: RecordKind,
    json: Parameters<Engine["toDocument"]>[1],
    what: string,
  ): NativeDocument {
    const document = connection.engine.toDocument(kind, json, {
      server: connection.session.server,
    });
    connection.engine.checkSize(connection.session, document, what);
    return document;
  }

  async #save(kind: Kind, record: unknown): Promise<void> {
    const connection = this.#connected(`save ${kind}`);
    const { json, id } = checkRecord(kind, record);
    const what = `Cannot save ${kind} "${id}"`;
    const document = this.#document(connection, kind, json, what);
    await this.#run(
      connection,
      { what, write: true, retry: SAFE },
      (call) => connection.engine.saveRecord(call, kind, id, document),
    );
  }

  async #get<K extends Kind>(kind: K, id: string) {
    const connection = this.#connected(`get ${kind}`);
    assertId(id, `Cannot get ${kind}`);
    const what = `Cannot get ${kind} "${id}"`;
    const document = await this.#run(
      connection,
      { what, write: false, retry: "" },
      (call) => connection.engine.findRecord(call, kind, id),
    );
    return document === null
      ? null
      : connection.engine.decodeDocument(kind, document, `${kind} "${id}"`, this.#settings.dbName);
  }

  /** Runs a call's exchanges with the server, turning failures into storage errors. */
  async #run<T>(
    connection: Connection,
    failed: Failed,
    work: (call: Call) => Promise<T>,
  ): Promise<T> {
    try {
      return await work(this.#call(connection));
    } catch (error) {
      throw this.#failure(connection, failed, error);
    }
  }

  /** A call's exchanges with the server, each bounded by `timeoutMS`. */
  #call({ session, engine }: Connection): Call {
    const timeoutMS = this.#settings.timeoutMS;
    return {
      session,
      timeoutMS,
      step: (exchange) => engine.bounded(timeoutMS, exchange, session.pending),
    };
  }

  /** The storage error for a failed call. */
  #failure(connection: Connection, failed: Failed, error: unknown): StorageError {
    return connection.engine.mapFailure(error, failed, {
      display: this.#settings.display,
      connected: this.#lifecycle.current === connection,
      redact: this.#settings.redact,
    });
  }
}
