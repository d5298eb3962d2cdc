// Child process of tests/mongodb_crash_test.ts: writes to MongoDB until it is killed.
//
// Usage: deno run --allow-net --allow-env --allow-read mongodb_crash_writer.ts <uri> <dbName>
//
// Like crash_writer.ts for the file backend, it resumes from what it finds and prints
// `ready <version> <step> <output>` once connected, then one line per acknowledged write,
// only after the write's promise has resolved:
//   execution <version>
//   program <version>
//   history <step> <timestamp ms>
//   output <version>        (three lines "out <version> a|b|c", appended in one call)

import { MongoDBAdapter } from "../../mod.ts";
import {
  CRASH_EXECUTION_ID,
  CRASH_PROGRAM_ID,
  crashExecution,
  crashHistory,
  crashProgram,
  versionOf,
} from "./_records.ts";

const [uri, dbName] = Deno.args;
const storage = new MongoDBAdapter({ uri, dbName, timeoutMS: 10_000 });
await storage.connect();

const stored = await storage.getExecution(CRASH_EXECUTION_ID);
const storedProgram = await storage.getProgram(CRASH_PROGRAM_ID);
const lines = await storage.getOutput(CRASH_EXECUTION_ID);
let version = Math.max(
  stored === null ? 0 : versionOf(stored) + 1,
  storedProgram === null ? 0 : versionOf(storedProgram) + 1,
  lines.length === 0 ? 0 : Number(lines[lines.length - 1].split(" ")[1]) + 1,
);
const [last] = await storage.getHistory(CRASH_EXECUTION_ID, { reverse: true, limit: 1 });
let step = last === undefined ? 0 : last.step + 1;
console.log(`ready ${version} ${step} ${lines.length}`);

for (;;) {
  await storage.saveExecution(crashExecution(version));
  console.log(`execution ${version}`);
  await storage.saveProgram(crashProgram(version));
  console.log(`program ${version}`);
  const timestamp = new Date();
  await storage.saveHistory(crashHistory(step, timestamp));
  console.log(`history ${step} ${timestamp.getTime()}`);
  await storage.appendOutput(CRASH_EXECUTION_ID, ["a", "b", "c"].map((l) => `out ${version} ${l}`));
  console.log(`output ${version}`);
  version++;
  step++;
}
