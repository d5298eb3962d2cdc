// The MongoDB adapter's options: checked once, in the constructor, and turned into the
// settings `connect()` uses. Nothing here talks to a server or loads the driver.

import { ConfigError } from "../errors.ts";
import { Redactor } from "./_redact.ts";
import { optionSecrets, parseUri } from "./_uri.ts";

/**
 * Options for {@linkcode MongoDBAdapter}.
 *
 * @example
 * ```ts
 * import { MongoDBAdapter, type MongoDBOptions } from "@cvm/storage";
 *
 * const options: MongoDBOptions = {
 *   uri: "mongodb://127.0.0.1:27017/cvm",
 *   timeoutMS: 3000,
 * };
 * const storage = new MongoDBAdapter(options);
 * ```
 */
export interface MongoDBOptions {
  /** A `mongodb://` or `mongodb+srv://` connection string. */
  uri: string;
  /** The database; else the URI's path; else `"cvm"`. */
  dbName?: string;
  /**
   * How long `connect()` waits for a server, in milliseconds. Default: the URI's or
   * `clientOptions`' `serverSelectionTimeoutMS`, else `timeoutMS`.
   */
  serverSelectionTimeoutMS?: number;
  /**
   * The longest any call waits for the server to answer, in milliseconds: a server that
   * cannot be reached, or accepts connections and never answers, fails each call after
   * this long. A call that reads many batches (a long history) waits this long for each.
   * Default 5000.
   */
  timeoutMS?: number;
  /**
   * Passed to the driver's `MongoClient` as they are, but for the BSON options the
   * document mapping depends on (`raw`, `promoteValues`, `fieldsAsRaw` and the like).
   * `connectTimeoutMS` and `socketTimeoutMS` default to `timeoutMS` when neither these
   * nor the URI set them.
   */
  clientOptions?: Record<string, unknown>;
}

/** What the constructor settled. */
export interface Settings {
  uri: string;
  dbName: string;
  /** The URI as messages show it. */
  display: string;
  redact: Redactor;
  timeoutMS: number;
  /** How long `connect()` waits for a server. */
  selectionTimeoutMS: number | undefined;
  /** The options for `new MongoClient()`. */
  clientOptions: Record<string, unknown>;
}

/** The database used when neither `dbName` nor the URI names one. */
export const DEFAULT_DB = "cvm";
/** The default `timeoutMS`. */
export const DEFAULT_TIMEOUT_MS = 5000;
/** The driver's BSON options the document mapping needs; `clientOptions` cannot change them. */
const BSON_OPTIONS = {
  raw: false,
  promoteValues: true,
  promoteLongs: true,
  promoteBuffers: false,
  bsonRegExp: false,
  useBigInt64: false,
  ignoreUndefined: false,
  serializeFunctions: false,
  checkKeys: false,
};
/** Characters MongoDB does not allow in database names. */
const BAD_DB_CHARS = /[/\\. "$*<>:|?\0]/;

/**
 * Checks the constructor's argument.
 *
 * @throws {ConfigError} For anything but a valid URI and valid options.
 */
export function readOptions(uri: string | MongoDBOptions): Settings {
  const options = typeof uri === "string" ? { uri } : uri;
  if (typeof options?.uri !== "string" || !/^mongodb(\+srv)?:\/\/./.test(options.uri)) {
    throw new ConfigError(
      'The MongoDB URI must start with "mongodb://" or "mongodb+srv://"; set MONGODB_URI ' +
        "or mongoUri to a MongoDB connection string",
    );
  }
  const parsed = parseUri(options.uri);
  if (parsed.ambiguous) {
    throw new ConfigError(
      'The MongoDB URI has an "@" after its host list, so its credentials cannot be told ' +
        'apart from the rest; percent-encode "@", ":", "/" and "?" in the user name, ' +
        'password and options (for example "@" as "%40")',
    );
  }
  const { clientOptions = {}, serverSelectionTimeoutMS, timeoutMS } = options;
  if (clientOptions === null || typeof clientOptions !== "object") {
    throw new ConfigError(
      "The MongoDB clientOptions must be an object of MongoClient options, or left out",
    );
  }
  checkMilliseconds("serverSelectionTimeoutMS", serverSelectionTimeoutMS, "timeoutMS");
  checkMilliseconds("timeoutMS", timeoutMS, String(DEFAULT_TIMEOUT_MS));
  const dbName = options.dbName ?? parsed.dbName ?? DEFAULT_DB;
  checkDbName(dbName, options.dbName !== undefined ? "dbName" : "the URI's path");

  const bound = timeoutMS ?? DEFAULT_TIMEOUT_MS;
  const given = (name: string) =>
    parsed.options.has(name.toLowerCase()) || clientOptions[name] !== undefined;
  const client: Record<string, unknown> = { ...clientOptions };
  // The driver's own defaults wait 30 s for a connection and forever for a reply: a
  // connection whose reply never comes would hold its pool slot for good.
  if (!given("connectTimeoutMS")) client.connectTimeoutMS = bound;
  if (!given("socketTimeoutMS")) client.socketTimeoutMS = bound;
  if (serverSelectionTimeoutMS !== undefined) {
    client.serverSelectionTimeoutMS = serverSelectionTimeoutMS;
  } else if (!given("serverSelectionTimeoutMS")) {
    client.serverSelectionTimeoutMS = bound;
  }
  // The document mapping relies on the driver's default BSON handling, but for one fix:
  // with `fieldsAsRaw: {}` the driver reads an array under a key such as "constructor"
  // (any Object.prototype name) as raw bytes.
  Object.assign(client, BSON_OPTIONS, { fieldsAsRaw: Object.create(null) });
  const selection = client.serverSelectionTimeoutMS ??
    Number(parsed.options.get("serverselectiontimeoutms"));
  return {
    uri: options.uri,
    dbName,
    display: parsed.display,
    redact: new Redactor(options.uri, parsed.display, [
      ...parsed.secrets,
      ...optionSecrets(clientOptions),
    ]),
    timeoutMS: bound,
    selectionTimeoutMS: typeof selection === "number" && selection > 0 ? selection : undefined,
    clientOptions: client,
  };
}

function checkMilliseconds(name: string, value: unknown, fallback: string): void {
  if (
    value !== undefined &&
    (typeof value !== "number" || !(value > 0) || !Number.isFinite(value))
  ) {
    throw new ConfigError(
      `The MongoDB ${name} must be a positive number of milliseconds, not ` +
        `${String(value)}; leave it out for ${fallback}`,
    );
  }
}

function checkDbName(name: unknown, source: string): void {
  const problem = typeof name !== "string"
    ? "is not a string"
    : name === ""
    ? "is empty"
    : new TextEncoder().encode(name).length > 63
    ? "is longer than 63 bytes"
    : BAD_DB_CHARS.test(name)
    ? 'contains one of / \\ . space " $ * < > : | ? or NUL'
    : undefined;
  if (problem !== undefined) {
    throw new ConfigError(
      `The MongoDB database name from ${source} ${problem}; choose a name of 1 to 63 bytes ` +
        `without / \\ . space " $ * < > : | ? or NUL, or leave it out for "${DEFAULT_DB}"`,
    );
  }
}
