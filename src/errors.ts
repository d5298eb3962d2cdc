/**
 * The errors every adapter throws. All extend {@linkcode StorageError} and carry a stable
 * string `code`, so callers can branch on `error.code` or on `instanceof`.
 *
 * @module
 */

/** The stable codes carried by {@linkcode StorageError} and its subclasses. */
export type StorageErrorCode =
  | "STORAGE"
  | "IO"
  | "NOT_CONNECTED"
  | "VALIDATION"
  | "CONFLICT"
  | "CORRUPT_RECORD"
  | "CONFIG"
  | "CONNECTION";

/**
 * Options for {@linkcode StorageError}.
 *
 * @example
 * ```ts
 * import { StorageError, type StorageErrorOptions } from "@cvm/storage";
 *
 * const options: StorageErrorOptions = { code: "IO", cause: new Error("EIO") };
 * const error = new StorageError("Cannot write program \"p1\"", options);
 * ```
 */
export interface StorageErrorOptions {
  /** The stable code; defaults to `"STORAGE"`. */
  code?: StorageErrorCode;
  /** The underlying error (a file-system or driver error). */
  cause?: unknown;
  /**
   * `true` when the write may have been stored although it failed (a lost reply, a failed
   * fsync after the data was in place). Default `false`.
   */
  maybeStored?: boolean;
}

/**
 * Base class of every error the library throws on purpose.
 *
 * Thrown directly (with code `"IO"`) when the file system fails in a way no subclass
 * describes, such as `ENOSPC` or `EIO`; the original error is the `cause`.
 *
 * @example Catching any storage error
 * ```ts
 * import { MemoryStorageAdapter, StorageError } from "@cvm/storage";
 *
 * const storage = new MemoryStorageAdapter();
 * try {
 *   await storage.getProgram("p1"); // not connected yet
 * } catch (error) {
 *   if (error instanceof StorageError) console.log(error.code); // "NOT_CONNECTED"
 * }
 * ```
 */
export class StorageError extends Error {
  /** A stable machine-readable code. */
  readonly code: StorageErrorCode;
  /**
   * `true` when a write failed after its data may already have been stored (the reply was
   * lost, or a later fsync failed). Retrying the same call is then safe for every write but
   * `appendOutput`, whose lines may already be there. `false` means nothing was written.
   */
  readonly maybeStored: boolean;

  /**
   * Creates a storage error.
   *
   * @param message What happened, to which record or path, and what to do.
   * @param options The code and the cause.
   */
  constructor(message: string, options: StorageErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "StorageError";
    this.code = options.code ?? "STORAGE";
    this.maybeStored = options.maybeStored ?? false;
  }
}

/**
 * Thrown by record methods before `connect()` and after `disconnect()`.
 *
 * @example
 * ```ts
 * import { MemoryStorageAdapter, NotConnectedError } from "@cvm/storage";
 *
 * const storage = new MemoryStorageAdapter();
 * await storage.listPrograms().catch((error) => {
 *   console.log(error instanceof NotConnectedError); // true
 * });
 * ```
 */
export class NotConnectedError extends StorageError {
  /**
   * Creates the error.
   *
   * @param message What was attempted and what to do.
   */
  constructor(message: string) {
    super(message, { code: "NOT_CONNECTED" });
    this.name = "NotConnectedError";
  }
}

/**
 * Thrown for bad input: an invalid id, a record of the wrong shape, or a value that cannot
 * round-trip. Nothing is written when it is thrown.
 *
 * @example
 * ```ts
 * import { MemoryStorageAdapter, ValidationError } from "@cvm/storage";
 *
 * const storage = new MemoryStorageAdapter();
 * await storage.connect();
 * await storage.getProgram("").catch((error) => {
 *   console.log(error instanceof ValidationError); // true
 * });
 * ```
 */
export class ValidationError extends StorageError {
  /**
   * Creates the error.
   *
   * @param message What is wrong with the input, where, and what to pass instead.
   */
  constructor(message: string) {
    super(message, { code: "VALIDATION" });
    this.name = "ValidationError";
  }
}

/**
 * Thrown by `saveHistory` when an entry with the same `(executionId, step, timestamp)`
 * already exists and differs from the one being saved. The stored entry is left untouched.
 * (Saving an entry deep-equal to the stored one succeeds: a retry is safe.)
 *
 * @example
 * ```ts
 * import { ConflictError, MemoryStorageAdapter } from "@cvm/storage";
 *
 * const storage = new MemoryStorageAdapter();
 * await storage.connect();
 * const entry = {
 *   executionId: "e1",
 *   step: 1,
 *   pc: 0,
 *   instruction: "NOP",
 *   stack: [],
 *   variables: {},
 *   timestamp: new Date(0),
 * };
 * await storage.saveHistory(entry);
 * await storage.saveHistory(entry); // the same entry again: a safe no-op
 * await storage.saveHistory({ ...entry, pc: 1 }).catch((error) => {
 *   console.log(error instanceof ConflictError); // true
 * });
 * ```
 */
export class ConflictError extends StorageError {
  /**
   * Creates the error.
   *
   * @param message Which record conflicts and what to do.
   * @param options The underlying error, if any.
   */
  constructor(message: string, options: { cause?: unknown; maybeStored?: boolean } = {}) {
    super(message, { ...options, code: "CONFLICT" });
    this.name = "ConflictError";
  }
}

/**
 * Thrown when a stored record cannot be read back: its file is not valid JSON, has the
 * wrong shape, or holds a record whose id does not match its place.
 *
 * @example
 * ```ts
 * import { CorruptRecordError } from "@cvm/storage";
 *
 * const error = new CorruptRecordError(
 *   'Cannot read program "p1": file "/data/programs/p1.json" is not valid JSON; restore it or delete it',
 *   { path: "/data/programs/p1.json" },
 * );
 * console.log(error.path);
 * ```
 */
export class CorruptRecordError extends StorageError {
  /** The file (or document) that could not be read, when known. */
  readonly path?: string;

  /**
   * Creates the error.
   *
   * @param message Which record and file, what is wrong, and what to do.
   * @param options The file path and the underlying error.
   */
  constructor(message: string, options: { path?: string; cause?: unknown } = {}) {
    super(message, { code: "CORRUPT_RECORD", cause: options.cause });
    this.name = "CorruptRecordError";
    if (options.path !== undefined) this.path = options.path;
  }
}

/**
 * Thrown by {@linkcode createStorage} and adapter constructors for invalid configuration:
 * an unknown backend type, an empty data directory, a URI that is not MongoDB's.
 *
 * @example
 * ```ts
 * import { ConfigError, createStorage } from "@cvm/storage";
 *
 * try {
 *   createStorage({ type: "mongodb", env: {} }); // no URI anywhere
 * } catch (error) {
 *   console.log(error instanceof ConfigError); // true
 * }
 * ```
 */
export class ConfigError extends StorageError {
  /**
   * Creates the error.
   *
   * @param message Which setting is wrong and its valid values.
   */
  constructor(message: string) {
    super(message, { code: "CONFIG" });
    this.name = "ConfigError";
  }
}

/**
 * Thrown by `connect()` when the backend cannot be opened: a MongoDB server that does not
 * answer in time, a driver that cannot be loaded, a data directory that cannot be created.
 *
 * @example
 * ```ts
 * import { ConnectionError } from "@cvm/storage";
 *
 * const error = new ConnectionError("Cannot reach MongoDB at \"mongodb://localhost:1/\"");
 * console.log(error.code); // "CONNECTION"
 * ```
 */
export class ConnectionError extends StorageError {
  /**
   * Creates the error.
   *
   * @param message What could not be reached and what to do.
   * @param options The underlying error, if any.
   */
  constructor(message: string, options: { cause?: unknown; maybeStored?: boolean } = {}) {
    super(message, { ...options, code: "CONNECTION" });
    this.name = "ConnectionError";
  }
}
