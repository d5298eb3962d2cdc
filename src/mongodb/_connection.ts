// Opening and closing the MongoDB connection: loading the driver, connecting, telling
// FerretDB from MongoDB, and creating the indexes.

import type * as Driver from "mongodb";
import type { Collection, Document, MongoClient, ObjectId } from "mongodb";
import type { DocumentServer } from "../document.ts";
import { ConnectionError } from "../errors.ts";
import { bounded } from "./_call.ts";
import { errorCode, errorName, isNotCapable } from "./_errors.ts";
import type { Settings } from "./_options.ts";

/** The collections, by what they hold. */
export const COLLECTIONS = {
  program: "programs",
  execution: "executions",
  history: "history",
  output: "outputs",
  metadata: "metadata",
} as const;

/** A stored document: `_id` is a string, or the ObjectId older writers left. */
export interface StoredDocument extends Document {
  _id: string | ObjectId;
}

/** What `connect()` opened. */
export interface Session {
  client: MongoClient;
  programs: Collection<StoredDocument>;
  executions: Collection<StoredDocument>;
  history: Collection<StoredDocument>;
  outputs: Collection<StoredDocument>;
  metadata: Collection<StoredDocument>;
  /** The loaded driver's BSON, for sizing documents. */
  bson: typeof Driver.BSON;
  /** Which server this is: FerretDB holds less than MongoDB. */
  server: DocumentServer;
  /** Driver calls still running, including those a deadline gave up on. */
  pending: Set<Promise<unknown>>;
}

/** An index the contract asks for, with the key that names a duplicate. */
interface IndexSpec {
  collection: keyof typeof COLLECTIONS;
  key: Record<string, 1>;
  unique: boolean;
}

const INDEXES: IndexSpec[] = [
  { collection: "program", key: { id: 1 }, unique: true },
  { collection: "execution", key: { id: 1 }, unique: true },
  { collection: "execution", key: { programId: 1 }, unique: false },
  { collection: "execution", key: { state: 1 }, unique: false },
  { collection: "history", key: { executionId: 1, step: 1, timestamp: 1 }, unique: true },
  { collection: "output", key: { executionId: 1, end: 1 }, unique: false },
];

/**
 * Loads the driver, connects, finds out which server answers and creates the indexes.
 * On failure the client is closed.
 *
 * @throws {ConnectionError} Saying what failed and what to do.
 */
export async function openSession(settings: Settings): Promise<Session> {
  const driver = await loadDriver(settings);
  let client: MongoClient;
  try {
    client = new driver.MongoClient(settings.uri, settings.clientOptions);
  } catch (error) {
    throw new ConnectionError(
      `Cannot connect to MongoDB at "${settings.display}": ` +
        `${settings.redact.describe(error)}; ` +
        (isNotCapable(error)
          ? "under Deno, grant --allow-env and --allow-net"
          : "fix the connection string or clientOptions"),
      { cause: settings.redact.error(error) },
    );
  }
  const pending = new Set<Promise<unknown>>();
  try {
    const bound = Math.max(settings.timeoutMS, settings.selectionTimeoutMS ?? 0);
    await bounded(bound, () => client.connect(), pending).catch((error) => {
      throw connectError(settings, error);
    });
    const db = client.db(settings.dbName);
    const info = await bounded(settings.timeoutMS, () => db.command({ buildInfo: 1 }), pending)
      .catch((error) => {
        throw prepareError(settings, "asking the server which version it is", error);
      });
    const session: Session = {
      client,
      programs: db.collection(COLLECTIONS.program),
      executions: db.collection(COLLECTIONS.execution),
      history: db.collection(COLLECTIONS.history),
      outputs: db.collection(COLLECTIONS.output),
      metadata: db.collection(COLLECTIONS.metadata),
      bson: driver.BSON,
      server: typeof info.ferretdbVersion === "string" ? "ferretdb" : "mongodb",
      pending,
    };
    await createIndexes(settings, session);
    return session;
  } catch (error) {
    await closeSession(settings, { client, pending });
    throw error;
  }
}

/**
 * Closes the client, then waits for the driver calls a deadline gave up on (the driver
 * may retry them after a backoff), each wait at most `timeoutMS`: against a server that
 * stopped answering, the driver's goodbye would wait for its socket to time out.
 */
export async function closeSession(
  settings: Settings,
  session: Pick<Session, "client" | "pending">,
): Promise<void> {
  // The client is unusable either way; a failure to close cleanly is nothing to act on.
  await bounded(settings.timeoutMS, () => session.client.close()).catch(() => {});
  await bounded(settings.timeoutMS, () => Promise.all(session.pending)).catch(() => {});
}

async function loadDriver(settings: Settings): Promise<typeof Driver> {
  try {
    return await import("mongodb");
  } catch (error) {
    throw new ConnectionError(
      `Cannot load the MongoDB driver, the "mongodb" package ` +
        `(${settings.redact.describe(error)}); add it to your project with ` +
        '"deno add npm:mongodb" (Deno), "npm install mongodb" (Node.js) or ' +
        '"bun add mongodb" (Bun), then connect again',
      { cause: settings.redact.error(error) },
    );
  }
}

async function createIndexes(settings: Settings, session: Session): Promise<void> {
  // One index per command: FerretDB v1 fails on several at once.
  for (const spec of INDEXES) {
    const { collection, key, unique } = spec;
    try {
      await bounded(
        settings.timeoutMS,
        () => sessionCollection(session, collection).createIndex(key, unique ? { unique } : {}),
        session.pending,
      );
    } catch (error) {
      // MongoDB says E11000; FerretDB passes on SQLite's "UNIQUE constraint failed".
      throw (unique ? await duplicateError(settings, session, spec, error) : undefined) ??
        prepareError(settings, `creating the indexes of "${COLLECTIONS[collection]}"`, error);
    }
  }
}

function sessionCollection(
  session: Session,
  collection: keyof typeof COLLECTIONS,
): Collection<StoredDocument> {
  switch (collection) {
    case "program":
      return session.programs;
    case "execution":
      return session.executions;
    case "history":
      return session.history;
    case "output":
      return session.outputs;
    case "metadata":
      return session.metadata;
  }
}

/**
 * The error for a unique index that old data keeps from being built, naming a duplicate;
 * `undefined` when there is none.
 */
async function duplicateError(
  settings: Settings,
  session: Session,
  spec: IndexSpec,
  error: unknown,
): Promise<ConnectionError | undefined> {
  const name = `${settings.dbName}.${COLLECTIONS[spec.collection]}`;
  const fields = Object.keys(spec.key);
  const group = Object.fromEntries(fields.map((field) => [field, `$${field}`]));
  const found = await bounded(
    settings.timeoutMS,
    () =>
      sessionCollection(session, spec.collection).aggregate([
        { $group: { _id: group, count: { $sum: 1 } } },
        { $match: { count: { $gt: 1 } } },
        { $limit: 1 },
      ]).toArray(),
    session.pending,
  ).catch(() => []);
  if (found.length === 0) return undefined;
  const key = describeKey(found[0]._id as Record<string, unknown>);
  return new ConnectionError(
    `Cannot prepare database "${settings.dbName}" at "${settings.display}": collection ` +
      `"${name}" holds ${found[0].count} documents with ${key}, so its unique index on ` +
      `${fields.join(", ")} cannot be built; keep one of them (for example with ` +
      `db.${COLLECTIONS[spec.collection]}.find(${filterText(found[0]._id)}) in mongosh ` +
      "to see them) and connect again",
    { cause: settings.redact.error(error) },
  );
}

function describeKey(key: Record<string, unknown>): string {
  return Object.entries(key).map(([field, value]) => `${field} ${showValue(value)}`).join(", ");
}

function filterText(key: unknown): string {
  const entries = Object.entries(key as Record<string, unknown>)
    .map(([field, value]) => `${field}: ${showValue(value)}`);
  return `{ ${entries.join(", ")} }`;
}

function showValue(value: unknown): string {
  return value instanceof Date ? `ISODate("${value.toISOString()}")` : JSON.stringify(value);
}

function prepareError(settings: Settings, doing: string, error: unknown): ConnectionError {
  return new ConnectionError(
    `Cannot prepare database "${settings.dbName}" at "${settings.display}": ${doing} ` +
      `failed (${settings.redact.describe(error)}); make sure the server is running and the ` +
      "user may read the database and create indexes, then connect again",
    { cause: error instanceof Error ? settings.redact.error(error) : undefined },
  );
}

function connectError(settings: Settings, error: unknown): ConnectionError {
  const where = `Cannot connect to MongoDB at "${settings.display}"`;
  const detail = settings.redact.describe(error);
  let next: string;
  if (isNotCapable(error)) {
    next = "under Deno, grant --allow-net and --allow-env";
  } else if (errorName(error) === "MongoServerSelectionError" || errorName(error) === "Deadline") {
    const ms = settings.selectionTimeoutMS;
    const within = ms === undefined ? "in time" : `within ${ms} ms`;
    next = `no server answered ${within}; check that the server is running and reachable ` +
      "from here, or raise serverSelectionTimeoutMS";
  } else if (errorCode(error) === 18 || /auth/i.test(errorName(error))) {
    next = "check the user name, password and authSource in the connection string";
  } else {
    next = "check the connection string and that the server is running";
  }
  return new ConnectionError(`${where}: ${detail}; ${next}`, {
    cause: settings.redact.error(error),
  });
}
