// Crash consistency of the MongoDB backend: the client process is killed (SIGKILL) at
// random moments while it writes; nothing it acknowledged may be lost, and nothing stored
// may be torn. (The server is not killed: its own durability is the server's business.)
//
// tests/_workers/mongodb_crash_writer.ts saves an execution, a program, a history entry and
// three output lines in one call, in a loop. CVM_MONGODB_CRASH_KILLS sets the number of
// kills (default 8); CVM_CRASH_SEED replays a run.

import { assert, assertEquals } from "@std/assert";
import { type Execution, type History, MongoDBAdapter, type Program } from "../mod.ts";
import { deepEqual } from "../src/_deep_equal.ts";
import {
  dropDatabase,
  freshDbName,
  mongoTest,
  noServer,
  reportMissingServer,
  uri,
} from "./_mongodb.ts";
import { prng } from "./_utils.ts";
import {
  CRASH_EXECUTION_ID,
  CRASH_PROGRAM_ID,
  crashExecution,
  crashHistory,
  crashProgram,
  versionOf,
} from "./_workers/_records.ts";
import { canSpawn, spawnWorker } from "./_workers/_spawn.ts";

reportMissingServer("mongodb_crash_test.ts");

const env = (name: string) =>
  Deno.permissions.querySync({ name: "env" }).state === "granted" ? Deno.env.get(name) : undefined;
const KILLS = Number(env("CVM_MONGODB_CRASH_KILLS") || 8);
const SEED = Number(env("CVM_CRASH_SEED") || Date.now() % 1_000_000);

/** The versions a record may hold after a run: the last acknowledged one, or the next. */
function allowed(previous: number | null, acked: number[], first: number): (number | null)[] {
  if (acked.length > 0) return [acked[acked.length - 1], acked[acked.length - 1] + 1];
  return [previous, first];
}

mongoTest(
  `MongoDBAdapter loses no acknowledged write when its process is killed mid-write (${KILLS} kills)`,
  noServer ?? (canSpawn ? undefined : "needs --allow-run --allow-read"),
  async () => {
    const dbName = freshDbName();
    const random = prng(SEED);
    console.log(`seed ${SEED} (CVM_CRASH_SEED replays it)`);
    const storage = new MongoDBAdapter({ uri: uri!, dbName, timeoutMS: 10_000 });
    const problems: string[] = [];
    let execution: number | null = null;
    let program: number | null = null;
    const ackedSteps = new Map<number, number>();
    const ackedOutput: number[] = [];
    let writes = 0;
    try {
      for (let kill = 1; kill <= KILLS; kill++) {
        const worker = spawnWorker("mongodb_crash_writer.ts", [uri!, dbName], {
          permissions: ["--allow-net", "--allow-env", "--allow-read"],
        });
        const target = 2 + Math.floor(random() * 40);
        const reached = await worker.waitForLines(target, 60_000);
        worker.kill();
        const { stderr } = await worker.finish();
        assert(reached || worker.lines.length > 0, `the writer printed nothing:\n${stderr}`);
        const executions: number[] = [];
        const programs: number[] = [];
        let first = 0;
        for (const line of worker.lines) {
          const [what, a, b] = line.split(" ");
          if (what === "ready") first = Number(a);
          else if (what === "execution") executions.push(Number(a));
          else if (what === "program") programs.push(Number(a));
          else if (what === "history") ackedSteps.set(Number(a), Number(b));
          else if (what === "output") ackedOutput.push(Number(a));
          writes += what === "ready" ? 0 : 1;
        }

        await storage.connect();
        const check = <T extends Execution | Program>(
          kind: string,
          got: T | null,
          build: (version: number) => T,
          previous: number | null,
          acked: number[],
        ): number | null => {
          const version = got === null ? null : versionOf(got);
          if (got !== null && !deepEqual(got, build(version!))) {
            problems.push(`kill ${kill}: ${kind} is not a whole version (claims ${version})`);
          }
          const expected = allowed(previous, acked, first);
          if (!expected.includes(version)) {
            problems.push(`kill ${kill}: ${kind} holds ${version}, expected ${expected}`);
          }
          return version;
        };
        execution = check(
          "execution",
          await storage.getExecution(CRASH_EXECUTION_ID),
          crashExecution,
          execution,
          executions,
        );
        program = check(
          "program",
          await storage.getProgram(CRASH_PROGRAM_ID),
          crashProgram,
          program,
          programs,
        );
        const history: History[] = await storage.getHistory(CRASH_EXECUTION_ID);
        const steps = new Set<number>();
        for (const entry of history) {
          if (steps.has(entry.step)) problems.push(`kill ${kill}: step ${entry.step} twice`);
          steps.add(entry.step);
          if (!deepEqual(entry, crashHistory(entry.step, entry.timestamp))) {
            problems.push(`kill ${kill}: history step ${entry.step} is torn`);
          }
        }
        for (const [step, time] of ackedSteps) {
          const found = history.find((h) => h.step === step);
          if (found?.timestamp.getTime() !== time) {
            problems.push(`kill ${kill}: acknowledged step ${step} is lost`);
          }
        }
        const lines = await storage.getOutput(CRASH_EXECUTION_ID);
        const versions: number[] = [];
        for (let i = 0; i < lines.length; i += 3) {
          const v = Number(lines[i].split(" ")[1]);
          const whole = ["a", "b", "c"].map((l) => `out ${v} ${l}`);
          if (!deepEqual(lines.slice(i, i + 3), whole)) {
            problems.push(`kill ${kill}: output call ${v} is torn: ${lines.slice(i, i + 3)}`);
          }
          versions.push(v);
        }
        for (const v of ackedOutput) {
          if (!versions.includes(v)) problems.push(`kill ${kill}: acknowledged output ${v} lost`);
        }
        if (new Set(versions).size !== versions.length) {
          problems.push(`kill ${kill}: an output call is stored twice`);
        }
        await storage.disconnect();
      }
      console.log(
        `${KILLS} kills, ${writes} acknowledged writes (${ackedSteps.size} history entries, ` +
          `${ackedOutput.length} output calls), ${problems.length} problems`,
      );
      assertEquals(problems, []);
      assert(ackedSteps.size > 0 && ackedOutput.length > 0, "the writer acknowledged writes");
    } finally {
      await storage.disconnect();
      await dropDatabase(uri!, dbName);
    }
  },
);
