// Driver failures as storage errors: which class, whether a write may have been stored,
// and what the caller should do next.

import { ConnectionError, NotConnectedError, StorageError } from "../errors.ts";
import { Deadline } from "./_call.ts";
import type { Redactor } from "./_redact.ts";

/** MongoDB's duplicate-key error code. */
export const DUPLICATE_KEY = 11000;

/** What a failed call was doing, for its error. */
export interface Failed {
  /** `Cannot save program "p1"`. */
  what: string;
  /** Whether the call writes. */
  write: boolean;
  /** What makes a retry safe, or not, after a write that may have been stored. */
  retry: string;
}

/** Driver errors raised before anything was sent. */
const NOT_SENT = new Set([
  "MongoServerSelectionError",
  "MongoPoolClearedError",
  "MongoNotConnectedError",
  "MongoTopologyClosedError",
  "MongoClientClosedError",
]);

/** Driver errors that mean the connection, not the request, failed. */
const NETWORK =
  /^Mongo(Network|NetworkTimeout|ServerSelection|PoolCleared|TopologyClosed|ServerClosed|NotConnected)Error$/;

/**
 * The storage error for a failed driver call.
 *
 * @param error What the driver (or the deadline) threw.
 * @param failed The call.
 * @param context The connection as messages show it, whether the adapter is still
 * connected, and the redactor for the driver's text.
 */
export function mapFailure(
  error: unknown,
  failed: Failed,
  context: { display: string; connected: boolean; redact: Redactor },
): StorageError {
  if (error instanceof StorageError) return error;
  const { what, write, retry } = failed;
  const name = errorName(error);
  const maybeStored = write && !NOT_SENT.has(name) && !isServerReply(error);
  const stored = maybeStored ? `; it may have been stored, ${retry}` : "";
  const cause = error instanceof Deadline ? undefined : context.redact.error(error);
  if (!context.connected) {
    const message = `${what}: the MongoDBAdapter for "${context.display}" was disconnected ` +
      `while the call was running${stored}; call connect() and try again`;
    return maybeStored
      ? new ConnectionError(message, { cause, maybeStored })
      : new NotConnectedError(message);
  }
  if (error instanceof Deadline || NETWORK.test(name)) {
    const detail = error instanceof Deadline
      ? `did not answer within ${error.ms} ms`
      : `could not be reached (${context.redact.describe(error)})`;
    return new ConnectionError(
      `${what}: MongoDB at "${context.display}" ${detail}${stored}; check that the server ` +
        "is running and reachable, or raise timeoutMS",
      { cause, maybeStored },
    );
  }
  return new StorageError(
    `${what}: MongoDB at "${context.display}" failed (${context.redact.describe(error)})` +
      `${stored}; check the server's log, then try again`,
    { code: "IO", cause, maybeStored },
  );
}

/**
 * Whether the server answered the request with an error, so that a write did not happen
 * (a write-concern error is the exception: the write was applied).
 */
function isServerReply(error: unknown): boolean {
  const name = errorName(error);
  return (name === "MongoServerError" || name === "MongoBulkWriteError" ||
    name === "MongoWriteError") && typeof errorCode(error) === "number";
}

/** Whether a driver error is a duplicate key. */
export function isDuplicateKey(error: unknown): boolean {
  return errorCode(error) === DUPLICATE_KEY;
}

/** An error's `code`, if it has one. */
export function errorCode(error: unknown): unknown {
  return error !== null && typeof error === "object"
    ? (error as { code?: unknown }).code
    : undefined;
}

/** An error's name, or `""`. */
export function errorName(error: unknown): string {
  return error instanceof Error ? error.name : "";
}

/** Whether Deno refused a permission anywhere in the error's cause chain. */
export function isNotCapable(error: unknown): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e.name === "NotCapable" || e.name === "PermissionDenied") return true;
  }
  return false;
}
