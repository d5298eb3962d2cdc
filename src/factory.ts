/**
 * Chooses and creates a storage adapter from configuration and the environment.
 *
 * @module
 */

import { readEnv } from "./_runtime.ts";
import { ConfigError } from "./errors.ts";
import { FileStorageAdapter } from "./file/file_adapter.ts";
import { MemoryStorageAdapter } from "./memory/memory_adapter.ts";
import { MongoDBAdapter } from "./mongodb/mongodb_adapter.ts";
import type { StorageAdapter } from "./types.ts";

/** The backends {@linkcode createStorage} can create. */
export type StorageType = "file" | "mongodb" | "memory";

const TYPES: readonly StorageType[] = ["file", "mongodb", "memory"];

/**
 * Configuration for {@linkcode createStorage}. Every field is optional; an unset field
 * falls back to the environment, then to the default.
 *
 * @example
 * ```ts
 * import type { StorageConfig } from "@cvm/storage";
 *
 * const config: StorageConfig = { type: "file", dataDir: "./data" };
 * ```
 */
export interface StorageConfig {
  /** The backend; else `CVM_STORAGE_TYPE`; else `"file"`. */
  type?: StorageType;
  /**
   * File backend: the data directory; else `CVM_DATA_DIR`; else `~/.cvm`. A leading `~/`
   * is the home directory.
   */
  dataDir?: string;
  /** File backend: whether writes are fsynced before they return; default `true`. */
  fsync?: boolean;
  /** MongoDB backend: the connection string; else `MONGODB_URI`; else a `ConfigError`. */
  mongoUri?: string;
  /** MongoDB backend: the database; else the URI's path; else `"cvm"`. */
  dbName?: string;
  /** Read instead of the process environment (for tests, or to ignore the environment). */
  env?: Record<string, string | undefined>;
}

/**
 * Creates an unconnected adapter for the configured backend. It reads settings from
 * `config`, then from the environment (`CVM_STORAGE_TYPE`, `CVM_DATA_DIR`, `MONGODB_URI`),
 * then uses the defaults. Synchronous: nothing is opened until `connect()`.
 *
 * Under Deno, reading the environment needs `--allow-env`; without it, the environment
 * reads as unset. The default data directory needs the home directory (`HOME`).
 *
 * @param config Settings that override the environment.
 * @returns An adapter; call `connect()` before using it.
 * @throws {ConfigError} For an unknown type, an empty data directory, a missing or
 * non-MongoDB URI, or no home directory for the default data directory.
 *
 * @example The default: files under `~/.cvm`, or `CVM_DATA_DIR`
 * ```ts
 * import { createStorage } from "@cvm/storage";
 *
 * const storage = createStorage({ dataDir: await Deno.makeTempDir() });
 * await storage.connect();
 * console.log(await storage.listPrograms()); // []
 * await storage.disconnect();
 * ```
 */
export function createStorage(config: StorageConfig = {}): StorageAdapter {
  const env = (name: string): string | undefined => config.env ? config.env[name] : readEnv(name);

  const typeSource = config.type !== undefined ? "config.type" : "CVM_STORAGE_TYPE";
  const type = config.type ?? env("CVM_STORAGE_TYPE") ?? "file";
  if (!TYPES.includes(type as StorageType)) {
    throw new ConfigError(
      `Unknown storage type ${JSON.stringify(type)} in ${typeSource}; ` +
        `use one of ${TYPES.map((t) => `"${t}"`).join(", ")}`,
    );
  }

  switch (type as StorageType) {
    case "memory":
      return new MemoryStorageAdapter();
    case "mongodb": {
      const uri = config.mongoUri ?? env("MONGODB_URI");
      if (uri === undefined || uri === "") {
        throw new ConfigError(
          'Storage type "mongodb" needs a connection string: set config.mongoUri or ' +
            'MONGODB_URI to a "mongodb://" or "mongodb+srv://" URI (under Deno, grant --allow-env)',
        );
      }
      return new MongoDBAdapter(
        config.dbName === undefined ? uri : { uri, dbName: config.dbName },
      );
    }
    case "file":
      return new FileStorageAdapter(
        config.fsync === undefined
          ? dataDir(config, env)
          : { dataDir: dataDir(config, env), fsync: config.fsync },
      );
  }
}

function dataDir(config: StorageConfig, env: (name: string) => string | undefined): string {
  const [dir, source] = config.dataDir !== undefined
    ? [config.dataDir, "config.dataDir"]
    : [env("CVM_DATA_DIR"), "CVM_DATA_DIR"];
  if (dir === "" || (dir !== undefined && typeof dir !== "string")) {
    throw new ConfigError(
      `The data directory in ${source} must be a non-empty path; set it to a directory, ` +
        "or leave it unset for ~/.cvm",
    );
  }
  if (dir?.includes("\0")) {
    throw new ConfigError(
      `The data directory in ${source} contains a NUL character, which no file system ` +
        "allows in a path; set it to a directory path without one",
    );
  }
  if (dir !== undefined && dir !== "~" && !/^~[/\\]/.test(dir)) return dir;
  const home = env("HOME") || env("USERPROFILE");
  if (home === undefined) {
    const wanted = dir === undefined ? "the default data directory ~/.cvm" : `"${dir}"`;
    throw new ConfigError(
      `Cannot find the home directory for ${wanted}: pass config.dataDir as a full path, ` +
        "set CVM_DATA_DIR, or under Deno grant --allow-env",
    );
  }
  // The adapter resolves the path, normalising its separators for the platform.
  return dir === undefined ? `${home}/.cvm` : `${home}/${dir.slice(2)}`;
}

/**
 * The factory as an object, for code that expects `StorageFactory.create(config)`.
 * `StorageFactory.create` is {@linkcode createStorage}.
 *
 * @example
 * ```ts
 * import { StorageFactory } from "@cvm/storage";
 *
 * const storage = StorageFactory.create({ type: "memory" });
 * await storage.connect();
 * ```
 */
export const StorageFactory: {
  /** Same as {@linkcode createStorage}. */
  create(config?: StorageConfig): StorageAdapter;
} = { create: createStorage };
