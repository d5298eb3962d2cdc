// Helpers shared by the MongoDB tests: whether a server is there (MONGODB_URI; CI starts
// FerretDB with scripts/ferretdb.sh), fresh databases, and a driver client of the test's
// own. Tests run with Deno's op and resource sanitizers on, so a timer or socket the
// driver leaves after disconnect() fails the test.
//
// Needs --allow-net --allow-env. Without them, or without MONGODB_URI, the tests that
// need them are ignored, unless CVM_REQUIRE_MONGODB=1 (CI), where a test fails instead.

import type { Db, MongoClient } from "mongodb";
import { MongoDBAdapter, type MongoDBOptions } from "../mod.ts";

const granted = (name: "env" | "net") => Deno.permissions.querySync({ name }).state === "granted";
const permitted = granted("env") && granted("net");

/** The server's URI, or `undefined` when there is none (or no permission to use it). */
export const uri = permitted ? Deno.env.get("MONGODB_URI") || undefined : undefined;
const required = permitted && Deno.env.get("CVM_REQUIRE_MONGODB") === "1";

/** Why the tests that need permissions do not run; `undefined` if they do. */
export const noPermissions = permitted ? undefined : "they need --allow-net --allow-env";
/** Why the tests that need a server do not run; `undefined` if they do. */
export const noServer = noPermissions ??
  (uri === undefined
    ? "MONGODB_URI is not set; start a server with `scripts/ferretdb.sh start` and export " +
      "the MONGODB_URI it prints"
    : undefined);

/**
 * Registers, once per test file, what happens when there is no server: a warning, or
 * under CVM_REQUIRE_MONGODB=1 a failing test.
 */
export function reportMissingServer(file: string): void {
  if (noServer === undefined) return;
  if (!required) {
    console.warn(`MongoDB tests in ${file} that need a server are ignored: ${noServer}`);
    return;
  }
  Deno.test(`${file}: MongoDB tests must run when CVM_REQUIRE_MONGODB=1`, () => {
    throw new Error(`CVM_REQUIRE_MONGODB=1, but the MongoDB tests would be skipped: ${noServer}`);
  });
}

/** Registers a test with the sanitizers on; ignored when `reason` says why it cannot run. */
export function mongoTest(name: string, reason: string | undefined, fn: () => Promise<void>) {
  Deno.test({
    name: reason === undefined ? name : `${name} (ignored: ${reason.split(";")[0]})`,
    ignore: reason !== undefined,
    sanitizeOps: true,
    sanitizeResources: true,
    fn,
  });
}

/** A test that needs a server. */
export function serverTest(name: string, fn: (uri: string) => Promise<void>): void {
  mongoTest(name, noServer, () => fn(uri!));
}

/** A test that needs only --allow-net --allow-env (it talks to no server that answers). */
export function offlineTest(name: string, fn: () => Promise<void>): void {
  mongoTest(name, noPermissions, fn);
}

let databases = 0;
/** A database name no other test (or test run) uses; MongoDB allows 63 bytes. */
export function freshDbName(): string {
  const random = Array.from(crypto.getRandomValues(new Uint8Array(4)))
    .map((byte) => byte.toString(16).padStart(2, "0")).join("");
  return `cvm_test_${Date.now().toString(36)}_${random}_${databases++}`;
}

/** Runs `fn` with a driver client of the test's own, closed afterwards. */
export async function withClient<T>(
  uri: string,
  fn: (client: MongoClient) => Promise<T>,
): Promise<T> {
  const { MongoClient } = await import("mongodb");
  const client = new MongoClient(uri, {
    serverSelectionTimeoutMS: 10_000,
    fieldsAsRaw: Object.create(null),
  });
  try {
    await client.connect();
    return await fn(client);
  } finally {
    await client.close();
  }
}

/** Runs `fn` with the plain driver on one database. */
export function withDb<T>(uri: string, dbName: string, fn: (db: Db) => Promise<T>): Promise<T> {
  return withClient(uri, (client) => fn(client.db(dbName)));
}

/** Drops a database. */
export async function dropDatabase(uri: string, dbName: string): Promise<void> {
  await withClient(uri, (client) => client.db(dbName).dropDatabase());
}

/** Runs `fn` with connected adapters on one fresh database, dropped afterwards. */
export async function withDatabase(
  uri: string,
  fn: (adapters: MongoDBAdapter[], dbName: string) => Promise<void>,
  count = 1,
  options: Partial<MongoDBOptions> = {},
): Promise<void> {
  const dbName = freshDbName();
  const adapters = Array.from(
    { length: count },
    () => new MongoDBAdapter({ uri, dbName, timeoutMS: 10_000, ...options }),
  );
  try {
    for (const adapter of adapters) await adapter.connect();
    await fn(adapters, dbName);
  } finally {
    for (const adapter of adapters) await adapter.disconnect();
    await dropDatabase(uri, dbName);
  }
}

/** Runs `fn` on a fresh database the test fills first with the plain driver. */
export async function withPrefilled(
  uri: string,
  fill: (db: Db) => Promise<unknown>,
  fn: (storage: MongoDBAdapter, db: Db, dbName: string) => Promise<void>,
): Promise<void> {
  const dbName = freshDbName();
  try {
    await withDb(uri, dbName, async (db) => {
      await fill(db);
      const storage = new MongoDBAdapter({ uri, dbName, timeoutMS: 10_000 });
      try {
        await storage.connect();
        await fn(storage, db, dbName);
      } finally {
        await storage.disconnect();
      }
    });
  } finally {
    await dropDatabase(uri, dbName);
  }
}
