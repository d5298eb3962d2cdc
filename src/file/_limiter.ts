// Bounds the file descriptors the file backend holds at once, and retries the failures that
// pass by themselves. Without a bound, 3,000 concurrent saves open 3,000 temp files and the
// process runs out of descriptors (EMFILE) under an ordinary `ulimit -n`.
//
// One limiter serves every copy of this module in a thread (it lives on `globalThis`), so
// two versions of the library in one program share the bound. Workers and worker_threads
// have their own `globalThis` and so their own bound: a transient EMFILE between threads is
// retried like any other.

/**
 * How many operations that hold a file descriptor may run at once, per thread. Not more:
 * with 128, Deno itself (its signal set-up) failed with EMFILE under `ulimit -n 256` while
 * 3,000 saves ran (tests/fd_limit_test.ts).
 */
export const MAX_OPEN = 64;

/** Releases without EMFILE that raise a lowered limit by one. */
const CALM = 8;

/** Codes that pass by themselves: another descriptor closes, a lock or a scan ends. */
const TRANSIENT = new Set(["EMFILE", "ENFILE", "EAGAIN", "EBUSY"]);
/** Windows fails a rename or unlink with these while another process has the file open. */
const TRANSIENT_ON_WINDOWS = new Set(["EPERM", "EACCES"]);

/** How long transient failures are retried; tests lower it. */
export const retryPolicy = {
  /** Give up once this long has passed since the first failure. */
  budgetMs: 10_000,
  /** The first pause; it doubles on each retry, up to `maxDelayMs`, with jitter. */
  firstDelayMs: 1,
  maxDelayMs: 200,
};

/** A counting semaphore whose limit drops when the process runs out of descriptors. */
class Limiter {
  /** The limit now: lowered on EMFILE to what was open then, raised back slowly. */
  limit = MAX_OPEN;
  active = 0;
  /** Releases since the limit last changed; every `CALM` of them raise it by one. */
  #calm = 0;
  readonly #waiting: (() => void)[] = [];

  acquire(): Promise<void> | undefined {
    if (this.active < this.limit && this.#waiting.length === 0) {
      this.active++;
      return undefined;
    }
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  release(): void {
    this.active--;
    if (this.limit < MAX_OPEN && ++this.#calm >= CALM) {
      this.limit++;
      this.#calm = 0;
    }
    while (this.active < this.limit && this.#waiting.length > 0) {
      this.active++;
      this.#waiting.shift()!();
    }
  }

  /** The process is out of descriptors with `active` of ours open: hold at fewer. */
  shrink(): void {
    this.limit = Math.max(1, this.active - 1);
    this.#calm = 0;
  }
}

const KEY = Symbol.for("@cvm/storage/descriptor-limiter");

function limiter(): Limiter {
  const global = globalThis as { [KEY]?: Limiter };
  return global[KEY] ??= new Limiter();
}

/** The `code` of a file-system error. */
function codeOf(error: unknown): unknown {
  return (error as { code?: unknown } | null)?.code;
}

/** Whether the failure of `op` with `error` is worth retrying. */
function transient(error: unknown, op: string, windows: boolean): boolean {
  const code = codeOf(error);
  if (typeof code !== "string") return false;
  if (TRANSIENT.has(code)) return true;
  return windows && (op === "rename" || op === "unlink" || op === "link") &&
    TRANSIENT_ON_WINDOWS.has(code);
}

function pause(attempt: number): Promise<void> {
  const delay = Math.min(retryPolicy.firstDelayMs * 2 ** attempt, retryPolicy.maxDelayMs);
  return new Promise((resolve) => setTimeout(resolve, delay * (0.5 + Math.random())));
}

/** What a guarded operation needs to know. */
export interface GuardOptions {
  /** The operation's name, for the Windows rename rule. */
  op: string;
  /** Whether the operation holds a descriptor while it runs (an open, a read, a scan). */
  descriptor: boolean;
  /** Whether this is Windows. */
  windows: boolean;
}

/**
 * Runs `work`, holding a descriptor slot while it runs if it needs one, and retries it
 * with backoff while it fails with a transient error. With `keep`, a successful result
 * keeps its slot, and `keep` receives the function that frees it (for a handle's close).
 */
export async function guarded<T>(
  work: () => T | Promise<T>,
  options: GuardOptions,
  keep?: (result: T, release: () => void) => T,
): Promise<T> {
  const slots = options.descriptor ? limiter() : undefined;
  let started: number | undefined;
  for (let attempt = 0;; attempt++) {
    const wait = slots?.acquire();
    if (wait !== undefined) await wait;
    let result: T;
    try {
      result = await work();
    } catch (error) {
      const code = codeOf(error);
      if (slots !== undefined && (code === "EMFILE" || code === "ENFILE")) slots.shrink();
      slots?.release();
      started ??= Date.now();
      if (!transient(error, options.op, options.windows)) throw error;
      if (Date.now() - started >= retryPolicy.budgetMs) throw error;
      await pause(attempt);
      continue;
    }
    if (slots === undefined) return result;
    if (keep === undefined) {
      slots.release();
      return result;
    }
    let released = false;
    return keep(result, () => {
      if (released) return;
      released = true;
      slots.release();
    });
  }
}

/** How many descriptor slots are in use and the limit now, for tests. */
export function descriptorUse(): { active: number; limit: number } {
  const { active, limit } = limiter();
  return { active, limit };
}
