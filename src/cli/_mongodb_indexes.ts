// The indexes the contract gives a MongoDB store, checked with the driver itself (the
// public API has no word for indexes), before the adapter's `connect()` would create any
// that are missing. Loads the driver only when called.

import type { MongoClient } from "mongodb";
import { Redactor } from "../mongodb/_redact.ts";
import { parseUri } from "../mongodb/_uri.ts";
import type { Findings } from "./_findings.ts";

/** An index the MongoDB backend keeps. */
export interface ExpectedIndex {
  collection: string;
  key: Record<string, 1>;
  unique: boolean;
}

/** The indexes of the contract ("MongoDB backend": Indexes). */
export const EXPECTED_INDEXES: readonly ExpectedIndex[] = [
  { collection: "programs", key: { id: 1 }, unique: true },
  { collection: "executions", key: { id: 1 }, unique: true },
  { collection: "executions", key: { programId: 1 }, unique: false },
  { collection: "executions", key: { state: 1 }, unique: false },
  { collection: "history", key: { executionId: 1, step: 1, timestamp: 1 }, unique: true },
];

const NAMESPACE_NOT_FOUND = 26;

/** The database a URI names, as the adapter chooses it. */
function databaseName(uri: string): string {
  return parseUri(uri).dbName || "cvm";
}

/**
 * Finds the contract's indexes that a MongoDB database lacks.
 *
 * @param uri The connection string.
 * @returns The missing indexes, and the collections that do not exist yet.
 * @throws {Error} A scrubbed driver error when the server cannot be reached.
 */
export async function missingIndexes(
  uri: string,
): Promise<{ missing: ExpectedIndex[]; absent: string[] }> {
  return await withClient(uri, async (client) => {
    const db = client.db(databaseName(uri));
    const missing: ExpectedIndex[] = [];
    const absent = new Set<string>();
    const byCollection = new Map<string, { key: Record<string, unknown>; unique?: boolean }[]>();
    for (const expected of EXPECTED_INDEXES) {
      let indexes = byCollection.get(expected.collection);
      if (indexes === undefined) {
        try {
          indexes = await db.collection(expected.collection).listIndexes().toArray() as {
            key: Record<string, unknown>;
            unique?: boolean;
          }[];
        } catch (error) {
          if ((error as { code?: unknown }).code !== NAMESPACE_NOT_FOUND) throw error;
          indexes = [];
          absent.add(expected.collection);
        }
        byCollection.set(expected.collection, indexes);
      }
      if (absent.has(expected.collection)) continue;
      const wanted = JSON.stringify(Object.entries(expected.key));
      const found = indexes.some((index) =>
        JSON.stringify(Object.entries(index.key).map(([k, v]) => [k, Number(v)])) === wanted &&
        (index.unique === true) === expected.unique
      );
      if (!found) missing.push(expected);
    }
    return { missing, absent: [...absent] };
  });
}

/**
 * Creates indexes.
 *
 * @param uri The connection string.
 * @param indexes The indexes to create.
 * @param findings Where to record an index that cannot be built.
 * @returns The indexes created.
 */
export async function createIndexes(
  uri: string,
  indexes: readonly ExpectedIndex[],
  findings: Findings,
): Promise<ExpectedIndex[]> {
  const redact = redactor(uri);
  return await withClient(uri, async (client) => {
    const db = client.db(databaseName(uri));
    const created: ExpectedIndex[] = [];
    for (const index of indexes) {
      try {
        await db.collection(index.collection).createIndex(index.key, { unique: index.unique });
        created.push(index);
      } catch (error) {
        findings.problem(
          describeIndex(index),
          `cannot be built (${redact.describe(error)}); ${
            index.unique
              ? "remove the duplicated records, then run verify --repair again"
              : "check the server"
          }`,
        );
      }
    }
    return created;
  });
}

/**
 * An index as messages show it.
 *
 * @param index The index.
 * @returns E.g. `history index {executionId, step, timestamp} (unique)`.
 */
export function describeIndex(index: ExpectedIndex): string {
  return `${index.collection} index {${Object.keys(index.key).join(", ")}}${
    index.unique ? " (unique)" : ""
  }`;
}

function redactor(uri: string): Redactor {
  const parsed = parseUri(uri);
  return new Redactor(uri, parsed.display, parsed.secrets);
}

async function withClient<T>(uri: string, work: (client: MongoClient) => Promise<T>): Promise<T> {
  const redact = redactor(uri);
  let client: MongoClient | undefined;
  try {
    const { MongoClient } = await import("mongodb");
    client = new MongoClient(uri, { serverSelectionTimeoutMS: 5000 });
    await client.connect();
    return await work(client);
  } catch (error) {
    throw redact.error(error);
  } finally {
    await client?.close().catch(() => {});
  }
}
