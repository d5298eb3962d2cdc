/**
 * Runs one of the kit's child scripts in a new Deno process and reads its reports, one
 * JSON object a line. Deno only.
 *
 * @module
 */

/** One report of a child: an object with a `kind`. */
export interface Report {
  kind: string;
  [field: string]: unknown;
}

/** A running child process. */
export interface Child {
  /** Its process id. */
  readonly pid: number;
  /** The reports received so far (a line cut short by a kill is left out). */
  readonly reports: Report[];
  /**
   * Resolves with whether `test(reports)` became true: `false` once stdout has closed or
   * `timeoutMs` (default a minute) has passed.
   */
  waitUntil(test: (reports: Report[]) => boolean, timeoutMs?: number): Promise<boolean>;
  /** Writes one line to the child's stdin. */
  send(line: string): Promise<void>;
  /** Closes the child's stdin. */
  closeStdin(): Promise<void>;
  /** Sends SIGKILL unless the child has exited; never throws. */
  kill(): void;
  /** Waits for the child to exit and its output to be read in full. */
  finish(): Promise<{ code: number; signal: string | null; stderr: string }>;
}

/** How to start children. */
export interface SpawnSettings {
  /** Permission flags. */
  permissions: readonly string[];
  /** Other flags for `deno run`, such as `--config`. */
  runArgs: readonly string[];
  /** The working directory. */
  cwd: string;
}

/** Starts `deno run <flags> <script> ...args`; the script is a file of this directory. */
export function spawnChild(
  script: string,
  args: readonly string[],
  settings: SpawnSettings,
): Child {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      ...settings.permissions,
      ...settings.runArgs,
      new URL(script, import.meta.url).href,
      ...args,
    ],
    cwd: settings.cwd,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reports: Report[] = [];
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
      const lines = pending.split("\n");
      pending = lines.pop()!;
      for (const line of lines) {
        try {
          reports.push(JSON.parse(line) as Report);
        } catch {
          reports.push({ kind: "error", message: `unexpected output: ${line.slice(0, 200)}` });
        }
      }
      if (lines.length > 0) notify();
    }
    open = false;
    notify();
  })();
  const stderr = new Response(child.stderr).text();
  const writer = child.stdin.getWriter();
  let stdinOpen = true;
  const encoder = new TextEncoder();
  let exited = false;
  const status = child.status.finally(() => exited = true);
  const waitUntil = (test: (reports: Report[]) => boolean, timeoutMs = 60_000) =>
    new Promise<boolean>((resolve) => {
      const done = (reached: boolean) => {
        waiters.delete(check);
        clearTimeout(timer);
        resolve(reached);
      };
      const check = () => {
        if (test(reports)) done(true);
        else if (!open) done(false);
      };
      const timer = setTimeout(() => done(false), timeoutMs);
      waiters.add(check);
      check();
    });
  const closeStdin = async () => {
    if (!stdinOpen) return;
    stdinOpen = false;
    await writer.close().catch(() => {});
  };
  return {
    pid: child.pid,
    reports,
    waitUntil,
    async send(line) {
      await writer.write(encoder.encode(`${line}\n`));
    },
    closeStdin,
    kill() {
      if (exited) return;
      try {
        child.kill("SIGKILL");
      } catch {
        // It exited meanwhile.
      }
    },
    async finish() {
      await closeStdin();
      const result = await status;
      await stdout;
      return { code: result.code, signal: result.signal, stderr: await stderr };
    },
  };
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
