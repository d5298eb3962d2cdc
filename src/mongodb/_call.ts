// One adapter call's exchanges with the server, each bounded in time.

import type { AbstractCursor } from "mongodb";
import type { Session } from "./_connection.ts";

/** The adapter's own deadline passed before the server answered. */
export class Deadline extends Error {
  /** @param ms How long the call waited. */
  constructor(readonly ms: number) {
    super(`no answer within ${ms} ms`);
    this.name = "Deadline";
  }
}

/** What a call's helpers need: the connection and a bound on each exchange. */
export interface Call {
  session: Session;
  /** Runs one exchange with the server, failing with `Deadline` after `timeoutMS`. */
  step<T>(work: () => Promise<T>): Promise<T>;
  /** The bound on each exchange, also sent to the server as `maxTimeMS` on reads. */
  timeoutMS: number;
}

/**
 * Runs `work`, giving up after `ms` milliseconds. The driver's promise is left to settle
 * on its own (its socket times out too); `pending` holds it until it does, so that
 * `disconnect()` can wait for it.
 *
 * @throws {Deadline} When the time runs out first.
 */
export function bounded<T>(
  ms: number,
  work: () => Promise<T>,
  pending?: Set<Promise<unknown>>,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const running = work();
  const settled = running.then(() => {}, () => {});
  if (pending !== undefined) {
    pending.add(settled);
    settled.then(() => pending.delete(settled));
  }
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Deadline(ms)), ms);
  });
  return Promise.race([running, expired]).finally(() => clearTimeout(timer));
}

/**
 * Reads a cursor batch by batch, each batch bounded by the call's deadline, until it
 * ends or `take` returns `false`; then closes it.
 *
 * @param take Receives each document; returns whether to go on.
 */
export async function readCursor<T>(
  call: Call,
  cursor: AbstractCursor<T>,
  take: (document: T) => boolean,
): Promise<void> {
  let failed = true;
  try {
    while (await call.step(() => cursor.hasNext())) {
      for (const document of cursor.readBufferedDocuments()) {
        if (!take(document)) {
          failed = false;
          return;
        }
      }
    }
    failed = false;
  } finally {
    if (!cursor.closed) {
      // After a failure the server may not answer: do not wait for the goodbye.
      const closing = call.step(() => cursor.close()).catch(() => {});
      if (!failed) await closing;
    }
  }
}

/**
 * Yields a cursor's documents batch by batch, each batch bounded by the call's deadline,
 * until it ends or the caller stops; then closes it.
 */
export async function* cursorBatches<T>(
  call: Call,
  cursor: AbstractCursor<T>,
): AsyncGenerator<T[]> {
  let failed = false;
  try {
    while (await call.step(() => cursor.hasNext())) {
      yield cursor.readBufferedDocuments();
    }
  } catch (error) {
    failed = true;
    throw error;
  } finally {
    if (!cursor.closed) {
      // After a failure the server may not answer: do not wait for the goodbye.
      const closing = call.step(() => cursor.close()).catch(() => {});
      if (!failed) await closing;
    }
  }
}
