// Crash consistency of the file backend.
//
// The SIGKILL test runs tests/_workers/crash_writer.ts, which saves a large execution, a
// program and a history step in a loop, and kills it at random moments (a seeded PRNG;
// the seed is printed, and CVM_CRASH_SEED replays it). CVM_CRASH_KILLS sets the number of
// kills (default 20; `deno task test:crash` runs 200). SIGKILL loses no page cache, so it
// cannot show a missing fsync: the last tests check the order of the file-system calls
// instead, through the `fs` seam of src/file/_fs.ts.

import { assert, assertEquals } from "@std/assert";
import { dirname, join } from "node:path";
import { CorruptRecordError, type Execution, FileStorageAdapter, type History } from "../mod.ts";
import type { Program } from "../mod.ts";
import { fs } from "../src/file/_fs.ts";
import { makeExecution, makeHistory, makeProgram, prng, withTempDir } from "./_utils.ts";
import {
  CRASH_EXECUTION_ID,
  CRASH_PROGRAM_ID,
  crashExecution,
  crashHistory,
  crashProgram,
  versionOf,
} from "./_workers/_records.ts";
import { canSpawn, sleep, spawnWorker, type Worker } from "./_workers/_spawn.ts";

const canReadEnv = Deno.permissions.querySync({ name: "env" }).state === "granted";

function envNumber(name: string): number | undefined {
  const value = canReadEnv ? Deno.env.get(name) : undefined;
  if (value === undefined || value === "") return undefined;
  const number = Number(value);
  if (!Number.isSafeInteger(number) || number < 0) {
    throw new Error(`${name} must be a non-negative integer, not "${value}"`);
  }
  return number;
}

/** Any name the backend (or a broken variant of it) uses for temp files. */
const TEMP_NAME = /^\.cvm-/;

/** Every temp file or directory under `dir`, relative to it. */
async function findTemps(dir: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (sub: string) => {
    for await (const entry of Deno.readDir(join(dir, sub))) {
      const rel = sub === "" ? entry.name : `${sub}/${entry.name}`;
      if (TEMP_NAME.test(entry.name)) found.push(rel);
      else if (entry.isDirectory) await walk(rel);
    }
  };
  await walk("");
  return found.sort();
}

/** One read of everything, with unreadable records reported instead of thrown. */
type Part<T> = { ok: T } | { corrupt: string };
interface View {
  execution: Part<Execution | null>;
  program: Part<Program | null>;
  executions: Part<Execution[]>;
  programs: Part<Program[]>;
  history: Part<History[]>;
}

async function part<T>(read: () => Promise<T>): Promise<Part<T>> {
  try {
    return { ok: await read() };
  } catch (error) {
    if (error instanceof CorruptRecordError) return { corrupt: error.path ?? error.message };
    throw error;
  }
}

async function readView(storage: FileStorageAdapter): Promise<View> {
  return {
    execution: await part(() => storage.getExecution(CRASH_EXECUTION_ID)),
    program: await part(() => storage.getProgram(CRASH_PROGRAM_ID)),
    executions: await part(() => storage.listExecutions()),
    programs: await part(() => storage.listPrograms()),
    history: await part(() => storage.getHistory(CRASH_EXECUTION_ID)),
  };
}

/** What one child process printed before it was killed. */
interface Run {
  ready?: { version: number; step: number };
  executions: number[];
  programs: number[];
  steps: Map<number, number>;
}

function parseRun(lines: string[]): Run {
  const run: Run = { executions: [], programs: [], steps: new Map() };
  for (const line of lines) {
    const [what, a, b] = line.split(" ");
    if (what === "ready") run.ready = { version: Number(a), step: Number(b) };
    else if (what === "execution") run.executions.push(Number(a));
    else if (what === "program") run.programs.push(Number(a));
    else if (what === "history") run.steps.set(Number(a), Number(b));
    else throw new Error(`Unexpected line from the crash writer: ${JSON.stringify(line)}`);
  }
  return run;
}

/** The versions a record may hold after a run: the last acknowledged one, or the next. */
function allowedVersions(previous: number | null, acked: number[], first?: number) {
  if (acked.length > 0) {
    const last = acked[acked.length - 1];
    return [last, last + 1];
  }
  return first === undefined ? [previous] : [previous, first];
}

interface Figures {
  kills: number;
  killsLeavingTemps: number;
  tornRecords: number;
  stepsLost: number;
  versionsLost: number;
  duplicates: number;
  unexpected: number;
  tempsVisible: number;
  leftoversAfterConnect: number;
  childFailures: number;
  stepsAcked: number;
  versionsAcked: number;
}

/** Checks the data directory against everything the writer acknowledged so far. */
class Model {
  execution: number | null = null;
  program: number | null = null;
  /** Stored history entries: step → timestamp (ms). */
  steps = new Map<number, number>();
  /** Acknowledged history entries: step → timestamp (ms). */
  acked = new Map<number, number>();
  problems: string[] = [];

  constructor(readonly figures: Figures) {}

  problem(kind: keyof Figures, message: string): void {
    this.figures[kind]++;
    if (this.problems.length < 30) this.problems.push(`kill ${this.figures.kills}: ${message}`);
  }

  /** Checks `view` after `run`; returns the corrupt files found, which the caller removes. */
  check(view: View, run: Run): string[] {
    const corrupt: string[] = [];
    const record = <T extends Execution | Program>(
      kind: "execution" | "program",
      got: Part<T | null>,
      list: Part<T[]>,
      build: (version: number) => T,
      previous: number | null,
      acked: number[],
    ): number | null => {
      if ("corrupt" in got) {
        this.problem("tornRecords", `${kind} is unreadable: ${got.corrupt}`);
        corrupt.push(got.corrupt);
        return null;
      }
      const value = got.ok;
      const version = value === null ? null : versionOf(value);
      if (value !== null && JSON.stringify(value) !== JSON.stringify(build(version!))) {
        this.problem("tornRecords", `${kind} is not a whole version (claims ${version})`);
      }
      const allowed = allowedVersions(previous, acked, run.ready?.version);
      if (!allowed.includes(version)) {
        const lost = version === null || allowed.some((v) => v !== null && v > version);
        this.problem(
          lost ? "versionsLost" : "unexpected",
          `${kind} holds version ${version}, expected one of ${JSON.stringify(allowed)}`,
        );
      }
      if ("corrupt" in list) {
        this.problem("tempsVisible", `listing ${kind}s failed on ${list.corrupt}`);
      } else if (JSON.stringify(list.ok) !== JSON.stringify(value === null ? [] : [value])) {
        this.problem("tempsVisible", `listing ${kind}s gave ${list.ok.length} records`);
      }
      return version;
    };
    this.figures.versionsAcked += run.executions.length + run.programs.length;
    this.execution = record(
      "execution",
      view.execution,
      view.executions,
      crashExecution,
      this.execution,
      run.executions,
    );
    this.program = record(
      "program",
      view.program,
      view.programs,
      crashProgram,
      this.program,
      run.programs,
    );

    for (const [step, time] of run.steps) this.acked.set(step, time);
    this.figures.stepsAcked += run.steps.size;
    if ("corrupt" in view.history) {
      this.problem("tornRecords", `history is unreadable: ${view.history.corrupt}`);
      corrupt.push(view.history.corrupt);
      return corrupt;
    }
    const stored = new Map<number, number>();
    for (const entry of view.history.ok) {
      const time = entry.timestamp.getTime();
      if (stored.has(entry.step)) {
        this.problem("duplicates", `step ${entry.step} is stored more than once`);
      }
      stored.set(entry.step, time);
      if (JSON.stringify(entry) !== JSON.stringify(crashHistory(entry.step, entry.timestamp))) {
        this.problem("tornRecords", `history step ${entry.step} is not what was written`);
      }
    }
    for (const [step, time] of this.acked) {
      if (stored.get(step) !== time) {
        this.problem("stepsLost", `acknowledged step ${step} at ${time} is missing`);
        this.acked.delete(step);
      }
    }
    for (const [step, time] of this.steps) {
      if (stored.get(step) !== time && !this.acked.has(step)) {
        this.problem("stepsLost", `stored step ${step} at ${time} disappeared`);
      }
    }
    const ackedSteps = [...run.steps.keys()];
    const next = ackedSteps.length > 0 ? Math.max(...ackedSteps) + 1 : run.ready?.step;
    for (const step of stored.keys()) {
      if (!this.steps.has(step) && !run.steps.has(step) && step !== next) {
        this.problem("unexpected", `step ${step} appeared, but the writer was at ${next}`);
      }
    }
    this.steps = stored;
    return corrupt;
  }
}

/** How the parent decides when to kill: a seeded plan, so a failing seed replays. */
async function killAtRandom(worker: Worker, random: () => number): Promise<void> {
  if (random() < 0.1) {
    // Anywhere from start-up through connect (which removes leftovers) to the first writes.
    await sleep(random() * 300);
  } else {
    if (await worker.waitForLines(1, 30_000)) {
      const acks = Math.floor(random() * 7);
      await worker.waitForLines(1 + acks, 30_000);
      await sleep(random() * 15);
    }
  }
  worker.kill();
}

Deno.test({
  name: "FileStorageAdapter keeps every acknowledged write whole when its process is SIGKILLed",
  ignore: !canSpawn,
  async fn() {
    const kills = envNumber("CVM_CRASH_KILLS") ?? 20;
    const seed = envNumber("CVM_CRASH_SEED") ?? Math.floor(Math.random() * 2 ** 32);
    console.log(`crash test: seed ${seed} (replay with CVM_CRASH_SEED=${seed}), ${kills} kills`);
    const random = prng(seed);
    const figures: Figures = {
      kills: 0,
      killsLeavingTemps: 0,
      tornRecords: 0,
      stepsLost: 0,
      versionsLost: 0,
      duplicates: 0,
      unexpected: 0,
      tempsVisible: 0,
      leftoversAfterConnect: 0,
      childFailures: 0,
      stepsAcked: 0,
      versionsAcked: 0,
    };
    const model = new Model(figures);
    const started = performance.now();
    let executionBytes = 0;
    await withTempDir(async (dir) => {
      // Connected once, before any kill, so it never removes leftovers: it reads with the
      // dead writers' temp files still in place.
      const watcher = new FileStorageAdapter(dir);
      await watcher.connect();
      try {
        for (let kill = 0; kill < kills; kill++) {
          const worker = spawnWorker("crash_writer.ts", [dir]);
          let result;
          try {
            await killAtRandom(worker, random);
          } finally {
            worker.kill();
            result = await worker.finish();
          }
          figures.kills++;
          if (result.status.signal !== "SIGKILL") {
            model.problem(
              "childFailures",
              `the writer exited with code ${result.status.code}: ${result.stderr.trim()}`,
            );
          }
          const run = parseRun(worker.lines);

          const temps = await findTemps(dir);
          if (temps.length > 0) figures.killsLeavingTemps++;
          const withTemps = await readView(watcher);

          const fresh = new FileStorageAdapter(dir);
          await fresh.connect();
          try {
            const leftovers = await findTemps(dir);
            if (leftovers.length > 0) {
              model.problem("leftoversAfterConnect", `connect() left ${leftovers.join(", ")}`);
              for (const name of leftovers) await Deno.remove(join(dir, name), { recursive: true });
            }
            const view = await readView(fresh);
            if (JSON.stringify(view) !== JSON.stringify(withTemps)) {
              model.problem(
                "tempsVisible",
                `reads with ${temps.length} temp files present (${temps.join(", ")}) differ ` +
                  "from reads after connect() removed them",
              );
            }
            // A corrupt file would stop the next writer: count it, then remove it.
            for (const path of model.check(view, run)) await Deno.remove(path);
          } finally {
            await fresh.disconnect();
          }
        }
        const info = await Deno.stat(join(dir, "executions", `${CRASH_EXECUTION_ID}.json`))
          .catch(() => undefined);
        executionBytes = info?.size ?? 0;
      } finally {
        await watcher.disconnect();
        const seconds = ((performance.now() - started) / 1000).toFixed(1);
        console.log(
          `crash test summary: seed ${seed}, ${figures.kills} kills (${figures.killsLeavingTemps} ` +
            `left temp files behind), ${figures.tornRecords} torn records, ` +
            `${figures.stepsLost} acknowledged steps lost, ${figures.versionsLost} acknowledged ` +
            `versions lost, ${figures.duplicates} duplicates, ${figures.tempsVisible} temp files ` +
            `visible, ${figures.leftoversAfterConnect} leftovers after connect; ` +
            `${figures.stepsAcked} steps and ${figures.versionsAcked} versions acknowledged, ` +
            `history ${model.steps.size} entries, execution ${Math.round(executionBytes / 1024)} ` +
            `KiB, ${seconds} s`,
        );
      }
    });
    const bad = Object.entries(figures).filter(([name, value]) =>
      value > 0 && !["kills", "killsLeavingTemps", "stepsAcked", "versionsAcked"].includes(name)
    );
    assertEquals(
      Object.fromEntries(bad),
      {},
      `seed ${seed} (replay with CVM_CRASH_SEED=${seed}):\n${model.problems.join("\n")}`,
    );
    assert(
      figures.stepsAcked > 0,
      "the writer never acknowledged a step: were the kills too early?",
    );
    assert(executionBytes >= 64 * 1024, `the execution is only ${executionBytes} bytes`);
  },
});

// --- Durability: the order of file-system calls -----------------------------------------
//
// A kill cannot lose what the kernel already has; power loss can. These tests record the
// calls the adapter makes and check, for every write, that when its promise resolves the
// new content was fsynced before it was moved into place, and that every directory entry
// on its path that changed was fsynced in its parent afterwards.

interface FsEvent {
  op: "open" | "write" | "sync" | "syncStart" | "rename" | "link" | "unlink" | "mkdir";
  path: string;
  from?: string;
}

/** Runs `fn` with every call through the `fs` seam recorded, once it has completed. */
async function recordFs<T>(fn: (events: FsEvent[]) => Promise<T>): Promise<T> {
  const original = { ...fs };
  const events: FsEvent[] = [];
  fs.createFile = async (path, mode) => {
    const file = await original.createFile(path, mode);
    events.push({ op: "open", path });
    const { writeFile, sync } = file;
    file.writeFile = async (...args) => {
      await writeFile.apply(file, args);
      events.push({ op: "write", path });
    };
    file.sync = async () => {
      await sync.call(file);
      events.push({ op: "sync", path });
    };
    return file;
  };
  fs.openDir = async (path) => {
    const dir = await original.openDir(path);
    events.push({ op: "open", path });
    const { sync } = dir;
    dir.sync = async () => {
      // A directory fsync covers the entries made before it started.
      events.push({ op: "syncStart", path });
      await sync.call(dir);
      events.push({ op: "sync", path });
    };
    return dir;
  };
  fs.rename = async (from, to) => {
    await original.rename(from, to);
    events.push({ op: "rename", path: String(to), from: String(from) });
  };
  fs.link = async (from, to) => {
    await original.link(from, to);
    events.push({ op: "link", path: String(to), from: String(from) });
  };
  fs.unlink = async (path) => {
    await original.unlink(path);
    events.push({ op: "unlink", path: String(path) });
  };
  fs.mkdir = (async (path: string, options?: { recursive?: boolean; mode?: number }) => {
    const result = await original.mkdir(path, options);
    events.push({ op: "mkdir", path: String(path) });
    return result;
  }) as typeof fs.mkdir;
  try {
    return await fn(events);
  } finally {
    Object.assign(fs, original);
  }
}

/** Whether `events` holds a directory sync of `path` that started after index `after`. */
function syncedAfter(events: FsEvent[], path: string, after: number): boolean {
  const start = events.findIndex((event, i) =>
    i > after && event.op === "syncStart" && event.path === path
  );
  return start !== -1 &&
    events.some((event, i) => i > start && event.op === "sync" && event.path === path);
}

/**
 * Checks that `target` was written durably by the calls in `events`: through a temp file
 * fsynced after its last write and before it was moved to `target`, with the directory of
 * `target`, and the parent of every directory created for it (and of each of
 * `unsyncedDirs`, created earlier but never made durable), fsynced afterwards.
 */
function assertDurableWrite(events: FsEvent[], target: string, unsyncedDirs: string[] = []) {
  const what = `the write of "${target}"`;
  const direct = events.findIndex((event) => event.op === "write" && event.path === target);
  assert(direct === -1, `${what} wrote the target in place instead of through a temp file`);
  const move = events.findLastIndex((event) =>
    (event.op === "rename" || event.op === "link") && event.path === target
  );
  assert(move !== -1, `${what} never moved a temp file to the target`);
  const temp = events[move].from!;
  assert(dirname(temp) === dirname(target), `${what} used a temp file in another directory`);
  const lastWrite = events.findLastIndex((event, i) =>
    i < move && event.op === "write" && event.path === temp
  );
  assert(lastWrite !== -1, `${what} moved a temp file it never wrote`);
  assert(
    events.slice(lastWrite + 1, move).some((event) => event.op === "sync" && event.path === temp),
    `${what} moved the temp file into place before fsyncing it: power loss could leave an ` +
      "empty or partial record",
  );
  assert(
    syncedAfter(events, dirname(target), move),
    `${what} resolved before fsyncing "${dirname(target)}": power loss could undo it`,
  );
  for (const [i, event] of events.entries()) {
    if (event.op === "mkdir" && target.startsWith(`${event.path}/`)) {
      assert(
        syncedAfter(events, dirname(event.path), i),
        `${what} resolved before fsyncing "${dirname(event.path)}" after creating ` +
          `"${event.path}": power loss could drop the directory and the record with it`,
      );
    }
  }
  for (const dir of unsyncedDirs) {
    assert(
      syncedAfter(events, dirname(dir), -1),
      `${what} resolved without fsyncing "${dirname(dir)}", so "${dir}" (created by a writer ` +
        "that died before fsyncing it) and the record inside may vanish on power loss",
    );
  }
}

Deno.test("FileStorageAdapter fsyncs each record before moving it into place, and its directory after", async () => {
  await withTempDir(async (dir) => {
    const storage = new FileStorageAdapter(dir);
    await storage.connect();
    try {
      const cases: [string, string, () => Promise<void>][] = [
        ["saveProgram() new", "programs/p1.json", () => storage.saveProgram(makeProgram())],
        [
          "saveProgram() replace",
          "programs/p1.json",
          () => storage.saveProgram(makeProgram({ name: "again" })),
        ],
        ["saveExecution() new", "executions/e1.json", () => storage.saveExecution(makeExecution())],
        [
          "saveExecution() replace",
          "executions/e1.json",
          () => storage.saveExecution(makeExecution({ pc: 2 })),
        ],
        [
          "saveHistory() first entry",
          "history/e1/1767323045678-0.json",
          () => storage.saveHistory(makeHistory()),
        ],
        [
          "saveHistory() next entry",
          "history/e1/1767323045678-1.json",
          () => storage.saveHistory(makeHistory({ step: 1 })),
        ],
      ];
      for (const [name, target, write] of cases) {
        await recordFs(async (events) => {
          await write();
          try {
            assertDurableWrite(events, join(dir, target));
          } catch (error) {
            throw new Error(`${name}: ${(error as Error).message}`, { cause: error });
          }
        });
      }
    } finally {
      await storage.disconnect();
    }
  });
});

Deno.test("FileStorageAdapter.saveHistory() from many promises at once shares directory fsyncs, each write durable", async () => {
  await withTempDir(async (dir) => {
    const storage = new FileStorageAdapter(dir);
    await storage.connect();
    try {
      const WRITES = 100;
      await recordFs(async (events) => {
        const resolved: number[] = [];
        await Promise.all(
          Array.from({ length: WRITES }, async (_, step) => {
            await storage.saveHistory(makeHistory({ step }));
            resolved[step] = events.length;
          }),
        );
        const e1 = join(dir, "history", "e1");
        for (let step = 0; step < WRITES; step++) {
          // Only what had happened when this write resolved counts.
          const seen = events.slice(0, resolved[step]);
          assertDurableWrite(seen, join(e1, `1767323045678-${step}.json`));
        }
        const dirSyncs = events.filter((e) => e.op === "sync" && e.path === e1).length;
        const parentSyncs = events.filter((e) =>
          e.op === "sync" && e.path === join(dir, "history")
        ).length;
        console.log(`${WRITES} concurrent writes: ${dirSyncs} fsyncs of their directory`);
        assert(dirSyncs < WRITES / 2, `${dirSyncs} directory fsyncs for ${WRITES} writes`);
        assertEquals(parentSyncs, 1, "the new directory's entry was fsynced once");
      });
      assertEquals((await storage.getHistory("e1")).length, WRITES);
    } finally {
      await storage.disconnect();
    }
  });
});

Deno.test("FileStorageAdapter.deleteProgram() and deleteExecution() fsync the directory before resolving", async () => {
  await withTempDir(async (dir) => {
    const storage = new FileStorageAdapter(dir);
    await storage.connect();
    try {
      await storage.saveProgram(makeProgram());
      await storage.saveExecution(makeExecution());
      await storage.saveHistory(makeHistory());
      await recordFs(async (events) => {
        assert(await storage.deleteProgram("p1"));
        const unlink = events.findIndex((e) => e.op === "unlink");
        assert(unlink !== -1 && syncedAfter(events, join(dir, "programs"), unlink));
      });
      await recordFs(async (events) => {
        assert(await storage.deleteExecution("e1"));
        const unlink = events.findIndex((e) => e.op === "unlink");
        assert(unlink !== -1 && syncedAfter(events, join(dir, "executions"), unlink));
        const hide = events.findIndex((e) => e.op === "rename" && e.from?.endsWith("/e1"));
        assert(hide !== -1 && syncedAfter(events, join(dir, "history"), hide));
      });
    } finally {
      await storage.disconnect();
    }
  });
});

Deno.test({
  name: "FileStorageAdapter.saveHistory() makes durable a history directory a killed writer left",
  async fn() {
    await withTempDir(async (dir) => {
      const storage = new FileStorageAdapter(dir);
      await storage.connect();
      try {
        // What a writer killed between mkdir and the fsync of its parent leaves behind.
        const orphan = join(dir, "history", "e1");
        await Deno.mkdir(orphan);
        await recordFs(async (events) => {
          await storage.saveHistory(makeHistory());
          assertDurableWrite(events, join(orphan, "1767323045678-0.json"), [orphan]);
        });
      } finally {
        await storage.disconnect();
      }
    });
  },
});

// Temp files in 0.1's form carry no lock: only the pid says whether their writer is gone.
// With only --allow-read and --allow-write, Deno cannot ask (/proc needs --allow-all,
// process.kill() --allow-run), so connect() must keep such a leftover however old: its
// writer may be alive. One that can tell removes it. (Today's temp files are judged by
// their lock, which needs no permission: tests/temp_files_test.ts.)
Deno.test({
  name:
    "FileStorageAdapter.connect() keeps temp files of writers it cannot check, and one that can check removes them",
  ignore: !canSpawn,
  async fn() {
    await withTempDir(async (dir) => {
      // A process that has exited and been waited for: its pid is dead.
      const first = spawnWorker("connector.ts", [dir]);
      const { status, stderr } = await first.finish();
      assert(status.success, stderr);
      const pid = first.child.pid;
      const fresh = join("programs", `.cvm-${pid}-00000000000000ff.tmp`);
      const old = join("executions", `.cvm-${pid}-0123456789abcdef.tmp`);
      const doomed = join("history", `.cvm-${pid}-fedcba9876543210.del`);
      await Deno.writeTextFile(join(dir, fresh), "{");
      await Deno.writeTextFile(join(dir, old), "{");
      await Deno.mkdir(join(dir, doomed, "nested"), { recursive: true });
      const dayAgo = new Date(Date.now() - 24 * 60 * 60 * 1000);
      await Deno.utime(join(dir, old), dayAgo, dayAgo);
      await Deno.utime(join(dir, doomed), dayAgo, dayAgo);

      const blind = await spawnWorker("connector.ts", [dir]).finish();
      assert(blind.status.success, blind.stderr);
      assertEquals(await findTemps(dir), [doomed, old, fresh].sort());

      const seeing = spawnWorker("connector.ts", [dir], {
        permissions: ["--allow-read", "--allow-write", "--allow-run"],
      });
      const result = await seeing.finish();
      assert(result.status.success, result.stderr);
      assertEquals(await findTemps(dir), []);
    });
  },
});

Deno.test({
  name: "FileStorageAdapter.connect() makes a data directory it creates durable",
  async fn() {
    await withTempDir(async (dir) => {
      const dataDir = join(dir, "new", "data");
      const storage = new FileStorageAdapter(dataDir);
      await recordFs(async (events) => {
        await storage.connect();
        const created = events.findIndex((e) => e.op === "mkdir" && e.path === dataDir);
        assert(created !== -1, `connect() did not create "${dataDir}"`);
        for (const made of [join(dir, "new"), dataDir]) {
          assert(
            syncedAfter(events, dirname(made), created),
            `connect() resolved before fsyncing "${dirname(made)}" after creating "${made}"`,
          );
        }
      });
      await storage.disconnect();
    });
  },
});
