/**
 * The MongoDB backend, on the official `mongodb` driver, loaded only by `connect()`.
 *
 * @module
 */

import { ConfigError, NotConnectedError } from "../errors.ts";
import type { Execution, ExecutionFilter, History, Program, StorageAdapter } from "../types.ts";

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
  /** How long `connect()` waits for a server, in milliseconds. Default 5000. */
  serverSelectionTimeoutMS?: number;
  /** Passed to the driver's `MongoClient` as they are. */
  clientOptions?: Record<string, unknown>;
}

/**
 * Stores records in MongoDB collections `programs`, `executions` and `history`.
 *
 * @example
 * ```ts ignore
 * import { MongoDBAdapter } from "@cvm/storage";
 *
 * const storage = new MongoDBAdapter("mongodb://127.0.0.1:27017/cvm");
 * await storage.connect();
 * console.log(await storage.listPrograms());
 * await storage.disconnect();
 * ```
 */
export class MongoDBAdapter implements StorageAdapter {
  readonly #options: MongoDBOptions;

  /**
   * Creates an unconnected adapter. Nothing is loaded or opened until `connect()`.
   *
   * @param uri A connection string, or options.
   * @throws {ConfigError} When the URI is not a `mongodb://` or `mongodb+srv://` URI.
   */
  constructor(uri: string | MongoDBOptions) {
    const options = typeof uri === "string" ? { uri } : uri;
    if (typeof options?.uri !== "string" || !/^mongodb(\+srv)?:\/\/./.test(options.uri)) {
      throw new ConfigError(
        'The MongoDB URI must start with "mongodb://" or "mongodb+srv://"; set MONGODB_URI ' +
          "or mongoUri to a MongoDB connection string",
      );
    }
    this.#options = options;
  }

  /** Not implemented yet. */
  connect(): Promise<void> {
    return Promise.reject(new NotConnectedError("MongoDBAdapter is being built"));
  }
  /** Not implemented yet. */
  disconnect(): Promise<void> {
    return Promise.resolve();
  }
  /** Not implemented yet. */
  isConnected(): boolean {
    return false;
  }
  /** Not implemented yet. */
  saveProgram(_program: Program): Promise<void> {
    return this.connect();
  }
  /** Not implemented yet. */
  getProgram(_id: string): Promise<Program | null> {
    return this.connect().then(() => null);
  }
  /** Not implemented yet. */
  saveExecution(_execution: Execution): Promise<void> {
    return this.connect();
  }
  /** Not implemented yet. */
  getExecution(_id: string): Promise<Execution | null> {
    return this.connect().then(() => null);
  }
  /** Not implemented yet. */
  saveHistory(_history: History): Promise<void> {
    return this.connect();
  }
  /** Not implemented yet. */
  getHistory(_executionId: string): Promise<History[]> {
    return this.connect().then(() => []);
  }
  /** Not implemented yet. */
  listPrograms(): Promise<Program[]> {
    return this.connect().then(() => []);
  }
  /** Not implemented yet. */
  listExecutions(_filter?: ExecutionFilter): Promise<Execution[]> {
    return this.connect().then(() => []);
  }
  /** Not implemented yet. */
  deleteProgram(_id: string): Promise<boolean> {
    return this.connect().then(() => false);
  }
  /** Not implemented yet. */
  deleteExecution(_id: string): Promise<boolean> {
    return this.connect().then(() => false);
  }
}
