/**
 * The MongoDB backend, on the official `mongodb` driver, loaded only by `connect()`.
 *
 * @module
 */

import type * as Driver from "mongodb";
import type { Collection, MongoClient } from "mongodb";
import type { JsonObject } from "../codec.ts";
import {
  ConfigError,
  ConflictError,
  ConnectionError,
  CorruptRecordError,
  NotConnectedError,
  StorageError,
  ValidationError,
} from "../errors.ts";
import { assertId } from "../ids.ts";
import { checkRecord, decodeRecord, type RecordTypes } from "../records.ts";
import {
  checkHistoryQuery,
  checkListQuery,
  compareCodePoints,
  compareHistoryKeys,
  selectHistory,
  selectPage,
} from "../query.ts";
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
import { Redactor } from "./_redact.ts";
import { optionSecrets, parseUri } from "./_uri.ts";

/**
 * Options for {@linkcode MongoDBAdapter}.
 *
 * @example
 * ```ts
 * import { MongoDBAdapter, type MongoDBOptions } from "@cvm/storage";
 *
 * const options: MongoDBOptions = {
 *   uri: "mongodb://127.0.0.1:27017/cvm",
 *   serverSelectionTimeoutMS: 2000,
 * };
 * const storage = new MongoDBAdapter(options);
 * ```
 */
export interface MongoDBOptions {
  /** A `mongodb://` or `mongodb+srv://` connection string. */
  uri: string;
  /** The database; else the URI's path; else `"cvm"`. */
  dbName?: string;
  /**
   * How long `connect()` and each call wait for a server, in milliseconds. Default 5000
   * (unless `clientOptions` or the URI's `serverSelectionTimeoutMS` option set it).
   */
  serverSelectionTimeoutMS?: number;
  /**
   * Passed to the driver's `MongoClient` as they are; `serverSelectionTimeoutMS` above
   * takes precedence over theirs.
   */
  clientOptions?: Record<string, unknown>;
}

/** The documents stored in each collection. */
interface ProgramDocument {
  id: string;
  doc: string;
}
interface ExecutionDocument {
  id: string;
  programId: string;
  doc: string;
}
interface HistoryDocument {
  executionId: string;
  step: number;
  timestamp: Date;
  doc: string;
}

/** What `connect()` opened. */
interface Session {
  client: MongoClient;
  programs: Collection<ProgramDocument>;
  executions: Collection<ExecutionDocument>;
  history: Collection<HistoryDocument>;
}

type Kind = "program" | "execution";

const DEFAULT_DB = "cvm";
const DEFAULT_TIMEOUT_MS = 5000;
const COLLECTIONS = { program: "programs", execution: "executions", history: "history" } as const;
/** MongoDB's largest document (16 MiB), less room for `_id` and the other fields. */
const MAX_DOC_BYTES = 16 * 1024 * 1024 - 1024;
/** MongoDB's duplicate-key error code. */
const DUPLICATE_KEY = 11000;
/** Concurrent upserts of a new id can both try to insert; the loser retries this often. */
const UPSERT_ATTEMPTS = 3;
/** Characters MongoDB does not allow in database names. */
const BAD_DB_CHARS = /[/\\. "$*<>:|?\0]/;

/**
 * Stores records in the MongoDB database named by `dbName`, the URI's path, or `cvm`, in
 * the collections `programs`, `executions` and `history`. `connect()` loads the `mongodb`
 * driver (with a dynamic `import()`, so that programs using other backends never load it)
 * and creates the indexes.
 *
 * Each record is stored as the exact JSON text of its encoded form (the same JSON the file
 * backend writes: `Date`s as `{"$date": "<ISO 8601>"}`), in a string field `doc`, beside
 * copies of the fields that are queried and indexed:
 *
 * - `programs`: `{ id, doc }`, unique index on `id`;
 * - `executions`: `{ id, programId, doc }`, unique index on `id`, index on `programId`;
 * - `history`: `{ executionId, step, timestamp, doc }` with `timestamp` a BSON date, unique
 *   index on `{ executionId: 1, step: 1, timestamp: 1 }`.
 *
 * Keeping the record as text is what makes the round trip exact: MongoDB field names
 * cannot hold every string a record's keys may be (`"$x"`, `"a.b"`, NUL), nor nest
 * without limit. A document whose `doc` is larger than MongoDB's 16 MiB limit is rejected
 * with a `ValidationError` before anything is sent. Lists are sorted by the adapter, in
 * JavaScript string order, since the server sorts strings by their UTF-8 bytes.
 *
 * Connection strings are never shown with their credentials: messages show
 * `mongodb://user:***@host/db`, and driver errors attached as a `cause` are scrubbed
 * copies.
 *
 * Under Deno, `connect()` and every call need `--allow-net` (for the server) and
 * `--allow-env` (the driver reads the environment).
 *
 * @example Connect, save and read
 * ```ts ignore
 * import { MongoDBAdapter } from "@cvm/storage";
 *
 * const storage = new MongoDBAdapter("mongodb://127.0.0.1:27017/cvm");
 * await storage.connect();
 * await storage.saveProgram({
 *   id: "hello",
 *   name: "Hello",
 *   source: 'print("hi")',
 *   bytecode: [],
 *   created: new Date(),
 * });
 * console.log(await storage.listPrograms());
 * await storage.disconnect();
 * ```
 *
 * @example Nothing is loaded or opened before `connect()`
 * ```ts
 * import { MongoDBAdapter, NotConnectedError } from "@cvm/storage";
 *
 * const storage = new MongoDBAdapter({
 *   uri: "mongodb://alice:secret@db.example.com/app",
 *   serverSelectionTimeoutMS: 2000,
 * });
 * console.log(storage.isConnected()); // false
 * await storage.getProgram("p1").catch((error) => {
 *   console.log(error instanceof NotConnectedError); // true
 *   console.log(error.message.includes("secret")); // false
 * });
 * ```
 */
export class MongoDBAdapter implements StorageAdapter {
  readonly #uri: string;
  readonly #dbName: string;
  /** `undefined` when the URI or `clientOptions` set it. */
  readonly #timeout: number | undefined;
  readonly #clientOptions: Record<string, unknown>;
  /** The URI as messages show it. */
  readonly #display: string;
  readonly #redact: Redactor;
  #session: Session | undefined;
  /** The last `connect()` or `disconnect()` still running; later ones wait for it. */
  #transition: { kind: "connect" | "disconnect"; done: Promise<void> } | undefined;

  /**
   * Creates an unconnected adapter. Nothing is loaded or opened until `connect()`.
   *
   * @param uri A connection string, or options.
   * @throws {ConfigError} When the URI is not a `mongodb://` or `mongodb+srv://` URI, or
   * the database name or another option is not valid.
   */
  constructor(uri: string | MongoDBOptions) {
    const options = typeof uri === "string" ? { uri } : uri;
    if (typeof options?.uri !== "string" || !/^mongodb(\+srv)?:\/\/./.test(options.uri)) {
      throw new ConfigError(
        'The MongoDB URI must start with "mongodb://" or "mongodb+srv://"; set MONGODB_URI ' +
          "or mongoUri to a MongoDB connection string",
      );
    }
    const parsed = parseUri(options.uri);
    if (parsed.ambiguous) {
      throw new ConfigError(
        'The MongoDB URI has an "@" after its host list, so its credentials cannot be told ' +
          'apart from the rest; percent-encode "@", ":", "/" and "?" in the user name, ' +
          'password and options (for example "@" as "%40")',
      );
    }
    const { clientOptions = {}, serverSelectionTimeoutMS } = options;
    if (clientOptions === null || typeof clientOptions !== "object") {
      throw new ConfigError(
        "The MongoDB clientOptions must be an object of MongoClient options, or left out",
      );
    }
    if (
      serverSelectionTimeoutMS !== undefined &&
      (typeof serverSelectionTimeoutMS !== "number" || !(serverSelectionTimeoutMS > 0) ||
        !Number.isFinite(serverSelectionTimeoutMS))
    ) {
      throw new ConfigError(
        `The MongoDB serverSelectionTimeoutMS must be a positive number of milliseconds, not ` +
          `${String(serverSelectionTimeoutMS)}; leave it out for ${DEFAULT_TIMEOUT_MS}`,
      );
    }
    const dbName = options.dbName ?? parsed.dbName ?? DEFAULT_DB;
    checkDbName(dbName, options.dbName !== undefined ? "dbName" : "the URI's path");

    this.#uri = options.uri;
    this.#dbName = dbName;
    this.#clientOptions = { ...clientOptions };
    this.#timeout = serverSelectionTimeoutMS ??
      (clientOptions.serverSelectionTimeoutMS !== undefined || parsed.hasSelectionTimeout
        ? undefined
        : DEFAULT_TIMEOUT_MS);
    this.#display = parsed.display;
    this.#redact = new Redactor(options.uri, parsed.display, [
      ...parsed.secrets,
      ...optionSecrets(clientOptions),
    ]);
  }

  /**
   * Loads the driver, connects, and creates the indexes. Calling it again while connected
   * does nothing; concurrent calls share one attempt. On failure the client is closed.
   *
   * Under Deno it needs `--allow-net` and `--allow-env`.
   *
   * @throws {ConnectionError} When the driver cannot be loaded (the message says how to
   * add it), no server answers within `serverSelectionTimeoutMS`, authentication fails, or
   * the indexes cannot be created.
   */
  connect(): Promise<void> {
    const pending = this.#transition;
    if (pending?.kind === "connect") return pending.done;
    if (pending === undefined && this.#session !== undefined) return Promise.resolve();
    return this.#enqueue("connect", () => this.#open());
  }

  /**
   * Closes the client, and with it every socket and timer the driver holds. Calling it
   * again does nothing; a `connect()` still running finishes first. Calls running meanwhile
   * reject with `NotConnectedError`.
   */
  disconnect(): Promise<void> {
    const pending = this.#transition;
    if (pending?.kind === "disconnect") return pending.done;
    if (pending === undefined && this.#session === undefined) return Promise.resolve();
    return this.#enqueue("disconnect", () => this.#close());
  }

  /**
   * Whether the adapter is connected.
   *
   * @returns `true` between `connect()` and `disconnect()`.
   */
  isConnected(): boolean {
    return this.#session !== undefined;
  }

  /**
   * Inserts a program or replaces the one with the same id (an upsert on `id`).
   *
   * @param program The program.
   * @throws {ValidationError} For an invalid program, or one larger than 16 MiB as JSON;
   * nothing is written.
   * @throws {NotConnectedError} When not connected.
   * @throws {StorageError} With code `"IO"` when the server fails.
   */
  async saveProgram(program: Program): Promise<void> {
    const session = this.#connected("save program");
    const { json, id } = checkRecord("program", program);
    const what = `Cannot save program "${id}"`;
    const document: ProgramDocument = { id, doc: toText(json, what) };
    await this.#io(what, session, () => upsert(session.programs, document));
  }

  /**
   * The program with this id.
   *
   * @param id The program's id.
   * @returns A fresh copy, or `null` if there is none.
   * @throws {CorruptRecordError} When the stored document cannot be read as this program.
   * @throws {ValidationError} For an invalid id.
   * @throws {NotConnectedError} When not connected.
   * @throws {StorageError} With code `"IO"` when the server fails.
   */
  async getProgram(id: string): Promise<Program | null> {
    return await this.#get("program", id);
  }

  /**
   * Inserts an execution or replaces the one with the same id (an upsert on `id`).
   *
   * @param execution The execution.
   * @throws {ValidationError} For an invalid execution, or one larger than 16 MiB as JSON;
   * nothing is written.
   * @throws {NotConnectedError} When not connected.
   * @throws {StorageError} With code `"IO"` when the server fails.
   */
  async saveExecution(execution: Execution): Promise<void> {
    const session = this.#connected("save execution");
    const { json, id, programId } = checkRecord("execution", execution);
    const what = `Cannot save execution "${id}"`;
    const document: ExecutionDocument = { id, programId, doc: toText(json, what) };
    await this.#io(what, session, () => upsert(session.executions, document));
  }

  /**
   * The execution with this id.
   *
   * @param id The execution's id.
   * @returns A fresh copy, or `null` if there is none.
   * @throws {CorruptRecordError} When the stored document cannot be read as this execution.
   * @throws {ValidationError} For an invalid id.
   * @throws {NotConnectedError} When not connected.
   * @throws {StorageError} With code `"IO"` when the server fails.
   */
  async getExecution(id: string): Promise<Execution | null> {
    return await this.#get("execution", id);
  }

  /**
   * Appends a history entry (an insert; the unique index on
   * `(executionId, step, timestamp)` refuses a second entry with the same key).
   *
   * @param history The entry.
   * @throws {ConflictError} When an entry with the same `(executionId, step, timestamp)`
   * exists; it is left untouched.
   * @throws {ValidationError} For an invalid entry, or one larger than 16 MiB as JSON;
   * nothing is written.
   * @throws {NotConnectedError} When not connected.
   * @throws {StorageError} With code `"IO"` when the server fails.
   */
  async saveHistory(history: History): Promise<void> {
    const session = this.#connected("save history");
    const { json, executionId, step, time } = checkRecord("history", history);
    const timestamp = new Date(time);
    const what = `Cannot save history of execution "${executionId}" at step ${step}`;
    const document: HistoryDocument = { executionId, step, timestamp, doc: toText(json, what) };
    try {
      // The driver adds `_id` to the object it inserts: `document` is ours alone.
      await session.history.insertOne(document);
    } catch (error) {
      if (!isDuplicateKey(error)) throw this.#failure(what, session, error);
      throw new ConflictError(
        `${what}: an entry with timestamp ${timestamp.toISOString()} already exists; ` +
          "history is append-only, so use a new timestamp or step",
        { cause: this.#redact.error(error) },
      );
    }
  }

  /**
   * An execution's history, ascending by step, then by timestamp.
   *
   * @param executionId The execution's id.
   * @returns Fresh copies; `[]` if there are none.
   * @throws {CorruptRecordError} When a stored entry cannot be read.
   * @throws {ValidationError} For an invalid id.
   * @throws {NotConnectedError} When not connected.
   * @throws {StorageError} With code `"IO"` when the server fails.
   */
  async getHistory(executionId: string, query?: HistoryQuery): Promise<History[]> {
    const session = this.#connected("get history");
    assertId(executionId, "Cannot get history", "executionId");
    const plan = checkHistoryQuery(query, `Cannot get history of execution "${executionId}"`);
    const what = `history of execution "${executionId}"`;
    const documents = await this.#io(
      `Cannot get ${what}`,
      session,
      () => session.history.find({ executionId }, { projection: { _id: 0 } }).toArray(),
    );
    const sorted = documents.map((document) => this.#decodeHistory(document, what)).sort((a, b) =>
      compareHistoryKeys(a.step, a.timestamp.getTime(), b.step, b.timestamp.getTime())
    );
    return selectHistory(sorted, plan, (e) => ({ step: e.step, time: e.timestamp.getTime() }));
  }

  /**
   * All programs, ascending by id (JavaScript string order).
   *
   * @returns Fresh copies.
   * @throws {CorruptRecordError} When a stored program cannot be read.
   * @throws {NotConnectedError} When not connected.
   * @throws {StorageError} With code `"IO"` when the server fails.
   */
  async listPrograms(query?: ListQuery): Promise<Program[]> {
    const session = this.#connected("list programs");
    const plan = checkListQuery(query, "Cannot list programs", false);
    const documents = await this.#io(
      "Cannot list programs",
      session,
      () => session.programs.find({}, { projection: { _id: 0 } }).toArray(),
    );
    const sorted = documents.map((document) => this.#decode("program", document, "programs"))
      .sort((a, b) => compareCodePoints(a.id, b.id));
    return selectPage(sorted, plan, (p) => p.id);
  }

  /**
   * All executions, or those of one program, ascending by id (JavaScript string order).
   *
   * @param filter Narrows the list to one program's executions.
   * @returns Fresh copies.
   * @throws {CorruptRecordError} When a stored execution cannot be read.
   * @throws {ValidationError} For an invalid `filter.programId`.
   * @throws {NotConnectedError} When not connected.
   * @throws {StorageError} With code `"IO"` when the server fails.
   */
  async listExecutions(query?: ExecutionQuery): Promise<Execution[]> {
    const session = this.#connected("list executions");
    const plan = checkListQuery(query, "Cannot list executions", true);
    const { programId, state } = plan;
    const documents = await this.#io(
      "Cannot list executions",
      session,
      () =>
        session.executions.find(programId === undefined ? {} : { programId }, {
          projection: { _id: 0 },
        }).toArray(),
    );
    const sorted = documents.map((document) => this.#decode("execution", document, "executions"))
      .filter((e) => state === undefined || e.state === state)
      .sort((a, b) => compareCodePoints(a.id, b.id));
    return selectPage(sorted, plan, (e) => e.id);
  }

  /**
   * Deletes a program. Its executions are kept.
   *
   * @param id The program's id.
   * @returns `true` if it existed.
   * @throws {ValidationError} For an invalid id.
   * @throws {NotConnectedError} When not connected.
   * @throws {StorageError} With code `"IO"` when the server fails.
   */
  async deleteProgram(id: string): Promise<boolean> {
    const session = this.#connected("delete program");
    assertId(id, "Cannot delete program");
    const result = await this.#io(
      `Cannot delete program "${id}"`,
      session,
      () => session.programs.deleteOne({ id }),
    );
    return result.deletedCount > 0;
  }

  /**
   * Deletes an execution, then its history. Without a transaction the two are separate
   * writes: a call that fails between them leaves history that a repeated call removes.
   *
   * @param id The execution's id.
   * @returns `true` if the execution existed.
   * @throws {ValidationError} For an invalid id.
   * @throws {NotConnectedError} When not connected.
   * @throws {StorageError} With code `"IO"` when the server fails.
   */
  async deleteExecution(id: string): Promise<boolean> {
    const session = this.#connected("delete execution");
    assertId(id, "Cannot delete execution");
    const result = await this.#io(
      `Cannot delete execution "${id}"`,
      session,
      () => session.executions.deleteOne({ id }),
    );
    await this.#io(
      `Cannot delete the history of execution "${id}"`,
      session,
      () => session.history.deleteMany({ executionId: id }),
    );
    return result.deletedCount > 0;
  }

  /** Disconnects; for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.disconnect();
  }

  /** Not yet built for the MongoDB backend. */
  appendOutput(_executionId: string, _lines: string[]): Promise<void> {
    return Promise.reject(new StorageError("appendOutput is not built yet"));
  }

  /** Not yet built for the MongoDB backend. */
  getOutput(_executionId: string, _query?: OutputQuery): Promise<string[]> {
    return Promise.reject(new StorageError("getOutput is not built yet"));
  }

  /** Not yet built for the MongoDB backend. */
  getCurrentExecutionId(): Promise<string | null> {
    return Promise.reject(new StorageError("getCurrentExecutionId is not built yet"));
  }

  /** Not yet built for the MongoDB backend. */
  setCurrentExecutionId(_id: string | null): Promise<void> {
    return Promise.reject(new StorageError("setCurrentExecutionId is not built yet"));
  }

  /** Runs `work` after every earlier `connect()` and `disconnect()` has settled. */
  #enqueue(kind: "connect" | "disconnect", work: () => Promise<void>): Promise<void> {
    const previous = this.#transition?.done.catch(() => {}) ?? Promise.resolve();
    const done = previous.then(work);
    const transition = { kind, done };
    this.#transition = transition;
    const settle = () => {
      if (this.#transition === transition) this.#transition = undefined;
    };
    done.then(settle, settle);
    return done;
  }

  async #open(): Promise<void> {
    if (this.#session !== undefined) return;
    const driver = await this.#loadDriver();
    const options = this.#timeout === undefined
      ? this.#clientOptions
      : { ...this.#clientOptions, serverSelectionTimeoutMS: this.#timeout };
    let client: MongoClient;
    try {
      client = new driver.MongoClient(this.#uri, options);
    } catch (error) {
      throw new ConnectionError(
        `Cannot connect to MongoDB at "${this.#display}": ${this.#redact.describe(error)}; ` +
          (isNotCapable(error)
            ? "under Deno, grant --allow-env and --allow-net"
            : "fix the connection string or clientOptions"),
        { cause: this.#redact.error(error) },
      );
    }
    try {
      await client.connect();
    } catch (error) {
      await client.close().catch(() => {});
      throw this.#connectError(error);
    }
    try {
      const db = client.db(this.#dbName);
      const session: Session = {
        client,
        programs: db.collection<ProgramDocument>(COLLECTIONS.program),
        executions: db.collection<ExecutionDocument>(COLLECTIONS.execution),
        history: db.collection<HistoryDocument>(COLLECTIONS.history),
      };
      await session.programs.createIndex({ id: 1 }, { unique: true });
      await session.executions.createIndex({ id: 1 }, { unique: true });
      await session.executions.createIndex({ programId: 1 });
      await session.history.createIndex({ executionId: 1, step: 1, timestamp: 1 }, {
        unique: true,
      });
      this.#session = session;
    } catch (error) {
      await client.close().catch(() => {});
      throw new ConnectionError(
        `Cannot prepare database "${this.#dbName}" at "${this.#display}": creating its ` +
          `indexes failed (${this.#redact.describe(error)}); make sure the user may create ` +
          'indexes and that no two documents in "programs" or "executions" share an id',
        { cause: this.#redact.error(error) },
      );
    }
  }

  async #loadDriver(): Promise<typeof Driver> {
    try {
      return await import("mongodb");
    } catch (error) {
      throw new ConnectionError(
        `Cannot load the MongoDB driver, the "mongodb" package ` +
          `(${this.#redact.describe(error)}); add it to your project with ` +
          '"deno add npm:mongodb" (Deno), "npm install mongodb" (Node.js) or ' +
          '"bun add mongodb" (Bun), then connect again',
        { cause: this.#redact.error(error) },
      );
    }
  }

  #connectError(error: unknown): ConnectionError {
    const where = `Cannot connect to MongoDB at "${this.#display}"`;
    const detail = this.#redact.describe(error);
    let next: string;
    if (isNotCapable(error)) {
      next = "under Deno, grant --allow-net and --allow-env";
    } else if (errorName(error) === "MongoServerSelectionError") {
      const within = this.#timeout === undefined ? "in time" : `within ${this.#timeout} ms`;
      next = `no server answered ${within}; check that the server is running and reachable ` +
        "from here, or raise serverSelectionTimeoutMS";
    } else if (errorCode(error) === 18 || /auth/i.test(errorName(error))) {
      next = "check the user name, password and authSource in the connection string";
    } else {
      next = "check the connection string and that the server is running";
    }
    return new ConnectionError(`${where}: ${detail}; ${next}`, {
      cause: this.#redact.error(error),
    });
  }

  async #close(): Promise<void> {
    const session = this.#session;
    if (session === undefined) return;
    this.#session = undefined;
    // The client is unusable either way; a failure to close cleanly is nothing to act on.
    await session.client.close().catch(() => {});
  }

  /** The open session, or `NotConnectedError`. */
  #connected(action: string): Session {
    if (this.#session === undefined) {
      throw new NotConnectedError(
        `Cannot ${action}: the MongoDBAdapter for "${this.#display}" is not connected; ` +
          "call connect() first",
      );
    }
    return this.#session;
  }

  async #get<K extends Kind>(kind: K, id: string): Promise<RecordTypes[K] | null> {
    const session = this.#connected(`get ${kind}`);
    assertId(id, `Cannot get ${kind}`);
    const collection = (kind === "program" ? session.programs : session.executions) as Collection<
      ProgramDocument | ExecutionDocument
    >;
    const document = await this.#io(
      `Cannot get ${kind} "${id}"`,
      session,
      () => collection.findOne({ id }, { projection: { _id: 0 } }),
    );
    return document === null ? null : this.#decode(kind, document, `${kind} "${id}"`);
  }

  /** Runs a driver call, turning its failures into storage errors. */
  async #io<T>(what: string, session: Session, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw this.#failure(what, session, error);
    }
  }

  #failure(what: string, session: Session, error: unknown): StorageError {
    if (error instanceof StorageError) return error;
    if (this.#session !== session) {
      return new NotConnectedError(
        `${what}: the MongoDBAdapter for "${this.#display}" was disconnected while the call ` +
          "was running; call connect() and try again",
      );
    }
    return new StorageError(
      `${what}: MongoDB at "${this.#display}" failed (${this.#redact.describe(error)}); ` +
        "check that the server is running and reachable, then try again",
      { code: "IO", cause: this.#redact.error(error) },
    );
  }

  #decode<K extends Kind>(
    kind: K,
    document: Partial<ProgramDocument & ExecutionDocument>,
    what: string,
  ): RecordTypes[K] {
    const record = decodeRecord(kind, this.#parse(kind, document, what), what);
    const mismatch = record.id !== document.id
      ? `holds ${kind} ${JSON.stringify(record.id)}`
      : kind === "execution" && (record as Execution).programId !== document.programId
      ? `holds programId ${JSON.stringify((record as Execution).programId)} but is indexed ` +
        `under ${JSON.stringify(document.programId)}`
      : undefined;
    if (mismatch !== undefined) this.#corrupt(kind, document, what, mismatch);
    return record;
  }

  #decodeHistory(document: Partial<HistoryDocument>, what: string): History {
    const record = decodeRecord("history", this.#parse("history", document, what), what);
    const indexed = document.timestamp;
    if (
      record.executionId !== document.executionId || record.step !== document.step ||
      !(indexed instanceof Date) || indexed.getTime() !== record.timestamp.getTime()
    ) {
      this.#corrupt(
        "history",
        document,
        what,
        `holds the entry of execution ${JSON.stringify(record.executionId)} at step ` +
          `${record.step}, ${record.timestamp.toISOString()}, but is indexed under another key`,
      );
    }
    return record;
  }

  /** The parsed JSON of a stored document's `doc` field. */
  #parse(kind: keyof RecordTypes, document: { doc?: unknown }, what: string): unknown {
    if (typeof document.doc !== "string") {
      this.#corrupt(kind, document, what, 'has no "doc" string');
    }
    try {
      return JSON.parse(document.doc);
    } catch (error) {
      this.#corrupt(kind, document, what, `has a "doc" that is not valid JSON (${error})`);
    }
  }

  #corrupt(
    kind: keyof RecordTypes,
    document: Record<string, unknown>,
    what: string,
    problem: string,
  ): never {
    const collection = `${this.#dbName}.${COLLECTIONS[kind]}`;
    const key = kind === "history"
      ? `{ executionId: ${JSON.stringify(document.executionId)}, step: ${String(document.step)} }`
      : `{ id: ${JSON.stringify(document.id)} }`;
    throw new CorruptRecordError(
      `Cannot read ${what}: the document ${key} in collection "${collection}" ${problem}; ` +
        "restore it from a backup or delete it",
      { path: collection },
    );
  }
}

/** Replaces the document with the same `id`, or inserts it. */
async function upsert<T extends { id: string }>(
  collection: Collection<T>,
  document: T,
): Promise<void> {
  for (let attempt = 1;; attempt++) {
    try {
      // A fresh copy each time: the driver may add `_id` to what it inserts.
      await collection.replaceOne({ id: document.id } as Driver.Filter<T>, { ...document }, {
        upsert: true,
      });
      return;
    } catch (error) {
      // Two upserts of a new id at once: the loser finds the winner's document next time.
      if (!isDuplicateKey(error) || attempt >= UPSERT_ATTEMPTS) throw error;
    }
  }
}

/** The record's JSON text, checked against MongoDB's document size limit. */
function toText(json: JsonObject, what: string): string {
  const text = JSON.stringify(json);
  // Only long texts can be too large: a UTF-16 code unit is at most 3 UTF-8 bytes.
  if (text.length * 3 > MAX_DOC_BYTES) {
    const bytes = utf8Length(text);
    if (bytes > MAX_DOC_BYTES) {
      throw new ValidationError(
        `${what}: it is ${bytes} bytes as JSON, more than the ${MAX_DOC_BYTES} MongoDB can ` +
          "store in one document; keep large data elsewhere and store a reference to it",
      );
    }
  }
  return text;
}

function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

function checkDbName(name: unknown, source: string): void {
  const problem = typeof name !== "string"
    ? "is not a string"
    : name === ""
    ? "is empty"
    : utf8Length(name) > 63
    ? "is longer than 63 bytes"
    : BAD_DB_CHARS.test(name)
    ? 'contains one of / \\ . space " $ * < > : | ? or NUL'
    : undefined;
  if (problem !== undefined) {
    throw new ConfigError(
      `The MongoDB database name from ${source} ${problem}; choose a name of 1 to 63 bytes ` +
        `without / \\ . space " $ * < > : | ? or NUL, or leave it out for "${DEFAULT_DB}"`,
    );
  }
}

function isDuplicateKey(error: unknown): boolean {
  return errorCode(error) === DUPLICATE_KEY;
}

function errorCode(error: unknown): unknown {
  return error !== null && typeof error === "object"
    ? (error as { code?: unknown }).code
    : undefined;
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : "";
}

/** Whether Deno refused a permission anywhere in the error's cause chain. */
function isNotCapable(error: unknown): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e.name === "NotCapable" || e.name === "PermissionDenied") return true;
  }
  return false;
}
