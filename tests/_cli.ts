// Helpers for the tests of the `cvm-storage` command: running it in a subprocess, filling
// a store with varied records, and comparing two stores record by record through the
// public API (independently of the command's own digests).

import { assert } from "@std/assert";
import { deepEqual } from "../src/_deep_equal.ts";
import {
  BULK,
  type BulkHistoryItem,
  type BulkOutputItem,
  type BulkOutputOptions,
  type BulkReader,
} from "../src/_bulk.ts";
import { compareCodePoints } from "../src/query.ts";
import {
  type Execution,
  type History,
  MemoryStorageAdapter,
  type OutputQuery,
  type Program,
  type StorageAdapter,
  StorageError,
} from "../mod.ts";
import { prng } from "./_utils.ts";

/** The command's entry point. */
export const CLI = new URL("../src/cli/mod.ts", import.meta.url);
const ROOT = new URL("../", import.meta.url);

/** Whether this test run may spawn subprocesses. */
export const canRun = Deno.permissions.querySync({ name: "run" }).state === "granted";

/** What a finished command printed, and its exit status. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Options for {@linkcode runCli}. */
export interface RunOptions {
  /** Environment variables for the command (the test's environment is not passed on). */
  env?: Record<string, string>;
  /** Deno permission flags; default `-A`. */
  permissions?: string[];
  /** Text for standard input. */
  stdin?: string;
  /** Extra `deno run` flags, e.g. `--config=…`. */
  flags?: string[];
}

/** The environment a command runs with: only what it needs, so tests are hermetic. */
function childEnv(env: Record<string, string> = {}): Record<string, string> {
  const keep: Record<string, string> = {};
  for (const name of ["PATH", "HOME", "DENO_DIR", "TMPDIR", "NO_COLOR"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) keep[name] = value;
  }
  return { ...keep, NO_COLOR: "1", ...env };
}

/**
 * Runs `cvm-storage` with `args` in a Deno subprocess, from the repository root.
 *
 * @param args The arguments.
 * @param options Environment, permissions, standard input.
 * @returns The exit status and output.
 */
export async function runCli(args: string[], options: RunOptions = {}): Promise<CliResult> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      ...(options.flags ?? []),
      ...(options.permissions ?? ["-A"]),
      CLI.href,
      ...args,
    ],
    cwd: ROOT,
    env: childEnv(options.env),
    clearEnv: true,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin));
    await writer.close();
  }
  const { code, stdout, stderr } = await child.output();
  const decoder = new TextDecoder();
  return { code, stdout: decoder.decode(stdout), stderr: decoder.decode(stderr) };
}

/**
 * Starts `cvm-storage` with `args` without waiting for it, for tests that kill it.
 *
 * @param args The arguments.
 * @param options Environment.
 * @returns The child process, with piped stdout and stderr.
 */
export function spawnCli(args: string[], options: RunOptions = {}): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", ...(options.permissions ?? ["-A"]), CLI.href, ...args],
    cwd: ROOT,
    env: childEnv(options.env),
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/** What {@linkcode fillStore} writes. */
export interface FillOptions {
  programs: number;
  executions: number;
  /** History entries in all, spread over the executions. */
  history: number;
  /** Output lines in all, appended a few at a time. */
  lines: number;
  /** Seeds the choice of values. */
  seed?: number;
  /** Set the current execution. Default true. */
  current?: boolean;
}

/** Values a real VM stores that plain JSON cannot: each execution gets some of them. */
const ODD_VALUES: unknown[] = [
  NaN,
  Infinity,
  -Infinity,
  -0,
  "\ud83d", // half of an emoji pair
  "😀 ünïcödé",
  new Uint8Array([0, 1, 2, 253, 254, 255]),
  new Date(-62198755200000), // the year -1, outside ISO 8601's four digits
  { $date: "not a date" }, // a user object that looks like an encoded value
  { "a.b": 1, "": 2, __proto__x: 3, "$x": { "$y": null } },
  [[1, 2], [3, [4]]],
  "line\nbreak\r\n\ttab \u0000 nul",
  Number.MAX_SAFE_INTEGER,
  1.5e-300,
];

/**
 * Fills a store with varied records: ids that need encoding on a file system, states in
 * several styles, `NaN`, `-0`, bytes, lone surrogates, `$`-keys, step `-1`, output lines
 * that are empty or contain line breaks, and a current execution.
 *
 * @param storage A connected adapter.
 * @param options How much to write.
 */
export async function fillStore(storage: StorageAdapter, options: FillOptions): Promise<void> {
  const random = prng(options.seed ?? 1);
  const pick = () => ODD_VALUES[Math.floor(random() * ODD_VALUES.length)];
  const base = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
  const programIds: string[] = [];
  for (let i = 0; i < options.programs; i++) {
    const id = i % 3 === 0 ? `prog-${i}` : i % 3 === 1 ? `Program ${i}` : `prog/${i}/ü`;
    programIds.push(id);
    const program: Program = {
      id,
      name: `Program ${i}`,
      source: `PUSH ${i}\nPRINT`,
      bytecode: i % 2 === 0 ? new Uint8Array([i & 255, 1, 2]) : [{ op: "PUSH", arg: pick() }],
      created: new Date(base + i),
      ...(i % 4 === 0 ? { updated: null } : {}),
      ...(i % 5 === 0 ? { "$meta": { tags: ["a", pick()] } } : {}),
    };
    await storage.saveProgram(program);
  }
  const states = [
    "ready",
    "running",
    "completed",
    "error",
    "waiting_cc",
    "READY",
    "AWAITING_COGNITIVE_RESULT",
  ];
  const ids: string[] = [];
  for (let i = 0; i < options.executions; i++) {
    const id = i % 4 === 0
      ? `exec-${String(i).padStart(5, "0")}`
      : i % 4 === 1
      ? `Exec ${i}`
      : i % 4 === 2
      ? `e/${i}/..`
      : `CON${i}`;
    ids.push(id);
    const execution: Execution = {
      id,
      programId: programIds.length > 0 ? programIds[i % programIds.length] : "none",
      state: states[i % states.length],
      pc: i % 7 === 0 ? NaN : i,
      stack: [pick(), i],
      variables: { x: pick(), y: { nested: pick() }, n: i },
      created: new Date(base + 1000 * i),
      ...(i % 2 === 0 ? { error: null } : { error: `failed at ${i}` }),
      ...(i % 3 === 0 ? { updated: new Date(base + 1000 * i + 500) } : {}),
      ...(i % 5 === 0 ? { output: ["kept in the record", ""] } : {}),
      ...(i % 6 === 0 ? { ccPrompt: "What next?", heap: { "$ref": 1 } } : {}),
    };
    await storage.saveExecution(execution);
  }
  const writes: Promise<void>[] = [];
  const flush = async () => {
    await Promise.all(writes);
    writes.length = 0;
  };
  for (let n = 0; n < options.history && ids.length > 0; n++) {
    const executionId = ids[n % ids.length];
    const round = Math.floor(n / ids.length);
    const entry: History = {
      executionId,
      step: round === 0 && n % 10 === 3 ? -1 : round,
      pc: round,
      instruction: round % 2 === 0 ? "PUSH" : "CC",
      stack: [round, pick()],
      variables: { v: pick() },
      timestamp: new Date(base + round * 1000 + (n % ids.length)),
      ...(n % 9 === 0 ? { note: pick() } : {}),
    };
    writes.push(storage.saveHistory(entry));
    if (writes.length >= 32) await flush();
  }
  await flush();
  for (let n = 0; n < options.lines && ids.length > 0;) {
    const executionId = ids[Math.floor(random() * ids.length)];
    const count = Math.min(options.lines - n, 1 + Math.floor(random() * 4));
    const lines = Array.from(
      { length: count },
      (_, k) =>
        (n + k) % 11 === 0 ? "" : (n + k) % 13 === 0 ? "half \ud83d and\nnewline" : `line ${n + k}`,
    );
    await storage.appendOutput(executionId, lines);
    n += count;
  }
  if (options.current !== false && ids.length > 0) {
    await storage.setCurrentExecutionId(ids[ids.length - 1]);
  }
}

/** Every page of a paged list. */
async function listAll<T extends { id: string }>(
  list: (after: string | undefined) => Promise<T[]>,
): Promise<T[]> {
  const all: T[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await list(after);
    if (page.length === 0) return all;
    all.push(...page);
    after = page[page.length - 1].id;
  }
}

/**
 * Asserts that two stores hold the same data, read through the public API and compared
 * record by record: programs, executions, each execution's history and output, and the
 * current execution. Independent of the command's digests.
 *
 * @param a One store, connected.
 * @param b The other, connected.
 * @returns How many records and lines were compared.
 */
export async function assertSameStore(a: StorageAdapter, b: StorageAdapter): Promise<{
  programs: number;
  executions: number;
  history: number;
  lines: number;
}> {
  const same = (what: string, x: unknown, y: unknown) => assert(deepEqual(x, y), `${what} differ`);
  const programs = await listAll((after) => a.listPrograms({ after, limit: 200 }));
  same("programs", programs, await listAll((after) => b.listPrograms({ after, limit: 200 })));
  const executions = await listAll((after) => a.listExecutions({ after, limit: 200 }));
  same("executions", executions, await listAll((after) => b.listExecutions({ after, limit: 200 })));
  let history = 0;
  let lines = 0;
  for (const { id } of executions) {
    const entries = await a.getHistory(id);
    same(`the history of "${id}"`, entries, await b.getHistory(id));
    const output = await a.getOutput(id);
    same(`the output of "${id}"`, output, await b.getOutput(id));
    history += entries.length;
    lines += output.length;
  }
  same("the current execution", await a.getCurrentExecutionId(), await b.getCurrentExecutionId());
  return { programs: programs.length, executions: executions.length, history, lines };
}

/**
 * Wraps an adapter so that its writes start failing after `writes` of them succeeded, as
 * if the process died there: for interrupting a copy in the middle.
 *
 * @param storage The adapter.
 * @param writes How many writes succeed.
 * @param onWrite Called for each write that goes through.
 * @returns The wrapped adapter.
 */
export function failingAfter(
  storage: StorageAdapter,
  writes: number,
  onWrite?: () => void,
): StorageAdapter {
  let left = writes;
  const WRITES = new Set([
    "saveProgram",
    "saveExecution",
    "saveHistory",
    "appendOutput",
    "setCurrentExecutionId",
  ]);
  return new Proxy(storage, {
    get(target, property) {
      const value = Reflect.get(target, property, target);
      if (typeof value !== "function") return value;
      if (!WRITES.has(property as string)) return value.bind(target);
      return (...args: unknown[]) => {
        if (left-- <= 0) return Promise.reject(new Error("simulated crash"));
        onWrite?.();
        return value.apply(target, args);
      };
    },
  });
}

/**
 * Wraps `storage` so that its first `appendOutput` stores the lines but then fails as a
 * lost reply would: a `StorageError` with `maybeStored: true`.
 *
 * @param storage The adapter.
 * @returns The wrapped adapter.
 */
export function losingFirstAppendReply<T extends StorageAdapter>(storage: T): T {
  let lost = 1;
  return new Proxy(storage, {
    get(target, property) {
      const value = Reflect.get(target, property, target);
      if (property !== "appendOutput") {
        return typeof value === "function" ? value.bind(target) : value;
      }
      return async (id: string, lines: string[]) => {
        await target.appendOutput(id, lines);
        if (lost-- > 0) throw new StorageError("reply lost", { maybeStored: true });
      };
    },
  });
}

/**
 * `MONGODB_URI` with its database replaced by `name`, or `undefined` when it is not set.
 *
 * @param name The database.
 * @returns The URI.
 */
export function mongoDatabaseUri(name: string): string | undefined {
  const uri = Deno.env.get("MONGODB_URI");
  if (!uri) return undefined;
  const url = new URL(uri);
  url.pathname = `/${name}`;
  return url.href;
}

/** What {@linkcode migrateWithKill} saw. */
export interface KilledMigration {
  /** The progress line after which the first run was killed, or `undefined` if it finished first. */
  killedAt: string | undefined;
  /** The second, completing run. */
  result: CliResult;
}

/**
 * Runs `cvm-storage migrate`, kills it with SIGKILL once its progress reaches `fraction`,
 * then runs it again to the end.
 *
 * @param args The migrate arguments (`--from`, `--to`, …).
 * @param fraction How far the first run gets, e.g. 0.4.
 * @returns Where the first run was killed, and the second run's result.
 */
export async function migrateWithKill(args: string[], fraction: number): Promise<KilledMigration> {
  const child = spawnCli(["migrate", ...args]);
  const stdout = child.stdout.pipeTo(new WritableStream());
  let killedAt: string | undefined;
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of child.stderr) {
    buffer += decoder.decode(chunk, { stream: true });
    const lines = buffer.split("\n");
    buffer = lines.pop()!;
    const line = lines.find((text) => {
      const match = /^Copying: (\d+)\/(\d+) /.exec(text);
      return match !== null && Number(match[1]) >= fraction * Number(match[2]) &&
        Number(match[1]) < Number(match[2]);
    });
    if (line !== undefined) {
      killedAt = line;
      child.kill("SIGKILL");
      break;
    }
  }
  await child.stderr.cancel().catch(() => {});
  await stdout.catch(() => {});
  await child.status;
  return { killedAt, result: await runCli(["migrate", ...args]) };
}

/** Calls of the public per-execution reads, by method name. */
export type ReadCounts = Record<"getHistory" | "getOutput" | "getExecution" | "getProgram", number>;

/**
 * A memory adapter that offers bulk reads as the MongoDB backend does (src/_bulk.ts): for
 * testing the command's bulk path without a server. It counts the per-execution reads it
 * answers, remembers every execution id it holds history or output of (orphans too), and
 * yields output in runs of `runLines` lines, as MongoDB yields one run per `appendOutput`.
 */
export class BulkMemoryAdapter extends MemoryStorageAdapter {
  /** Per-execution reads answered so far. */
  readonly reads: ReadCounts = { getHistory: 0, getOutput: 0, getExecution: 0, getProgram: 0 };
  readonly #ids = new Set<string>();
  readonly #runLines: number;
  readonly #broken = new Map<string, StorageError>();

  /** @param options How many lines each output run holds. */
  constructor(options: { runLines?: number } = {}) {
    super();
    this.#runLines = options.runLines ?? 3;
  }

  /** Makes reading an execution's history and output fail with `error`, as a damaged record does. */
  breakExecution(executionId: string, error: StorageError): void {
    this.#broken.set(executionId, error);
  }

  override async saveHistory(history: History): Promise<void> {
    await super.saveHistory(history);
    this.#ids.add(history.executionId);
  }

  override async appendOutput(executionId: string, lines: string[]): Promise<void> {
    await super.appendOutput(executionId, lines);
    if (lines.length > 0) this.#ids.add(executionId);
  }

  override getHistory(executionId: string, query?: Parameters<StorageAdapter["getHistory"]>[1]) {
    this.reads.getHistory++;
    const broken = this.#broken.get(executionId);
    return broken ? Promise.reject(broken) : super.getHistory(executionId, query);
  }

  override getOutput(executionId: string, query?: OutputQuery): Promise<string[]> {
    this.reads.getOutput++;
    const broken = this.#broken.get(executionId);
    return broken ? Promise.reject(broken) : super.getOutput(executionId, query);
  }

  override getExecution(id: string): Promise<Execution | null> {
    this.reads.getExecution++;
    return super.getExecution(id);
  }

  override getProgram(id: string): Promise<Program | null> {
    this.reads.getProgram++;
    return super.getProgram(id);
  }

  /** The bulk reads, built on the memory adapter's own per-execution reads. */
  [BULK](): BulkReader {
    const sorted = () => [...this.#ids].sort(compareCodePoints);
    const broken = this.#broken;
    const history = (id: string) => super.getHistory(id);
    const output = (id: string) => super.getOutput(id);
    const runLines = this.#runLines;
    return {
      async *history(): AsyncGenerator<BulkHistoryItem> {
        for (const executionId of sorted()) {
          const error = broken.get(executionId);
          if (error !== undefined) {
            yield { executionId, error };
            continue;
          }
          for (const entry of await history(executionId)) yield { executionId, entry };
        }
      },
      async *outputs(options: BulkOutputOptions = {}): AsyncGenerator<BulkOutputItem> {
        const only = options.executionIds && new Set(options.executionIds);
        for (const executionId of sorted()) {
          if (only !== undefined && !only.has(executionId)) continue;
          const error = broken.get(executionId);
          if (error !== undefined) {
            yield { executionId, error };
            continue;
          }
          const lines = await output(executionId);
          for (let from = 0; from < lines.length; from += runLines) {
            yield { executionId, from, lines: lines.slice(from, from + runLines) };
          }
        }
      },
    };
  }
}
