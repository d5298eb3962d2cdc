/**
 * The file backend: one pretty-printed JSON file per record under a data directory.
 *
 * @module
 */

import { Lifecycle } from "../_lifecycle.ts";
import { join, resolve } from "../_path.ts";
import { findHomeDir, isHomeRelative, readEnv, underHome } from "../_env.ts";
import { ConfigError, CorruptRecordError, NotConnectedError, StorageError } from "../errors.ts";
import { assertId, checkCurrentId, idToFileStem } from "../ids.ts";
import { checkOutputLines, checkRecord, historyConflict, type RecordTypes } from "../records.ts";
import { checkHistoryQuery, checkListQuery, checkOutputQuery, type ListPlan } from "../query.ts";
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
import { lazyModules } from "../_lazy.ts";
import type * as EngineModule from "./_engine.ts";
import type { HistoryListing } from "./_history_files.ts";
import type { RecordListing } from "./_list_files.ts";
import type { ListingCache } from "./_listing_cache.ts";
import type { OutputLogs } from "./_output.ts";

/**
 * Options for {@linkcode FileStorageAdapter}.
 *
 * @example
 * ```ts
 * import { FileStorageAdapter, type FileStorageOptions } from "@cvm/storage";
 *
 * const options: FileStorageOptions = { dataDir: await Deno.makeTempDir(), fsync: true };
 * const storage = new FileStorageAdapter(options);
 * ```
 */
export interface FileStorageOptions {
  /** The data directory; relative paths are resolved against the working directory. */
  dataDir: string;
  /**
   * Whether to fsync each file and its directory before a write returns, so that an
   * acknowledged write survives power loss. Default `true`. With `false`, writes are
   * still atomic (a crash never tears a record) but the newest ones may be lost.
   */
  fsync?: boolean;
}

type Kind = "program" | "execution";

/** The modules a connection runs, loaded by the first `connect()`. */
type Engine = typeof EngineModule;
const loadEngine = lazyModules(() => import("./_engine.ts"), "file");

/** An open connection: the engine, and what lives as long as the connection. */
interface Connection {
  engine: Engine;
  outputs: OutputLogs;
  /** Planned listings of unchanged directories, for paging (see `_listing_cache.ts`). */
  historyListings: ListingCache<HistoryListing>;
  recordListings: ListingCache<RecordListing>;
  /** Directories checked (a directory, not a link) whose entry in their parent is durable. */
  durableDirs: Set<string>;
  /** The checks of `durableDirs` under way, shared by concurrent first writers. */
  ensuring: Map<string, Promise<void>>;
}

/**
 * Stores each record as a human-readable JSON file:
 * `programs/{id}.json`, `executions/{id}.json` and
 * `history/{executionId}/{timestamp}-{step}.json`, each execution's output in
 * `outputs/{executionId}.out` and the current execution in `metadata.json`. Every write is
 * atomic and durable. Queries are answered from file names: only the records they select
 * are read.
 *
 * Under Deno it needs `--allow-read` and `--allow-write` for the data directory.
 *
 * @example
 * ```ts
 * import { FileStorageAdapter } from "@cvm/storage";
 *
 * const storage = new FileStorageAdapter(await Deno.makeTempDir());
 * await storage.connect();
 * await storage.saveProgram({
 *   id: "hello",
 *   name: "Hello",
 *   source: 'print("hi")',
 *   bytecode: [],
 *   created: new Date(),
 * });
 * console.log(storage.dataDir); // the absolute path; the program is in programs/hello.json
 * await storage.disconnect();
 * ```
 */
export class FileStorageAdapter implements StorageAdapter {
  /** The absolute path of the data directory. */
  readonly dataDir: string;
  readonly #fsync: boolean;
  /** The connection between `connect()` and `disconnect()`; orders the two. */
  readonly #lifecycle = new Lifecycle<Connection>();

  /**
   * Creates an unconnected adapter. Nothing is touched until `connect()`.
   *
   * A leading `~` (`~`, `~/x`) is the home directory, as in `createStorage`: `HOME`, else
   * `USERPROFILE`, else the system's answer (under Deno that needs `--allow-env` or
   * `--allow-sys`).
   *
   * @param dataDir The data directory, or options.
   * @throws {ConfigError} When the data directory is not a non-empty string, contains a
   * NUL character, or starts with `~` and the home directory is unknown; when `fsync` is
   * not a boolean.
   */
  constructor(dataDir: string | FileStorageOptions) {
    const options = typeof dataDir === "string" ? { dataDir } : dataDir;
    if (typeof options?.dataDir !== "string" || options.dataDir === "") {
      throw new ConfigError(
        "FileStorageAdapter needs a data directory: pass a non-empty path as dataDir",
      );
    }
    let dir = options.dataDir;
    if (dir.includes("\0")) {
      throw new ConfigError(
        "The data directory passed to FileStorageAdapter contains a NUL character, which no " +
          "file system allows in a path; pass a directory path without one",
      );
    }
    if (options.fsync !== undefined && typeof options.fsync !== "boolean") {
      throw new ConfigError(
        `FileStorageAdapter's fsync option must be true or false, not ${String(options.fsync)}`,
      );
    }
    if (isHomeRelative(dir)) {
      const home = findHomeDir(readEnv, true);
      if (home === undefined) {
        throw new ConfigError(
          `Cannot find the home directory for data directory "${dir}": pass a full path, ` +
            "or under Deno grant --allow-env",
        );
      }
      dir = underHome(home, dir);
    }
    this.dataDir = resolve(dir);
    this.#fsync = options.fsync ?? true;
  }

  /**
   * Creates the data directory and its subdirectories (mode `0700`) if needed, checks
   * that this user owns them and no one else may write in them, and removes temp files
   * left by writers that are proven gone. Calling it again while connected does nothing;
   * concurrent calls share one attempt; a `disconnect()` called meanwhile wins.
   *
   * @throws {ConnectionError} When the data directory cannot be created, is not a
   * directory, belongs to another user or is writable by group or others, or when a record
   * directory in it is a symbolic link; the message says how to fix it.
   */
  connect(): Promise<void> {
    return this.#lifecycle.open(async () => {
      const engine = await loadEngine();
      const durableDirs = new Set(await engine.openDataDir(this.dataDir, this.#fsync));
      return {
        engine,
        outputs: new engine.OutputLogs(join(this.dataDir, engine.OUTPUT_DIR), this.#fsync),
        historyListings: new engine.ListingCache<HistoryListing>(4, engine.historyIndex),
        recordListings: new engine.ListingCache<RecordListing>(2),
        durableDirs,
        ensuring: new Map(),
      };
    });
  }

  /**
   * Disconnects: later calls reject with `NotConnectedError`. Calling it again does
   * nothing; a `connect()` still running finishes first, and the adapter ends disconnected.
   * Calls already running finish.
   */
  disconnect(): Promise<void> {
    return this.#lifecycle.close(() => Promise.resolve());
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
   * Writes `programs/{id}.json` atomically, replacing any program with the same id.
   *
   * @param program The program.
   * @throws {ValidationError} For an invalid program; nothing is written.
   * @throws {NotConnectedError} When not connected.
   * @throws {StorageError} With code `"IO"` when the file system fails.
   */
  async saveProgram(program: Program): Promise<void> {
    await this.#save("program", program);
  }

  /**
   * Reads `programs/{id}.json`.
   *
   * @param id The program's id.
   * @returns The program, or `null` if there is none.
   * @throws {CorruptRecordError} When the file cannot be read as this program.
   * @throws {ValidationError} For an invalid id.
   * @throws {NotConnectedError} When not connected.
   */
  async getProgram(id: string): Promise<Program | null> {
    return await this.#get("program", id);
  }

  /**
   * Writes `executions/{id}.json` atomically, replacing any execution with the same id.
   *
   * @param execution The execution.
   * @throws {ValidationError} For an invalid execution; nothing is written.
   * @throws {NotConnectedError} When not connected.
   * @throws {StorageError} With code `"IO"` when the file system fails.
   */
  async saveExecution(execution: Execution): Promise<void> {
    await this.#save("execution", execution);
  }

  /**
   * Reads `executions/{id}.json`.
   *
   * @param id The execution's id.
   * @returns The execution, or `null` if there is none.
   * @throws {CorruptRecordError} When the file cannot be read as this execution.
   * @throws {ValidationError} For an invalid id.
   * @throws {NotConnectedError} When not connected.
   */
  async getExecution(id: string): Promise<Execution | null> {
    return await this.#get("execution", id);
  }

  /**
   * Writes `history/{executionId}/{timestamp}-{step}.json`, never replacing an entry.
   * Saving an entry deep-equal to the stored one with the same key does nothing, so a retry
   * after a lost reply is safe.
   *
   * @param history The entry.
   * @throws {ConflictError} When a different entry with the same
   * `(executionId, step, timestamp)` exists; it is left untouched.
   * @throws {ValidationError} For an invalid entry; nothing is written.
   * @throws {NotConnectedError} When not connected.
   * @throws {StorageError} With code `"IO"` when the file system fails.
   */
  async saveHistory(history: History): Promise<void> {
    const connection = this.#connected("save history");
    const { engine } = connection;
    const { json, executionId, step, time } = checkRecord("history", history);
    const what = `history of execution "${executionId}" at step ${step}`;
    const text = engine.recordText(json, `Cannot save ${what}`);
    const root = join(this.dataDir, engine.DIRS.history);
    const dir = join(root, idToFileStem(executionId));
    const name = engine.historyFileName(step, time);
    const path = join(dir, name);
    await this.#io(connection, `Cannot save ${what}`, path, async () => {
      await this.#ensureDir(connection, dir, root);
      const stored = await engine.createEntry(dir, name, text, {
        fsync: this.#fsync,
        what,
        onMissingDir: () => this.#ensureDir(connection, dir, root, true),
      });
      if (stored === "different") throw historyConflict(executionId, step, time);
    });
  }

  /**
   * Reads an execution's history from `history/{executionId}/`: the query is answered from
   * the file names, and only the entries it selects are opened.
   *
   * @param executionId The execution's id.
   * @param query The step range, cursor, limit and order.
   * @returns The entries, ascending by step, then by timestamp (descending with
   * `reverse`); `[]` if there are none.
   * @throws {CorruptRecordError} When an entry cannot be read; the error names the file.
   * @throws {ValidationError} For an invalid id or query.
   * @throws {NotConnectedError} When not connected.
   */
  async getHistory(executionId: string, query?: HistoryQuery): Promise<History[]> {
    const connection = this.#connected("get history");
    const { engine } = connection;
    assertId(executionId, "Cannot get history", "executionId");
    const plan = checkHistoryQuery(query, `Cannot get history of execution "${executionId}"`);
    const dir = join(this.dataDir, engine.DIRS.history, idToFileStem(executionId));
    return await this.#io(
      connection,
      `Cannot read history of execution "${executionId}"`,
      dir,
      () => engine.readHistory(connection.historyListings, dir, executionId, plan),
    );
  }

  /**
   * Lists `programs/`, ascending by id in code point order. Only the page's files are
   * opened: ids are read from the file names.
   *
   * @param query The cursor and limit.
   * @returns The programs.
   * @throws {CorruptRecordError} When a file of the page cannot be read, or a record file's
   * name is no id's; the error names it.
   * @throws {ValidationError} For an invalid query.
   * @throws {NotConnectedError} When not connected.
   */
  async listPrograms(query?: ListQuery): Promise<Program[]> {
    const connection = this.#connected("list programs");
    const plan = checkListQuery(query, "Cannot list programs", false);
    return await this.#list(connection, "program", plan);
  }

  /**
   * Lists `executions/`, ascending by id in code point order, keeping those of one
   * program and one state if asked. Without a filter only the page's files are opened;
   * with one, files are opened in id order until the page is full (every file, when fewer
   * match than the limit).
   *
   * @param query The program and state to keep, the cursor and the limit.
   * @returns The executions.
   * @throws {CorruptRecordError} When a file it reads cannot be read, or a record file's
   * name is no id's; the error names it.
   * @throws {ValidationError} For an invalid query.
   * @throws {NotConnectedError} When not connected.
   */
  async listExecutions(query?: ExecutionQuery): Promise<Execution[]> {
    const connection = this.#connected("list executions");
    const plan = checkListQuery(query, "Cannot list executions", true);
    const keep = connection.engine.executionFilter(plan);
    return await this.#list(connection, "execution", plan, keep);
  }

  /**
   * Deletes `programs/{id}.json`. The program's executions are kept.
   *
   * @param id The program's id.
   * @returns `true` if it existed.
   * @throws {ValidationError} For an invalid id.
   * @throws {NotConnectedError} When not connected.
   * @throws {StorageError} With code `"IO"` when the file system fails.
   */
  async deleteProgram(id: string): Promise<boolean> {
    return await this.#delete(this.#connected("delete program"), "program", id);
  }

  /**
   * Deletes `executions/{id}.json`, the execution's history and its output log. The
   * history directory is first renamed out of sight, so readers see all of it or none. The
   * current-execution pointer is left as it is.
   *
   * @param id The execution's id.
   * @returns `true` if the execution existed.
   * @throws {ValidationError} For an invalid id.
   * @throws {NotConnectedError} When not connected.
   * @throws {StorageError} With code `"IO"` when the file system fails.
   */
  async deleteExecution(id: string): Promise<boolean> {
    const connection = this.#connected("delete execution");
    const { engine, outputs } = connection;
    const existed = await this.#delete(connection, "execution", id);
    const root = join(this.dataDir, engine.DIRS.history);
    const dir = join(root, idToFileStem(id));
    await this.#io(connection, `Cannot delete the history of execution "${id}"`, dir, async () => {
      await engine.removeHistoryIndex(dir);
      const doomed = join(root, engine.tempName("del"));
      try {
        await engine.fs.rename(dir, doomed);
      } catch (error) {
        if (engine.errorCode(error) === "ENOENT") return;
        throw error;
      }
      if (this.#fsync) await engine.syncDir(root);
      await engine.fs.rm(doomed, { recursive: true, force: true });
    });
    const context = `Cannot delete the output of execution "${id}"`;
    await this.#io(connection, context, outputs.path(id), () => outputs.remove(id, context));
    return existed;
  }

  /** Disconnects; for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.disconnect();
  }

  /**
   * Appends lines to `outputs/{executionId}.out` as one record: one `O_APPEND` write and
   * an `fdatasync`, so a call's lines are stored all or none, and concurrent appenders in
   * any number of processes never interleave. An empty `lines` does nothing.
   *
   * @param executionId The execution's id; it need not name a stored execution.
   * @param lines The lines, in order.
   * @throws {ValidationError} For an invalid id or lines, or lines over the record limit.
   * @throws {NotConnectedError} When not connected.
   * @throws {StorageError} With code `"IO"` when the file system fails; `maybeStored` says
   * whether the lines may have been stored anyway.
   */
  async appendOutput(executionId: string, lines: string[]): Promise<void> {
    const connection = this.#connected("append output");
    const { engine, outputs, durableDirs } = connection;
    assertId(executionId, "Cannot append output", "executionId");
    const context = `Cannot append output of execution "${executionId}"`;
    const copy = checkOutputLines(lines, context);
    if (copy.length === 0) return;
    const dir = join(this.dataDir, engine.OUTPUT_DIR);
    const ensureDir = async (again: boolean) => {
      if (again) durableDirs.delete(dir);
      if (!durableDirs.has(dir)) await this.#ensureDir(connection, dir, this.dataDir);
    };
    await this.#io(
      connection,
      context,
      outputs.path(executionId),
      () => outputs.append(executionId, copy, context, ensureDir),
    );
  }

  /**
   * Reads the lines of `outputs/{executionId}.out`, stopping once the range is complete.
   *
   * @param executionId The execution's id.
   * @param query The first line's index and the number of lines.
   * @returns The lines in order; `[]` if there are none.
   * @throws {CorruptRecordError} When something other than a file is in the log's place.
   * @throws {ValidationError} For an invalid id or query.
   * @throws {NotConnectedError} When not connected.
   */
  async getOutput(executionId: string, query?: OutputQuery): Promise<string[]> {
    const connection = this.#connected("get output");
    const { outputs } = connection;
    assertId(executionId, "Cannot get output", "executionId");
    const context = `Cannot get output of execution "${executionId}"`;
    const plan = checkOutputQuery(query, context);
    const path = outputs.path(executionId);
    return await this.#io(
      connection,
      context,
      path,
      () => outputs.read(executionId, plan, context),
    );
  }

  /**
   * Reads the current-execution id from `metadata.json`.
   *
   * @returns The id, or `null` when none is set.
   * @throws {CorruptRecordError} When `metadata.json` cannot be read as the pointer.
   * @throws {NotConnectedError} When not connected.
   */
  async getCurrentExecutionId(): Promise<string | null> {
    const connection = this.#connected("get the current execution");
    const { engine } = connection;
    return await this.#io(
      connection,
      "Cannot read the current execution",
      engine.metadataPath(this.dataDir),
      () => engine.readCurrentId(this.dataDir),
    );
  }

  /**
   * Writes the current-execution id to `metadata.json` atomically; `null` clears it.
   *
   * @param id The id, which need not name a stored execution, or `null`.
   * @throws {ValidationError} For an id that is neither valid nor `null`.
   * @throws {NotConnectedError} When not connected.
   * @throws {StorageError} With code `"IO"` when the file system fails.
   */
  async setCurrentExecutionId(id: string | null): Promise<void> {
    const connection = this.#connected("set the current execution");
    const { engine } = connection;
    const checked = checkCurrentId(id);
    await this.#io(
      connection,
      "Cannot set the current execution",
      engine.metadataPath(this.dataDir),
      () => engine.writeCurrentId(this.dataDir, checked, this.#fsync),
    );
  }

  /**
   * Makes sure `dir`, in `parent`, is a directory of its own whose entry is durable, once
   * per connection (and again when a write found it `missing`): creates it if it does not
   * exist; refuses a symbolic link; fsyncs `parent` when it was just created, and when it
   * already existed, since a writer that died may have created it without syncing
   * `parent`. Concurrent first writers share one check and one fsync.
   */
  #ensureDir(connection: Connection, dir: string, parent: string, missing = false): Promise<void> {
    const { durableDirs, ensuring } = connection;
    if (!missing && durableDirs.has(dir)) return Promise.resolve();
    let check = ensuring.get(dir);
    if (check === undefined) {
      durableDirs.delete(dir);
      check = this.#makeDurableDir(connection, dir, parent).finally(() => ensuring.delete(dir));
      ensuring.set(dir, check);
    }
    return check;
  }

  async #makeDurableDir(connection: Connection, dir: string, parent: string): Promise<void> {
    const { engine } = connection;
    let info = await engine.fs.lstatInfo(dir).catch((error) => {
      if (engine.errorCode(error) === "ENOENT") return undefined;
      throw error;
    });
    if (info === undefined) {
      await engine.makeDir(dir);
      info = await engine.fs.lstatInfo(dir);
    }
    if (info.kind === "symlink") {
      throw new CorruptRecordError(
        `Cannot write to "${dir}": it is a symbolic link, and the file backend never follows ` +
          "a link out of its data directory; replace the link with the directory it points " +
          `to (move that directory to "${dir}")`,
        { path: dir },
      );
    }
    if (info.kind !== "directory") {
      throw Object.assign(new Error(`"${dir}" is a file, not a directory`), { code: "ENOTDIR" });
    }
    if (this.#fsync) await engine.syncDirShared(parent);
    connection.durableDirs.add(dir);
  }

  async #save(kind: Kind, record: Program | Execution): Promise<void> {
    const connection = this.#connected(`save ${kind}`);
    const { engine } = connection;
    const { json, id } = checkRecord(kind, record);
    const text = engine.recordText(json, `Cannot save ${kind} "${id}"`);
    const dir = join(this.dataDir, engine.DIRS[kind]);
    const name = `${idToFileStem(id)}.json`;
    await this.#io(connection, `Cannot save ${kind} "${id}"`, join(dir, name), async () => {
      await engine.writeAtomic(dir, name, text, { placement: "replace", fsync: this.#fsync });
    });
  }

  async #get<K extends Kind>(kind: K, id: string): Promise<RecordTypes[K] | null> {
    const connection = this.#connected(`get ${kind}`);
    const { engine } = connection;
    assertId(id, `Cannot get ${kind}`);
    const path = join(this.dataDir, engine.DIRS[kind], `${idToFileStem(id)}.json`);
    const what = `${kind} "${id}"`;
    const read = () => engine.readRecord(kind, path, what);
    const record = await this.#io(connection, `Cannot read ${what}`, path, read);
    if (record !== null && record.id !== id) {
      throw engine.corrupt(
        `Cannot read ${what}`,
        path,
        `holds the ${kind} of another id`,
        "move it to the file of its own id, or",
      );
    }
    return record;
  }

  /** Reads a page of `programs/` or `executions/`. */
  async #list<K extends Kind>(
    connection: Connection,
    kind: K,
    plan: ListPlan,
    keep?: (record: RecordTypes[K]) => boolean,
  ): Promise<RecordTypes[K][]> {
    const { engine } = connection;
    const dir = join(this.dataDir, engine.DIRS[kind]);
    return await this.#io(
      connection,
      `Cannot list ${kind}s`,
      dir,
      () => engine.readList(kind, connection.recordListings, dir, plan, keep),
    );
  }

  async #delete(connection: Connection, kind: Kind, id: string): Promise<boolean> {
    const { engine } = connection;
    assertId(id, `Cannot delete ${kind}`);
    const dir = join(this.dataDir, engine.DIRS[kind]);
    const path = join(dir, `${idToFileStem(id)}.json`);
    return await this.#io(connection, `Cannot delete ${kind} "${id}"`, path, async () => {
      const existed = await engine.removeFile(path, `Cannot delete ${kind} "${id}"`);
      if (existed && this.#fsync) await engine.syncDir(dir);
      return existed;
    });
  }

  /**
   * Runs file-system work, turning unexpected failures into a `StorageError` that names
   * the cause, and says whether the write may have been stored anyway (`maybeStored`).
   */
  async #io<T>(
    { engine }: Connection,
    action: string,
    path: string,
    work: () => Promise<T>,
  ): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof StorageError) throw error;
      throw engine.ioError(action, path, error);
    }
  }

  /** The open connection; throws `NotConnectedError` when there is none. */
  #connected(action: string): Connection {
    const connection = this.#lifecycle.current;
    if (connection === undefined) {
      throw new NotConnectedError(
        `Cannot ${action}: the FileStorageAdapter for "${this.dataDir}" is not connected; ` +
          "call connect() first",
      );
    }
    return connection;
  }
}
