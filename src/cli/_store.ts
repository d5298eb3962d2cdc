// Naming a store on the command line, and opening it through the public API:
// `file:DIR` or a plain path, `mongodb://…` / `mongodb+srv://…`, `cvm-legacy:DIR`, or
// nothing for what `createStorage()` opens from the environment.

import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { readEnv } from "../_env.ts";
import { StorageError } from "../errors.ts";
import { createStorage } from "../factory.ts";
import { FileStorageAdapter } from "../file/file_adapter.ts";
import { MongoDBAdapter, type MongoDBOptions } from "../mongodb/mongodb_adapter.ts";
import { parseUri } from "../mongodb/_uri.ts";
import type { StorageAdapter } from "../types.ts";
import { UsageError } from "./_args.ts";
import { LegacyStore } from "./_legacy_store.ts";
import type { Io } from "./_output.ts";

/** A store as named on the command line. */
export type StoreSpec =
  | { kind: "file"; dataDir: string }
  | { kind: "mongodb"; uri: string }
  | { kind: "legacy"; dataDir: string }
  | { kind: "default" };

/** An open store. `await using` disconnects it. */
export interface OpenStore extends AsyncDisposable {
  /** The connected adapter. */
  storage: StorageAdapter;
  /** The store as messages show it: `file:/abs/dir`, a URI without its password. */
  name: string;
  /** The store's kind, with the default resolved. */
  kind: "file" | "mongodb" | "legacy";
  /** The absolute data directory of a file or legacy store. */
  dataDir?: string;
  /** The MongoDB connection string of a MongoDB store. */
  uri?: string;
}

const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]+):/;

/**
 * Reads a store argument.
 *
 * @param text The argument, or `undefined` for the configured default.
 * @param command The command, for the usage error.
 * @returns What it names.
 * @throws {UsageError} For an empty argument or an unknown scheme.
 */
export function parseStoreSpec(text: string | undefined, command: string): StoreSpec {
  if (text === undefined) return { kind: "default" };
  if (text === "") throw new UsageError("the store must not be empty", command);
  if (/^mongodb(\+srv)?:\/\//.test(text)) return { kind: "mongodb", uri: text };
  const scheme = SCHEME.exec(text)?.[1];
  if (scheme === undefined) return { kind: "file", dataDir: text };
  const rest = text.slice(scheme.length + 1);
  switch (scheme) {
    case "file":
      return { kind: "file", dataDir: fileDir(rest, text, command) };
    case "cvm-legacy":
      return { kind: "legacy", dataDir: fileDir(rest, text, command) };
  }
  throw new UsageError(
    `unknown store "${scheme}:…"; name a data directory (DIR or file:DIR), a mongodb:// or ` +
      `mongodb+srv:// URI, or cvm-legacy:DIR (for a directory whose name has a colon, ` +
      `write ./${text})`,
    command,
  );
}

function fileDir(rest: string, text: string, command: string): string {
  if (rest.startsWith("//")) {
    try {
      return fileURLToPath(text.replace(/^cvm-legacy:/, "file:"));
    } catch (error) {
      throw new UsageError(
        `"${text}" is not a valid file URL (${(error as Error).message})`,
        command,
      );
    }
  }
  if (rest === "") throw new UsageError(`"${text}" names no directory`, command);
  return rest;
}

/**
 * Opens and connects a store.
 *
 * @param spec The store.
 * @param io For the environment of the default store.
 * @param options `mustExist`: a file store's directory must exist (commands that only
 * read it never create one); `timeoutMS`: the bound on each call to a MongoDB store.
 * @returns The open store.
 * @throws {StorageError} When the store cannot be opened; a `ConfigError` when the
 * environment names no usable store.
 */
export async function openStore(
  spec: StoreSpec,
  io: Io,
  options: { mustExist: boolean; timeoutMS?: number },
): Promise<OpenStore> {
  const resolved = spec.kind === "default" ? defaultSpec(io) : spec;
  let storage: StorageAdapter;
  let name: string;
  switch (resolved.kind) {
    case "file": {
      const dataDir = resolve(resolved.dataDir);
      if (options.mustExist) await assertDirectory(dataDir);
      storage = new FileStorageAdapter(dataDir);
      name = `file:${dataDir}`;
      break;
    }
    case "legacy":
      storage = new LegacyStore(resolved.dataDir);
      name = `cvm-legacy:${(storage as LegacyStore).dataDir}`;
      break;
    case "mongodb":
      storage = new MongoDBAdapter(
        options.timeoutMS === undefined
          ? resolved.uri
          : { uri: resolved.uri, timeoutMS: options.timeoutMS } as MongoDBOptions,
      );
      name = parseUri(resolved.uri).display;
      break;
  }
  await storage.connect();
  return {
    storage,
    name,
    kind: resolved.kind,
    dataDir: resolved.kind === "mongodb" ? undefined : resolve(resolved.dataDir),
    uri: resolved.kind === "mongodb" ? resolved.uri : undefined,
    [Symbol.asyncDispose]: () => storage.disconnect(),
  };
}

/** The store `createStorage()` would open, as a spec. */
export function defaultSpec(io: Io): Exclude<StoreSpec, { kind: "default" }> {
  const storage = createStorage({ env: io.env });
  if (storage instanceof FileStorageAdapter) return { kind: "file", dataDir: storage.dataDir };
  if (storage instanceof MongoDBAdapter) {
    const uri = io.env ? io.env.MONGODB_URI : readEnv("MONGODB_URI");
    return { kind: "mongodb", uri: uri! };
  }
  throw new UsageError(
    'CVM_STORAGE_TYPE is "memory", a store that lives inside one process only; name a store ' +
      "with --store",
  );
}

async function assertDirectory(dataDir: string): Promise<void> {
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(dataDir)).isDirectory();
  } catch (error) {
    if ((error as { code?: string }).code === "ENOENT") {
      throw new StorageError(
        `There is no data directory at "${dataDir}"; check the path (only import and migrate ` +
          "create a store)",
      );
    }
    throw new StorageError(
      `Cannot open the data directory "${dataDir}": ${(error as Error).message}; check its ` +
        "permissions",
      { code: "IO", cause: error },
    );
  }
  if (!isDirectory) {
    throw new StorageError(`"${dataDir}" is not a directory; name a data directory`);
  }
}
