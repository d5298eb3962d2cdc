// The order of connect() and disconnect(): each waits for the one before it, a call
// repeated while the same kind is running shares it, and the last call says how it ends
// (a disconnect() during a connect() wins).

/** Sequences opening and closing one resource. */
export class Lifecycle<T> {
  #current: T | undefined;
  /** The last open or close still running; later ones wait for it. */
  #transition: { kind: "open" | "close"; done: Promise<void> } | undefined;

  /** What is open, or `undefined`. */
  get current(): T | undefined {
    return this.#current;
  }

  /** Opens with `open` unless open already or opening. */
  open(open: () => Promise<T>): Promise<void> {
    const pending = this.#transition;
    if (pending?.kind === "open") return pending.done;
    if (pending === undefined && this.#current !== undefined) return Promise.resolve();
    return this.#enqueue("open", async () => {
      if (this.#current === undefined) this.#current = await open();
    });
  }

  /** Forgets what is open at once (so calls see it closed), then closes it with `close`. */
  close(close: (current: T) => Promise<void>): Promise<void> {
    const pending = this.#transition;
    if (pending?.kind === "close") return pending.done;
    if (pending === undefined && this.#current === undefined) return Promise.resolve();
    return this.#enqueue("close", async () => {
      const current = this.#current;
      this.#current = undefined;
      if (current !== undefined) await close(current);
    });
  }

  /** Runs `work` after every earlier open and close has settled. */
  #enqueue(kind: "open" | "close", work: () => Promise<void>): Promise<void> {
    const previous = this.#transition?.done.catch(() => {}) ?? Promise.resolve();
    const done = previous.then(work);
    const transition = { kind, done };
    this.#transition = transition;
    const settle = () => {
      if (this.#transition === transition) this.#transition = undefined;
    };
    done.then(settle, settle);
    return done;
  }
}
