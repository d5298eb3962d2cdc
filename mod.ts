/**
 * Storage for CVM programs, executions and execution history, behind one
 * {@linkcode StorageAdapter} interface with two real backends: human-readable JSON files
 * (the default, every write atomic and durable) and MongoDB (the official driver, loaded
 * only when used). {@linkcode createStorage} picks one from configuration or the
 * environment (`CVM_STORAGE_TYPE`, `CVM_DATA_DIR`, `MONGODB_URI`).
 *
 * @example Save and read a program with the file backend
 * ```ts
 * import { createStorage } from "@cvm/storage";
 *
 * await using storage = createStorage({ dataDir: await Deno.makeTempDir() });
 * await storage.connect();
 * await storage.saveProgram({
 *   id: "hello",
 *   name: "Hello",
 *   source: 'print("hi")',
 *   bytecode: [{ op: "PUSH", arg: "hi" }, { op: "PRINT" }],
 *   created: new Date(),
 * });
 * const program = await storage.getProgram("hello");
 * console.log(program?.created instanceof Date); // true
 * ```
 *
 * @module
 */

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
} from "./src/types.ts";
export { streamHistory, type StreamHistoryQuery } from "./src/stream_history.ts";
export {
  ConfigError,
  ConflictError,
  ConnectionError,
  CorruptRecordError,
  NotConnectedError,
  StorageError,
  type StorageErrorCode,
  type StorageErrorOptions,
  ValidationError,
} from "./src/errors.ts";
export { FileStorageAdapter, type FileStorageOptions } from "./src/file/file_adapter.ts";
export { MemoryStorageAdapter } from "./src/memory/memory_adapter.ts";
export { MongoDBAdapter, type MongoDBOptions } from "./src/mongodb/mongodb_adapter.ts";
export {
  createStorage,
  type StorageConfig,
  StorageFactory,
  type StorageType,
} from "./src/factory.ts";
