// Concurrent processes sharing one data directory: tests/_workers/concurrent_writer.ts
// (several) saves versions of the same program and execution and appends history, while
// tests/_workers/reader.ts reads in a loop. The parent races contested history keys by
// telling every writer to save the same key at the same moment.

import { assert, assertEquals } from "@std/assert";
import { join } from "node:path";
import { FileStorageAdapter } from "../mod.ts";
import { withTempDir } from "./_utils.ts";
import {
  CONTESTED_TIME,
  contestedHistory,
  SHARED_EXECUTION_ID,
  SHARED_PROGRAM_ID,
  writerExecution,
  writerHistory,
  writerProgram,
} from "./_workers/_records.ts";
import { canSpawn, spawnWorker, type Worker } from "./_workers/_spawn.ts";

const WRITERS = 4;
/** Versions of the execution and the program, and own history entries, per writer. */
const COUNT = 40;
/** Contested history keys; every writer tries each one. */
const CONTESTS = 40;
/**
 * The writers' permissions. Each writer reconnects now and then, and `connect()` removes the
 * temp files of writers proven done with them (src/file/_temp_files.ts): by their lock, with
 * any permissions, and by their pid where the runtime may ask (under Deno, process.kill()
 * needs --allow-run), so the writers cover every way, while the others have temp files in
 * flight.
 */
const WRITER_PERMISSIONS = [
  ["--allow-read", "--allow-write"],
  ["--allow-read", "--allow-write", "--allow-run"],
  ["--allow-all"],
];
/** How many of them are raced before the writers start their own writes. */
const QUIET_CONTESTS = 30;
/** How far ahead the parent sets the moment of each race: enough for every writer to hear. */
const CONTEST_DELAY_MS = 15;

interface Line {
  kind: string;
  writer?: number;
  step?: number;
  outcome?: string;
  at?: number;
  message?: string;
  [key: string]: unknown;
}

function parse(worker: Worker): Line[] {
  return worker.lines.map((line) => {
    try {
      return JSON.parse(line) as Line;
    } catch {
      return { kind: "error", message: `unexpected output: ${line}` };
    }
  });
}

/** Every temp file or directory under `dir`, relative to it. */
async function findTemps(dir: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (sub: string) => {
    for await (const entry of Deno.readDir(join(dir, sub))) {
      const rel = sub === "" ? entry.name : `${sub}/${entry.name}`;
      if (entry.name.startsWith(".cvm-")) found.push(rel);
      else if (entry.isDirectory) await walk(rel);
    }
  };
  await walk("");
  return found;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? Number.NaN : sorted[Math.floor(sorted.length / 2)];
}

Deno.test({
  name:
    "FileStorageAdapter keeps records whole and each history key single across concurrent processes",
  ignore: !canSpawn,
  async fn() {
    const started = performance.now();
    await withTempDir(async (dir) => {
      const writers = Array.from(
        { length: WRITERS },
        (_, w) =>
          spawnWorker("concurrent_writer.ts", [dir, String(w), String(COUNT)], {
            stdin: true,
            permissions: WRITER_PERMISSIONS[w % WRITER_PERMISSIONS.length],
          }),
      );
      const reader = spawnWorker("reader.ts", [dir], { stdin: true });
      const workers = [...writers, reader];
      const results: { status: Deno.CommandStatus; stderr: string }[] = [];
      let finished = false;
      try {
        for (const worker of workers) {
          assert(await worker.waitForLines(1), "a worker did not start");
        }
        await reader.send("go");
        // Round by round, every writer saves contested key `step` at the same moment: most
        // rounds while the writers are otherwise idle (the tightest race), the rest while
        // they write as fast as they can (a race under load).
        const contest = async (from: number, to: number) => {
          for (let step = from; step < to; step++) {
            const time = performance.timeOrigin + performance.now() + CONTEST_DELAY_MS;
            await Promise.all(writers.map((writer) => writer.send(`contest ${step} ${time}`)));
            const reported = (lines: string[]) =>
              lines.filter((line) => line.includes(`"kind":"contest"`)).length === step + 1;
            for (const writer of writers) {
              assert(await writer.waitUntil(reported), `a writer did not report contest ${step}`);
            }
          }
        };
        await contest(0, QUIET_CONTESTS);
        await Promise.all(writers.map((writer) => writer.send("go")));
        await contest(QUIET_CONTESTS, CONTESTS);
        for (const writer of writers) await writer.closeStdin();
        for (const writer of writers) results.push(await writer.finish());
        await reader.closeStdin();
        results.push(await reader.finish());
        finished = true;
      } finally {
        if (!finished) {
          for (const worker of workers) worker.kill();
          for (const worker of workers) await worker.finish();
        }
      }
      for (const [i, { status, stderr }] of results.entries()) {
        assert(status.success, `worker ${i} exited with code ${status.code}: ${stderr}`);
      }

      const writerLines = writers.map(parse);
      const readerLines = parse(reader);
      const errors = [...writerLines.flat(), ...readerLines].filter((line) =>
        line.kind === "error" || line.kind === "problem"
      );
      assertEquals(errors, [], "no writer failed and the reader saw nothing torn or invalid");
      const summary = readerLines.find((line) => line.kind === "summary");
      if (summary === undefined) throw new Error("the reader printed no summary");
      assert((summary.reads as number) > 0, "the reader read nothing");

      // Each contested key: exactly one winner; every other writer got a ConflictError.
      const winners = new Map<number, number>();
      const quietSpreads: number[] = [];
      const loadedSpreads: number[] = [];
      for (let step = 0; step < CONTESTS; step++) {
        const tries = writerLines.flat().filter((l) => l.kind === "contest" && l.step === step);
        assertEquals(tries.length, WRITERS, `every writer tried contested step ${step}`);
        const won = tries.filter((l) => l.outcome === "won");
        const conflicts = tries.filter((l) => l.outcome === "conflict");
        assertEquals(
          { won: won.length, conflicts: conflicts.length },
          { won: 1, conflicts: WRITERS - 1 },
          `contested step ${step}: ${JSON.stringify(tries)}`,
        );
        winners.set(step, won[0].writer!);
        const times = tries.map((l) => l.at!);
        (step < QUIET_CONTESTS ? quietSpreads : loadedSpreads)
          .push(Math.max(...times) - Math.min(...times));
      }

      const temps = await findTemps(dir);
      assertEquals(temps, [], "writers that exited cleanly leave no temp files");
      const storage = new FileStorageAdapter(dir);
      await storage.connect();
      try {
        const lastVersions = Array.from({ length: WRITERS }, (_, w) => w);
        const execution = await storage.getExecution(SHARED_EXECUTION_ID);
        assert(
          lastVersions.some((w) =>
            JSON.stringify(execution) === JSON.stringify(writerExecution(w, COUNT - 1))
          ),
          `the execution is the last version of one writer, not ${
            JSON.stringify(execution).slice(0, 200)
          }`,
        );
        const program = await storage.getProgram(SHARED_PROGRAM_ID);
        assert(
          lastVersions.some((w) =>
            JSON.stringify(program) === JSON.stringify(writerProgram(w, COUNT - 1))
          ),
          `the program is the last version of one writer, not ${JSON.stringify(program)}`,
        );
        assertEquals((await storage.listExecutions()).length, 1);
        assertEquals((await storage.listPrograms()).length, 1);

        const history = await storage.getHistory(SHARED_EXECUTION_ID);
        const expected = [];
        for (let step = 0; step < Math.max(COUNT, CONTESTS); step++) {
          if (step < COUNT) {
            for (let w = 0; w < WRITERS; w++) expected.push(writerHistory(w, step));
          }
          if (step < CONTESTS) expected.push(contestedHistory(winners.get(step)!, step));
        }
        expected.sort((a, b) => a.step - b.step || a.timestamp.getTime() - b.timestamp.getTime());
        assertEquals(history.length, expected.length, "every entry is stored exactly once");
        assertEquals(history, expected, "each contested key holds its winner's entry");
        assert(history.some((entry) => entry.timestamp.getTime() === CONTESTED_TIME.getTime()));
        assertEquals(await findTemps(dir), []);
      } finally {
        await storage.disconnect();
      }

      const writes = writerLines.flat().filter((line) => line.kind === "done")
        .reduce((sum, line) => sum + (line.writes as number), 0);
      console.log(
        `concurrency test: ${WRITERS} writer processes × ${COUNT * 3} writes ` +
          `(${COUNT} versions each of one execution and one program, ${COUNT} own history ` +
          `entries) + ${CONTESTS} contested history keys × ${WRITERS} attempts ` +
          `(first to last attempt, median: ${median(quietSpreads).toFixed(2)} ms for ` +
          `${QUIET_CONTESTS} keys raced alone, ${median(loadedSpreads).toFixed(2)} ms for ` +
          `${CONTESTS - QUIET_CONTESTS} raced during the writes), ` +
          `1 reader process: ${summary.reads} reads in ${summary.rounds} rounds ` +
          `(${summary.records} records checked), ${summary.problems} torn or invalid ` +
          `records, ${errors.length} errors; ${writes} writes acknowledged in all; ` +
          `${((performance.now() - started) / 1000).toFixed(1)} s`,
      );
    });
  },
});
