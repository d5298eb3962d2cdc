/**
 * The crash test of the durability kit: a child process writes in a loop and is killed
 * with SIGKILL at random moments; after each kill, everything it acknowledged must be
 * there, whole.
 *
 * @module
 */

import type { Execution, History, Program, StorageAdapter } from "../../types.ts";
import { fail } from "../_assert.ts";
import {
  checkDurabilityOptions,
  type DurabilityOptions,
  type Run,
  startRun,
  testName,
} from "./options.ts";
import {
  CRASH_EXECUTION_ID,
  CRASH_PROGRAM_ID,
  crashExecution,
  crashHistory,
  crashLines,
  crashProgram,
  mismatch,
  prng,
  versionOf,
} from "./_records.ts";
import { type Child, type Report, sleep, spawnChild } from "./_spawn.ts";

/** How long a store may take to settle after a kill: `SETTLE_TRIES` × `SETTLE_MS`. */
const SETTLE_TRIES = 20;
const SETTLE_MS = 100;
/**
 * Options of {@linkcode testCrashConsistency}.
 *
 * @example 200 kills, replaying a seed that failed
 * ```ts
 * import type { CrashOptions } from "@cvm/storage/testing";
 *
 * const options: CrashOptions = {
 *   test: (name, fn) => {
 *     Deno.test(name, fn);
 *   },
 *   adapterModule: new URL("./my_adapter.ts", import.meta.url),
 *   kills: 200,
 *   seed: 1234,
 * };
 * ```
 */
export interface CrashOptions extends DurabilityOptions {
  /** How many times the writer is killed. Default 20. */
  kills?: number;
  /**
   * Seeds the moments of the kills, so a failing run can be replayed. Default: a random
   * seed, printed with the summary.
   */
  seed?: number;
}

/** One read of everything, with failed reads recorded instead of thrown. */
type Part<T> = { ok: T } | { error: string; code?: string };
interface View {
  execution: Part<Execution | null>;
  program: Part<Program | null>;
  executions: Part<Execution[]>;
  programs: Part<Program[]>;
  history: Part<History[]>;
  output: Part<string[]>;
  current: Part<string | null>;
}

async function part<T>(read: () => Promise<T>): Promise<Part<T>> {
  try {
    return { ok: await read() };
  } catch (error) {
    const code = (error as { code?: unknown })?.code;
    return { error: String(error), code: typeof code === "string" ? code : undefined };
  }
}

async function readView(storage: StorageAdapter): Promise<View> {
  return {
    execution: await part(() => storage.getExecution(CRASH_EXECUTION_ID)),
    program: await part(() => storage.getProgram(CRASH_PROGRAM_ID)),
    executions: await part(() => storage.listExecutions()),
    programs: await part(() => storage.listPrograms()),
    history: await part(() => storage.getHistory(CRASH_EXECUTION_ID)),
    output: await part(() => storage.getOutput(CRASH_EXECUTION_ID)),
    current: await part(() => storage.getCurrentExecutionId()),
  };
}

/** What one writer printed before it was killed. */
interface Acked {
  ready?: { version: number; step: number; batch: number };
  executions: number[];
  programs: number[];
  steps: Map<number, number>;
  batches: number[];
  currents: string[];
}

function parseReports(reports: readonly Report[]): Acked {
  const acked: Acked = {
    executions: [],
    programs: [],
    steps: new Map(),
    batches: [],
    currents: [],
  };
  for (const r of reports) {
    if (r.kind === "ready") {
      acked.ready = r as unknown as Acked["ready"];
    } else if (r.kind === "execution") acked.executions.push(r.version as number);
    else if (r.kind === "program") acked.programs.push(r.version as number);
    else if (r.kind === "history") acked.steps.set(r.step as number, r.time as number);
    else if (r.kind === "output") acked.batches.push(r.batch as number);
    else if (r.kind === "current") acked.currents.push(r.id as string);
  }
  return acked;
}

/** The counts the test reports, and fails on unless they are acknowledgements. */
interface Figures {
  kills: number;
  tornRecords: number;
  readErrors: number;
  versionsLost: number;
  stepsLost: number;
  batchesLost: number;
  currentLost: number;
  duplicates: number;
  unexpected: number;
  viewsDiffer: number;
  storeProblems: number;
  childFailures: number;
  versionsAcked: number;
  stepsAcked: number;
  batchesAcked: number;
}

const ACKNOWLEDGEMENTS = ["kills", "versionsAcked", "stepsAcked", "batchesAcked"];

/** Checks the store against everything the writers acknowledged so far. */
class Model {
  execution: number | null = null;
  program: number | null = null;
  /** Stored history entries: step → timestamp (ms). */
  steps = new Map<number, number>();
  /** Acknowledged history entries: step → timestamp (ms). */
  ackedSteps = new Map<number, number>();
  /** Whole output batches stored, and the highest acknowledged batch. */
  batches = 0;
  ackedBatch = -1;
  current: string | null = null;
  problems: string[] = [];

  constructor(readonly figures: Figures) {}

  problem(kind: keyof Figures, message: string): void {
    this.figures[kind]++;
    if (this.problems.length < 30) this.problems.push(`kill ${this.figures.kills}: ${message}`);
  }

  /** Reads what a whole part holds, or counts the read that failed. */
  read<T>(what: string, got: Part<T>): T | undefined {
    if ("ok" in got) return got.ok;
    this.problem(
      got.code === "CORRUPT_RECORD" ? "tornRecords" : "readErrors",
      `${what} failed: ${got.error}`,
    );
    return undefined;
  }

  check(view: View, run: Acked): void {
    this.execution = this.#record(
      "execution",
      this.read("getExecution()", view.execution),
      this.read("listExecutions()", view.executions),
      crashExecution,
      this.execution,
      run.executions,
      run.ready?.version,
    );
    this.program = this.#record(
      "program",
      this.read("getProgram()", view.program),
      this.read("listPrograms()", view.programs),
      crashProgram,
      this.program,
      run.programs,
      run.ready?.version,
    );
    this.#history(this.read("getHistory()", view.history), run);
    this.#output(this.read("getOutput()", view.output), run);
    this.#current(this.read("getCurrentExecutionId()", view.current), run);
  }

  #record<T extends Execution | Program>(
    kind: "execution" | "program",
    value: T | null | undefined,
    list: T[] | undefined,
    build: (version: number) => T,
    previous: number | null,
    acked: number[],
    first: number | undefined,
  ): number | null {
    this.figures.versionsAcked += acked.length;
    if (value === undefined) return previous;
    const version = value === null ? null : versionOf(value);
    if (value !== null) {
      const wrong = mismatch(value, build(version!));
      if (wrong !== undefined) {
        this.problem("tornRecords", `${kind} is not a whole version (claims ${version}): ${wrong}`);
      }
    }
    // The last acknowledged version, or the one in flight after it.
    const last = acked.length > 0 ? acked[acked.length - 1] : undefined;
    const allowed = last !== undefined ? [last, last + 1] : [previous, first];
    if (!allowed.includes(version)) {
      const lost = version === null || allowed.some((v) => v != null && v > version);
      this.problem(
        lost ? "versionsLost" : "unexpected",
        `${kind} holds version ${version}, expected one of ${JSON.stringify(allowed)}`,
      );
    }
    if (list !== undefined && mismatch(list, value === null ? [] : [value]) !== undefined) {
      this.problem("unexpected", `listing ${kind}s gave ${list.length} records, not the one read`);
    }
    return version;
  }

  #history(entries: History[] | undefined, run: Acked): void {
    for (const [step, time] of run.steps) this.ackedSteps.set(step, time);
    this.figures.stepsAcked += run.steps.size;
    if (entries === undefined) return;
    const stored = new Map<number, number>();
    for (const entry of entries) {
      const time = entry.timestamp.getTime();
      if (stored.has(entry.step)) {
        this.problem("duplicates", `step ${entry.step} is stored more than once`);
      }
      stored.set(entry.step, time);
      const wrong = mismatch(entry, crashHistory(entry.step, entry.timestamp));
      if (wrong !== undefined) {
        this.problem("tornRecords", `history step ${entry.step} is not what was written: ${wrong}`);
      }
    }
    for (const [step, time] of this.ackedSteps) {
      if (stored.get(step) !== time) {
        this.problem("stepsLost", `acknowledged step ${step} at ${time} is missing`);
        this.ackedSteps.delete(step);
      }
    }
    for (const [step, time] of this.steps) {
      if (stored.get(step) !== time && !this.ackedSteps.has(step)) {
        this.problem("stepsLost", `stored step ${step} at ${time} disappeared`);
      }
    }
    const acked = [...run.steps.keys()];
    const next = acked.length > 0 ? Math.max(...acked) + 1 : run.ready?.step;
    for (const step of stored.keys()) {
      if (!this.steps.has(step) && !run.steps.has(step) && step !== next) {
        this.problem("unexpected", `step ${step} appeared, but the writer was at ${next}`);
      }
    }
    this.steps = stored;
  }

  #output(lines: string[] | undefined, run: Acked): void {
    this.figures.batchesAcked += run.batches.length;
    if (run.batches.length > 0) this.ackedBatch = run.batches[run.batches.length - 1];
    if (lines === undefined) return;
    // The output must be whole batches 0, 1, 2, …: every append all or nothing.
    let batches = 0;
    let at = 0;
    while (at < lines.length) {
      const want = crashLines(batches);
      const wrong = mismatch(lines.slice(at, at + want.length), want);
      if (wrong !== undefined) {
        this.problem(
          "tornRecords",
          `output lines from ${at} are not batch ${batches} whole (an append was torn or ` +
            `partial): ${wrong}`,
        );
        return;
      }
      at += want.length;
      batches++;
    }
    if (batches <= this.ackedBatch) {
      this.problem(
        "batchesLost",
        `the output holds ${batches} batches, but batch ${this.ackedBatch} was acknowledged`,
      );
    } else if (batches < this.batches) {
      this.problem("batchesLost", `the output shrank from ${this.batches} to ${batches} batches`);
    }
    // At most the one append in flight beyond the last acknowledged one.
    const inFlight = run.batches.length > 0 ? this.ackedBatch + 1 : run.ready?.batch;
    if (inFlight !== undefined && batches > inFlight + 1) {
      this.problem(
        "unexpected",
        `the output holds ${batches} batches, but the writer was at batch ${inFlight}`,
      );
    }
    this.batches = batches;
  }

  #current(current: string | null | undefined, run: Acked): void {
    if (current === undefined) return;
    const acked = run.currents;
    const last = acked.length > 0 ? acked[acked.length - 1] : undefined;
    const version = last === undefined ? run.ready?.version : Number(last.slice(4)) + 1;
    const allowed = [last ?? this.current, ...version === undefined ? [] : [`run-${version}`]];
    if (!allowed.includes(current)) {
      this.problem(
        "currentLost",
        `the current execution is ${JSON.stringify(current)}, expected one of ` +
          JSON.stringify(allowed),
      );
    }
    this.current = current;
  }
}

/** How the parent decides when to kill: a seeded plan, so a failing seed replays. */
async function killAtRandom(child: Child, random: () => number): Promise<void> {
  if (random() < 0.1) {
    // Anywhere from start-up through connect to the first writes.
    await sleep(random() * 300);
  } else if (await child.waitUntil((reports) => reports.length >= 1, 60_000)) {
    const acks = Math.floor(random() * 9);
    await child.waitUntil((reports) => reports.length >= 1 + acks, 60_000);
    await sleep(random() * 15);
  }
  child.kill();
}

async function crashRun(options: CrashOptions, run: Run): Promise<void> {
  const kills = options.kills ?? 20;
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 32);
  const random = prng(seed);
  const figures: Figures = {
    kills: 0,
    tornRecords: 0,
    readErrors: 0,
    versionsLost: 0,
    stepsLost: 0,
    batchesLost: 0,
    currentLost: 0,
    duplicates: 0,
    unexpected: 0,
    viewsDiffer: 0,
    storeProblems: 0,
    childFailures: 0,
    versionsAcked: 0,
    stepsAcked: 0,
    batchesAcked: 0,
  };
  const model = new Model(figures);
  const started = performance.now();
  // Connected once, before any kill: a long-lived reader must see what a fresh one sees.
  const watcher = await run.createAdapter();
  await watcher.connect();
  try {
    for (let kill = 0; kill < kills && model.problems.length === 0; kill++) {
      const child = spawnChild("_crash_child.ts", [run.module, run.store], run.spawn);
      let result;
      try {
        await killAtRandom(child, random);
      } finally {
        child.kill();
        result = await child.finish();
      }
      figures.kills++;
      if (result.signal !== "SIGKILL") {
        model.problem(
          "childFailures",
          `the writer exited with code ${result.code}: ${result.stderr.trim().slice(0, 2000)}`,
        );
      }
      const acked = parseReports(child.reports);
      const fresh = await run.createAdapter();
      await fresh.connect();
      try {
        let view = await readView(fresh);
        let seenByWatcher = await readView(watcher);
        // A server may still apply a write the killed client sent just before it died: give
        // it a moment to settle. A stale view of a store nothing writes to stays stale.
        for (let i = 0; i < SETTLE_TRIES && mismatch(seenByWatcher, view) !== undefined; i++) {
          await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
          view = await readView(fresh);
          seenByWatcher = await readView(watcher);
        }
        const differ = mismatch(seenByWatcher, view);
        if (differ !== undefined) {
          model.problem(
            "viewsDiffer",
            `an adapter connected before the kill reads differently from a fresh one: ${differ}`,
          );
        }
        model.check(view, acked);
        for (const problem of await run.checkStore()) model.problem("storeProblems", problem);
      } finally {
        await fresh.disconnect();
      }
    }
  } finally {
    await watcher.disconnect();
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.log(
      `${testName(options, "crash test summary")}: seed ${seed}, ${figures.kills} kills, ` +
        `${figures.tornRecords} torn records, ${figures.versionsLost} acknowledged versions ` +
        `lost, ${figures.stepsLost} acknowledged steps lost, ${figures.batchesLost} ` +
        `acknowledged output batches lost, ${figures.currentLost} current-execution ` +
        `pointers lost, ${figures.duplicates} duplicates, ${figures.viewsDiffer} stale views, ` +
        `${figures.storeProblems} store problems; ${figures.versionsAcked} versions, ` +
        `${figures.stepsAcked} steps and ${figures.batchesAcked} output batches ` +
        `acknowledged, history ${model.steps.size} entries, output ${model.batches} ` +
        `batches, ${seconds} s`,
    );
  }
  const bad = Object.entries(figures).filter(([name, value]) =>
    value > 0 && !ACKNOWLEDGEMENTS.includes(name)
  );
  if (bad.length > 0) {
    fail(
      `seed ${seed} (replay with seed: ${seed}): ${
        bad.map(([name, value]) => `${value} ${name}`).join(", ")
      }\n${model.problems.join("\n")}`,
    );
  }
  if (figures.stepsAcked === 0 || figures.batchesAcked === 0) {
    fail(`seed ${seed}: the writer acknowledged no step or no output: were the kills too early?`);
  }
}

/**
 * Registers the crash test: a child process (`deno run`) imports the adapter module,
 * connects, and writes in a loop: a large execution, a program, a history entry, a batch
 * of output lines and the current-execution pointer, each new version built from numbers
 * it carries, with `NaN`, `-0`, bytes and half an emoji inside. It is killed with SIGKILL
 * at random moments, `kills` times, each new writer resuming from what the last one left.
 * After each kill a fresh adapter (and one connected before all the kills) must read
 * every acknowledged write back, whole: the last acknowledged version of each record (or
 * the one in flight, whole), every acknowledged history step, every acknowledged output
 * batch with its lines together and nothing torn, the last acknowledged current
 * execution; and nothing that was never written.
 *
 * SIGKILL loses no page cache, so this cannot show a missing fsync: check the order of
 * your adapter's durable writes separately.
 *
 * Runs under Deno only; the test needs `--allow-run --allow-read` and the adapter's own
 * permissions, and the children get `options.permissions`.
 *
 * @param options The test function, the adapter module, the store, and how many kills.
 * @returns Nothing; the test runs when the runner runs it.
 * @throws {TypeError} When an option is missing or of the wrong type.
 *
 * @example Registering the crash test, to run with your test runner
 * ```ts
 * import { testCrashConsistency } from "@cvm/storage/testing";
 *
 * const tests = new Map<string, () => Promise<void>>();
 * testCrashConsistency({
 *   name: "MyAdapter",
 *   test: (name, fn) => tests.set(name, fn),
 *   // Exports createAdapter(store: string); the store is a fresh temp directory.
 *   adapterModule: new URL("./my_adapter.ts", import.meta.url),
 *   kills: 50,
 * });
 * console.log([...tests.keys()]);
 * ```
 */
export function testCrashConsistency(options: CrashOptions): void {
  checkDurabilityOptions(options, "crash test");
  if (options.kills !== undefined && (!Number.isSafeInteger(options.kills) || options.kills < 1)) {
    throw new TypeError("Cannot register the crash test: options.kills must be a positive integer");
  }
  options.test(
    testName(options, "keeps every acknowledged write whole when its process is SIGKILLed"),
    async () => {
      const run = await startRun(options);
      try {
        await crashRun(options, run);
      } finally {
        await run.close();
      }
    },
  );
}
