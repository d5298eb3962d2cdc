// Child process of tests/crash_test.ts: writes until it is killed.
//
// Usage: deno run --allow-read --allow-write crash_writer.ts <dataDir>
//
// It resumes from what it finds (the next version after the stored one, the next step
// after the last stored one), so the history keeps growing across restarts. It prints
// `ready <version> <step>` once connected, then one line per acknowledged write, only after
// the write's promise has resolved:
//   execution <version>
//   program <version>
//   history <step> <timestamp ms>

import { FileStorageAdapter } from "../../mod.ts";
import {
  CRASH_EXECUTION_ID,
  CRASH_PROGRAM_ID,
  crashExecution,
  crashHistory,
  crashProgram,
  versionOf,
} from "./_records.ts";

const [dataDir] = Deno.args;
const storage = new FileStorageAdapter(dataDir);
await storage.connect();

const stored = await storage.getExecution(CRASH_EXECUTION_ID);
const storedProgram = await storage.getProgram(CRASH_PROGRAM_ID);
let version = Math.max(
  stored === null ? 0 : versionOf(stored) + 1,
  storedProgram === null ? 0 : versionOf(storedProgram) + 1,
);
const history = await storage.getHistory(CRASH_EXECUTION_ID);
let step = history.length === 0 ? 0 : history[history.length - 1].step + 1;
console.log(`ready ${version} ${step}`);

for (;;) {
  await storage.saveExecution(crashExecution(version));
  console.log(`execution ${version}`);
  await storage.saveProgram(crashProgram(version));
  console.log(`program ${version}`);
  const timestamp = new Date();
  await storage.saveHistory(crashHistory(step, timestamp));
  console.log(`history ${step} ${timestamp.getTime()}`);
  version++;
  step++;
}
