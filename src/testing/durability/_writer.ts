/**
 * One concurrent writer of the kit's concurrency test, in a process's main thread or in a
 * Worker: it saves its versions of the shared records, its own history entries and output
 * appends, races the others for contested and agreed history keys, and reports each
 * outcome.
 *
 * @module
 */

import type { StorageAdapter } from "../../types.ts";
import { now, waitUntil } from "./_child_io.ts";
import {
  agreedHistory,
  contestedHistory,
  SHARED_EXECUTION_ID,
  writerExecution,
  writerHistory,
  writerLines,
  writerProgram,
} from "./_records.ts";

/** Reconnect with a new adapter every this many writes, while the others write. */
const RECONNECT_EVERY = 8;

/** A report: one JSON line of the process, or one message of a Worker. */
export type Reporter = (report: Record<string, unknown>) => void;

/** A command from the parent test. */
export type Command =
  | { kind: "go" }
  | { kind: "contest" | "agree"; step: number; time: number };

/** One writer. */
export class Writer {
  #storage!: StorageAdapter;
  /** Calls in flight per adapter, so an adapter is disconnected only once they are done. */
  #inFlight = new Map<StorageAdapter, Set<Promise<unknown>>>();
  #races: Promise<void>[] = [];
  #go!: () => void;
  #started = new Promise<void>((resolve) => this.#go = resolve);
  #loop: Promise<void> | undefined;
  #writes = 0;

  constructor(
    readonly writer: number,
    readonly create: () => Promise<StorageAdapter>,
    readonly count: number,
    readonly report: Reporter,
  ) {}

  /** Connects, and starts the write loop, which waits for `go`. */
  async start(): Promise<void> {
    this.#storage = await this.create();
    await this.#storage.connect();
    this.#loop = this.#run();
  }

  /** Handles a command from the parent. */
  command(command: Command): void {
    if (command.kind === "go") this.#go();
    else this.#races.push(this.#race(command.kind, command.step, command.time));
  }

  /** Waits for the loop and every race, disconnects, and reports `done`. */
  async finish(): Promise<void> {
    this.#go();
    await this.#loop;
    await Promise.all(this.#races);
    await this.#storage.disconnect();
    this.report({ kind: "done", writer: this.writer, writes: this.#writes });
  }

  /** Runs `fn` on the adapter in use, keeping track of it until it settles. */
  #use<T>(fn: (storage: StorageAdapter) => Promise<T>): Promise<T> {
    const storage = this.#storage;
    const pending = this.#inFlight.get(storage) ?? new Set();
    this.#inFlight.set(storage, pending);
    const promise = fn(storage);
    pending.add(promise);
    const settle = () => {
      pending.delete(promise);
    };
    promise.then(settle, settle);
    return promise;
  }

  async #race(kind: "contest" | "agree", step: number, time: number): Promise<void> {
    await waitUntil(time);
    const at = now();
    const entry = kind === "contest" ? contestedHistory(this.writer, step) : agreedHistory(step);
    try {
      await this.#use((storage) => storage.saveHistory(entry));
      this.#writes++;
      this.report({ kind, writer: this.writer, step, at, outcome: "saved" });
    } catch (error) {
      const code = (error as { code?: unknown })?.code;
      const outcome = code === "CONFLICT" ? "conflict" : "error";
      this.report({ kind, writer: this.writer, step, at, outcome, message: String(error) });
    }
  }

  async #attempt(what: string, seq: number, write: () => Promise<void>): Promise<boolean> {
    try {
      await write();
      this.#writes++;
      return true;
    } catch (error) {
      this.report({ kind: "error", writer: this.writer, what, seq, message: String(error) });
      return false;
    }
  }

  async #reconnect(seq: number): Promise<void> {
    const next = await this.create();
    const connected = await this.#attempt("connect", seq, () => next.connect());
    if (!connected) return;
    // Swap first, so that races started from now on use the new adapter; the old one is
    // disconnected once its calls are done.
    const old = this.#storage;
    this.#storage = next;
    await Promise.allSettled([...this.#inFlight.get(old) ?? []]);
    this.#inFlight.delete(old);
    await old.disconnect();
  }

  async #run(): Promise<void> {
    await this.#started;
    const w = this.writer;
    for (let seq = 0; seq < this.count; seq++) {
      if (seq % RECONNECT_EVERY === RECONNECT_EVERY - 1) await this.#reconnect(seq);
      await this.#attempt(
        "execution",
        seq,
        () => this.#use((s) => s.saveExecution(writerExecution(w, seq))),
      );
      await this.#attempt(
        "program",
        seq,
        () => this.#use((s) => s.saveProgram(writerProgram(w, seq))),
      );
      await this.#attempt(
        "history",
        seq,
        () => this.#use((s) => s.saveHistory(writerHistory(w, seq))),
      );
      await this.#attempt(
        "output",
        seq,
        () => this.#use((s) => s.appendOutput(SHARED_EXECUTION_ID, writerLines(w, seq))),
      );
      await this.#attempt(
        "current",
        seq,
        () => this.#use((s) => s.setCurrentExecutionId(`w${w}-s${seq}`)),
      );
    }
    this.report({ kind: "looped", writer: w });
  }
}
