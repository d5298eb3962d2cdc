// Runs a worker script in a child Deno process and reads its stdout line by line.

/** The repository root: children run there, so they see the same deno.json as the tests. */
const ROOT = new URL("../../", import.meta.url);

/** A running worker process. */
export interface Worker {
  /** The child process. */
  readonly child: Deno.ChildProcess;
  /** The complete stdout lines received so far (a line cut short by a kill is left out). */
  readonly lines: string[];
  /**
   * Resolves with whether `lines` reached `count`: `false` once stdout has closed or
   * `timeoutMs` has passed.
   */
  waitForLines(count: number, timeoutMs?: number): Promise<boolean>;
  /**
   * Resolves with whether `test(lines)` became true: `false` once stdout has closed or
   * `timeoutMs` (default a minute) has passed.
   */
  waitUntil(test: (lines: string[]) => boolean, timeoutMs?: number): Promise<boolean>;
  /** Writes one line to the worker's stdin. */
  send(line: string): Promise<void>;
  /** Closes the worker's stdin. */
  closeStdin(): Promise<void>;
  /** Sends SIGKILL unless the worker has exited; never throws. */
  kill(): void;
  /** Waits for the worker to exit and its output to be read in full. */
  finish(): Promise<{ status: Deno.CommandStatus; stderr: string }>;
}

/** Whether this test run may spawn child processes (`--allow-run`, `--allow-read`). */
export const canSpawn = Deno.permissions.querySync({ name: "run" }).state === "granted" &&
  Deno.permissions.querySync({ name: "read" }).state === "granted";

/** Options for {@linkcode spawnWorker}. */
export interface SpawnOptions {
  /** Pipe stdin, for commands. */
  stdin?: boolean;
  /** Permission flags; default `--allow-read --allow-write`, what the README documents. */
  permissions?: string[];
}

/**
 * Starts `deno run <permissions> <script> ...args` in the repository root.
 *
 * @param script The worker's file name in `tests/_workers/`.
 * @param args Its arguments.
 * @param options Pipe stdin, other permissions.
 */
export function spawnWorker(script: string, args: string[], options: SpawnOptions = {}): Worker {
  const permissions = options.permissions ?? ["--allow-read", "--allow-write"];
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...permissions, new URL(script, import.meta.url).href, ...args],
    cwd: ROOT,
    stdin: options.stdin ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  let open = true;
  const notify = () => {
    for (const waiter of waiters) waiter();
  };
  const stdout = (async () => {
    const decoder = new TextDecoder();
    let pending = "";
    for await (const chunk of child.stdout) {
      pending += decoder.decode(chunk, { stream: true });
      const parts = pending.split("\n");
      pending = parts.pop()!;
      if (parts.length > 0) {
        lines.push(...parts);
        notify();
      }
    }
    open = false;
    notify();
  })();
  const stderr = new Response(child.stderr).text();
  const writer = options.stdin ? child.stdin.getWriter() : undefined;
  let stdinOpen = writer !== undefined;
  const encoder = new TextEncoder();
  let exited = false;
  const status = child.status.finally(() => exited = true);
  const waitUntil = (test: (lines: string[]) => boolean, timeoutMs = 60_000) =>
    new Promise<boolean>((resolve) => {
      const done = (reached: boolean) => {
        waiters.delete(check);
        clearTimeout(timer);
        resolve(reached);
      };
      const check = () => {
        if (test(lines)) done(true);
        else if (!open) done(false);
      };
      const timer = setTimeout(() => done(false), timeoutMs);
      waiters.add(check);
      check();
    });

  return {
    child,
    lines,
    waitForLines: (count, timeoutMs) => waitUntil(() => lines.length >= count, timeoutMs),
    waitUntil,
    async send(line) {
      await writer!.write(encoder.encode(`${line}\n`));
    },
    async closeStdin() {
      if (!stdinOpen) return;
      stdinOpen = false;
      await writer!.close().catch(() => {});
    },
    kill() {
      if (exited) return;
      try {
        child.kill("SIGKILL");
      } catch {
        // It exited meanwhile.
      }
    },
    async finish() {
      if (stdinOpen) {
        stdinOpen = false;
        await writer!.close().catch(() => {});
      }
      const result = await status;
      await stdout;
      return { status: result, stderr: await stderr };
    },
  };
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
