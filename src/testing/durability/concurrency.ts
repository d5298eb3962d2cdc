/**
 * The concurrency test of the durability kit: writer processes, each with Worker threads,
 * share one store while a reader process checks everything it reads.
 *
 * @module
 */

import type { History } from "../../types.ts";
import { fail } from "../_assert.ts";
import { now } from "./_child_io.ts";
import {
  checkDurabilityOptions,
  type DurabilityOptions,
  type Run,
  startRun,
  testName,
} from "./options.ts";
import {
  agreedHistory,
  checkWriterOutput,
  contestedHistory,
  mismatch,
  SHARED_EXECUTION_ID,
  SHARED_PROGRAM_ID,
  writerExecution,
  writerHistory,
  writerProgram,
} from "./_records.ts";
import { type Child, type Report, spawnChild } from "./_spawn.ts";

/**
 * Options of {@linkcode testConcurrentProcesses}.
 *
 * @example Six writer processes with two threads each
 * ```ts
 * import type { ConcurrencyOptions } from "@cvm/storage/testing";
 *
 * const options: ConcurrencyOptions = {
 *   test: (name, fn) => {
 *     Deno.test(name, fn);
 *   },
 *   adapterModule: new URL("./my_adapter.ts", import.meta.url),
 *   processes: 6,
 *   threads: 2,
 * };
 * ```
 */
export interface ConcurrencyOptions extends DurabilityOptions {
  /** Writer processes. Default 4. */
  processes?: number;
  /** Worker threads per writer process, each one more writer. Default 1. */
  threads?: number;
  /** Writes of each kind per writer. Default 40. */
  writes?: number;
  /** History keys raced by every writer, each once contested and once agreed. Default 40. */
  contests?: number;
  /**
   * Permission flags per writer process, cycled (the reader gets `permissions`), for an
   * adapter that behaves differently with different permissions. Default: `permissions`.
   */
  writerPermissions?: readonly (readonly string[])[];
}

/** How far ahead each race's moment is set: enough for every writer to hear of it. */
const RACE_DELAY_MS = 25;

/** The median of `values`. */
function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? Number.NaN : sorted[Math.floor(sorted.length / 2)];
}

function positive(value: number | undefined, fallback: number, name: string, zero = false) {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < (zero ? 0 : 1)) {
    throw new TypeError(
      `Cannot register the concurrency test: options.${name} must be a ${
        zero ? "non-negative" : "positive"
      } integer`,
    );
  }
  return value;
}

interface Settings {
  processes: number;
  threads: number;
  writes: number;
  contests: number;
}

async function concurrencyRun(options: ConcurrencyOptions, settings: Settings, run: Run) {
  const { processes, threads, writes, contests } = settings;
  const writers = processes * (threads + 1);
  const quiet = Math.ceil((contests * 3) / 4);
  const started = performance.now();
  const permissions = options.writerPermissions ?? [run.spawn.permissions];
  const children = Array.from({ length: processes }, (_, p) =>
    spawnChild(
      "_writer_child.ts",
      [run.module, run.store, String(p * (threads + 1)), String(threads), String(writes)],
      { ...run.spawn, permissions: permissions[p % permissions.length] },
    ));
  const reader = spawnChild("_reader_child.ts", [run.module, run.store], run.spawn);
  const all = [...children, reader];
  const exits: { code: number; signal: string | null; stderr: string }[] = [];
  let finished = false;
  const ready = (child: Child) =>
    child.waitUntil((r) => r.some((x) => x.kind === "process-ready" || x.kind === "ready"));
  try {
    for (const child of children) {
      if (!await child.waitUntil((r) => r.some((x) => x.kind === "process-ready"))) {
        fail(`a writer process did not start: ${JSON.stringify(child.reports).slice(0, 2000)}`);
      }
    }
    if (!await ready(reader)) fail("the reader process did not start");
    await reader.send("go");
    // Round by round, every writer saves contested key `step` (its own entry) and agreed
    // key `step` (the same entry as everyone) at the same moment: most rounds while the
    // writers are otherwise idle (the tightest race), the rest while they write.
    const race = async (from: number, to: number) => {
      for (let step = from; step < to; step++) {
        const time = now() + RACE_DELAY_MS;
        await Promise.all(children.map(async (child) => {
          await child.send(`contest ${step} ${time}`);
          await child.send(`agree ${step} ${time}`);
        }));
        const reported = (kind: string) => (reports: Report[]) =>
          reports.filter((r) => r.kind === kind && r.step === step).length === threads + 1;
        for (const child of children) {
          if (
            !await child.waitUntil(reported("contest")) || !await child.waitUntil(reported("agree"))
          ) {
            fail(`a writer did not report race ${step}`);
          }
        }
      }
    };
    await race(0, quiet);
    await Promise.all(children.map((child) => child.send("go")));
    await race(quiet, contests);
    for (const child of children) await child.closeStdin();
    for (const child of children) exits.push(await child.finish());
    await reader.closeStdin();
    exits.push(await reader.finish());
    finished = true;
  } finally {
    if (!finished) {
      for (const child of all) child.kill();
      for (const child of all) await child.finish();
    }
  }
  const problems: string[] = [];
  for (const [i, exit] of exits.entries()) {
    if (exit.code !== 0) {
      problems.push(
        `${i < processes ? `writer process ${i}` : "the reader"} exited with code ` +
          `${exit.code}: ${exit.stderr.trim().slice(0, 2000)}`,
      );
    }
  }
  const reports = children.flatMap((child) => child.reports);
  for (const r of [...reports, ...reader.reports]) {
    if (r.kind === "error" || r.kind === "problem") problems.push(JSON.stringify(r));
  }
  const summary = reader.reports.find((r) => r.kind === "summary");
  if (summary === undefined) problems.push("the reader printed no summary");

  // Each contested key: exactly one winner, every other writer a ConflictError. Each
  // agreed key: every writer succeeds, the retries being no-ops.
  const winners = new Map<number, number>();
  const quietSpreads: number[] = [];
  const loadedSpreads: number[] = [];
  for (let step = 0; step < contests; step++) {
    const tries = reports.filter((r) => r.kind === "contest" && r.step === step);
    const won = tries.filter((r) => r.outcome === "saved");
    const conflicts = tries.filter((r) => r.outcome === "conflict");
    if (won.length !== 1 || conflicts.length !== writers - 1) {
      problems.push(
        `contested key ${step}: ${won.length} of ${writers} writers won and ` +
          `${conflicts.length} got a ConflictError; expected 1 and ${writers - 1}`,
      );
    }
    if (won.length > 0) winners.set(step, won[0].writer as number);
    const times = tries.map((r) => r.at as number);
    (step < quiet ? quietSpreads : loadedSpreads).push(Math.max(...times) - Math.min(...times));
    const agreed = reports.filter((r) => r.kind === "agree" && r.step === step);
    const failed = agreed.filter((r) => r.outcome !== "saved");
    if (agreed.length !== writers || failed.length > 0) {
      problems.push(
        `agreed key ${step}: ${failed.length} of ${agreed.length} identical saves failed ` +
          `(${failed.map((r) => r.message).join("; ")}); each must succeed`,
      );
    }
  }
  const done = reports.filter((r) => r.kind === "done");
  if (done.length !== writers) problems.push(`${done.length} of ${writers} writers finished`);

  const storage = await run.createAdapter();
  try {
    await storage.connect();
    const last = (build: (w: number, seq: number) => unknown, got: unknown) =>
      Array.from({ length: writers }, (_, w) => w).some((w) =>
        mismatch(got, build(w, writes - 1)) === undefined
      );
    const execution = await storage.getExecution(SHARED_EXECUTION_ID);
    if (!last(writerExecution, execution)) {
      problems.push("the execution is not the last version of one writer");
    }
    const program = await storage.getProgram(SHARED_PROGRAM_ID);
    if (!last(writerProgram, program)) {
      problems.push("the program is not the last version of one writer");
    }
    const listed = [(await storage.listExecutions()).length, (await storage.listPrograms()).length];
    if (listed[0] !== 1 || listed[1] !== 1) {
      problems.push(`the lists hold ${listed[0]} executions and ${listed[1]} programs, not 1`);
    }
    const want: History[] = [];
    for (let step = 0; step < Math.max(writes, contests); step++) {
      if (step < writes) { for (let w = 0; w < writers; w++) want.push(writerHistory(w, step)); }
      if (step < contests) {
        if (winners.has(step)) want.push(contestedHistory(winners.get(step)!, step));
        want.push(agreedHistory(step));
      }
    }
    want.sort((a, b) => a.step - b.step || a.timestamp.getTime() - b.timestamp.getTime());
    const history = await storage.getHistory(SHARED_EXECUTION_ID);
    const wrong = mismatch(history, want);
    if (wrong !== undefined) {
      problems.push(
        `the history (${history.length} entries) is not every acknowledged entry once ` +
          `(${want.length}): ${wrong}`,
      );
    }
    const output = await storage.getOutput(SHARED_EXECUTION_ID);
    const { problem, appends } = checkWriterOutput(output);
    if (problem !== undefined) problems.push(`the output: ${problem}`);
    for (let w = 0; w < writers; w++) {
      if ((appends.get(w) ?? 0) !== writes) {
        problems.push(`the output holds ${appends.get(w) ?? 0} of writer ${w}'s ${writes} appends`);
      }
    }
    const current = await storage.getCurrentExecutionId();
    const lastCurrents = Array.from({ length: writers }, (_, w) => `w${w}-s${writes - 1}`);
    if (current === null || !lastCurrents.includes(current)) {
      problems.push(`the current execution is ${JSON.stringify(current)}, no writer's last`);
    }
  } catch (error) {
    problems.push(`reading the store afterwards failed: ${String(error)}`);
  } finally {
    await storage.disconnect();
  }
  problems.push(...await run.checkStore());

  const acknowledged = done.reduce((sum, r) => sum + (r.writes as number), 0);
  console.log(
    `${testName(options, "concurrency test")}: ${processes} writer processes × ${
      threads + 1
    } threads = ${writers} writers × ${writes * 5} writes (versions of one execution and one ` +
      `program, own history entries, output appends, the current execution) + ${contests} ` +
      `contested and ${contests} agreed history keys × ${writers} attempts (first to last ` +
      `attempt, median: ${median(quietSpreads).toFixed(2)} ms raced alone, ${
        median(loadedSpreads).toFixed(2)
      } ms during the writes), 1 reader process: ${summary?.reads} reads in ${summary?.rounds} ` +
      `rounds (${summary?.records} records checked), ${summary?.problems} torn or invalid; ` +
      `${acknowledged} writes acknowledged; ${problems.length} problems; ${
        ((performance.now() - started) / 1000).toFixed(1)
      } s`,
  );
  if (problems.length > 0) {
    fail(`${problems.length} problems:\n${problems.slice(0, 30).join("\n")}`);
  }
}

/**
 * Registers the concurrency test: `processes` writer processes (`deno run`), each with
 * `threads` Worker threads (which share its process id), import the adapter module and
 * write to one store at once, while a reader process reads everything in a loop. Each
 * writer saves `writes` versions of one shared execution and one shared program, its own
 * history entries, output appends to one shared execution and the current-execution
 * pointer, reconnecting with a new adapter every 8 writes; and every writer races every
 * other for `contests` history keys at the same moment, each key once with an entry of
 * its own (exactly one must win, every other must get `ConflictError`) and once with the
 * same entry as everyone (every save must succeed: an identical retry is a no-op).
 *
 * The reader must never see a torn or mixed record, a history entry change or vanish, or
 * output that is not whole appends; afterwards the store must hold the last version of
 * one writer, every acknowledged history entry once, every acknowledged append whole and
 * contiguous (each writer's in its order), and one writer's last current execution.
 *
 * Runs under Deno only; the test needs `--allow-run --allow-read` and the adapter's own
 * permissions, and the children get `options.permissions`.
 *
 * @param options The test function, the adapter module, the store, and the load.
 * @returns Nothing; the test runs when the runner runs it.
 * @throws {TypeError} When an option is missing or of the wrong type.
 *
 * @example Registering the concurrency test, to run with your test runner
 * ```ts
 * import { testConcurrentProcesses } from "@cvm/storage/testing";
 *
 * const tests = new Map<string, () => Promise<void>>();
 * testConcurrentProcesses({
 *   name: "MyAdapter",
 *   test: (name, fn) => tests.set(name, fn),
 *   // Exports createAdapter(store: string); the store is a fresh temp directory.
 *   adapterModule: new URL("./my_adapter.ts", import.meta.url),
 *   processes: 3,
 *   threads: 2,
 * });
 * console.log([...tests.keys()]);
 * ```
 */
export function testConcurrentProcesses(options: ConcurrencyOptions): void {
  checkDurabilityOptions(options, "concurrency test");
  const settings: Settings = {
    processes: positive(options.processes, 4, "processes"),
    threads: positive(options.threads, 1, "threads", true),
    writes: positive(options.writes, 40, "writes"),
    contests: positive(options.contests, 40, "contests"),
  };
  if (
    options.writerPermissions !== undefined &&
    (!Array.isArray(options.writerPermissions) || options.writerPermissions.length === 0)
  ) {
    throw new TypeError(
      "Cannot register the concurrency test: options.writerPermissions must be a non-empty " +
        "list of permission lists",
    );
  }
  options.test(
    testName(
      options,
      "keeps records whole, one winner per contested history key and every output append " +
        "whole across concurrent processes and threads",
    ),
    async () => {
      const run = await startRun(options);
      try {
        await concurrencyRun(options, settings, run);
      } finally {
        await run.close();
      }
    },
  );
}
