// The stores the durability kit runs on here: file data directories, and MongoDB
// databases when MONGODB_URI is set. Shared by tests/crash_test.ts and
// tests/concurrency_test.ts.

import type { DurabilityOptions } from "../../src/testing/mod.ts";
import { findTemps } from "../_utils.ts";

const granted = (name: "env" | "net" | "run" | "read") =>
  Deno.permissions.querySync({ name }).state === "granted";

/** Whether this test run may spawn child processes (`--allow-run`, `--allow-read`). */
export const canSpawn = granted("run") && granted("read");

/** An environment variable, or `undefined` without `--allow-env`. */
export function env(name: string): string | undefined {
  return granted("env") ? Deno.env.get(name) || undefined : undefined;
}

/** A non-negative integer from the environment, or `undefined` when it is not set. */
export function envNumber(name: string): number | undefined {
  const value = env(name);
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isSafeInteger(number) || number < 0) {
    throw new Error(`${name} must be a non-negative integer, not "${value}"`);
  }
  return number;
}

/** Registers a Deno test, ignored (with the reason printed) when it cannot run here. */
export function denoTest(ignore: string | undefined): DurabilityOptions["test"] {
  if (ignore !== undefined) console.warn(`ignored: ${ignore}`);
  return (name, fn) => Deno.test({ name, ignore: ignore !== undefined, fn });
}

/** The kit's options for the file backend, minus the test function. */
export const FILE: Omit<DurabilityOptions, "test"> = {
  name: "FileStorageAdapter",
  adapterModule: new URL("./file_adapter.ts", import.meta.url),
  // The permissions the README documents for the file backend: with them, connect()
  // cannot tell a dead writer from a live one, so it must leave every temp file alone.
  permissions: ["--allow-read", "--allow-write"],
  // After a kill, connect() in this test (which can tell) removes what dead writers left.
  checkStore: async (store) => {
    const temps = await findTemps(store);
    return temps.length === 0 ? [] : [`temp files left after connect(): ${temps.join(", ")}`];
  },
};

/** Why the MongoDB runs cannot run here, or `undefined` when they can. */
export const noMongoDB = !granted("net") || !granted("env")
  ? "the MongoDB durability tests need --allow-net --allow-env"
  : env("MONGODB_URI") === undefined
  ? "MONGODB_URI is not set; start a server with `scripts/ferretdb.sh start`"
  : undefined;

/** Whether a missing server is a failure (CI sets CVM_REQUIRE_MONGODB=1). */
export const mongoRequired = env("CVM_REQUIRE_MONGODB") === "1";

let databases = 0;

/** The kit's options for MongoDB, minus the test function: a database per run. */
export const MONGODB: Omit<DurabilityOptions, "test"> = {
  name: "MongoDBAdapter",
  adapterModule: new URL("./mongodb_adapter.ts", import.meta.url),
  permissions: ["--allow-net", "--allow-env", "--allow-read", "--allow-sys"],
  createStore: () => `cvm_durability_${Deno.pid}_${Date.now().toString(36)}_${databases++}`,
  destroyStore: async (dbName) => {
    const { MongoClient } = await import("mongodb");
    const client = new MongoClient(env("MONGODB_URI")!, { serverSelectionTimeoutMS: 10_000 });
    try {
      await client.connect();
      await client.db(dbName).dropDatabase();
    } finally {
      await client.close();
    }
  },
};

/** Registers `register`'s test for MongoDB, or a failing test when CI requires it. */
export function onMongoDB(register: (test: DurabilityOptions["test"]) => void): void {
  if (noMongoDB !== undefined && mongoRequired) {
    Deno.test("MongoDBAdapter durability tests must run when CVM_REQUIRE_MONGODB=1", () => {
      throw new Error(`CVM_REQUIRE_MONGODB=1, but they would be skipped: ${noMongoDB}`);
    });
    return;
  }
  register(denoTest(noMongoDB));
}
