/**
 * Child process of the crash test: writes until it is killed.
 *
 * Usage: deno run <permissions> _crash_child.ts <adapterModule> <store>
 *
 * It resumes from what it finds (the next version after the stored one, the next step
 * after the latest entry, the next output batch after the last line), so the history and
 * the output keep growing across kills. It prints {"kind":"ready",…} once connected, then
 * one line per acknowledged write, only after the write's promise resolved:
 * {"kind":"execution","version":…}, {"kind":"program","version":…},
 * {"kind":"history","step":…,"time":…}, {"kind":"output","batch":…},
 * {"kind":"current","id":…}.
 *
 * @module
 */

import { loadAdapterModule } from "./_adapter_module.ts";
import { report } from "./_child_io.ts";
import {
  CRASH_EXECUTION_ID,
  CRASH_PROGRAM_ID,
  crashExecution,
  crashHistory,
  crashLines,
  crashProgram,
  versionOf,
} from "./_records.ts";

const [adapterModule, store] = Deno.args;
const storage = await (await loadAdapterModule(adapterModule))(store);
await storage.connect();

const execution = await storage.getExecution(CRASH_EXECUTION_ID);
const program = await storage.getProgram(CRASH_PROGRAM_ID);
let version = Math.max(
  execution === null ? 0 : versionOf(execution) + 1,
  program === null ? 0 : versionOf(program) + 1,
);
const [latest] = await storage.getHistory(CRASH_EXECUTION_ID, { reverse: true, limit: 1 });
let step = latest === undefined ? 0 : latest.step + 1;
const lines = await storage.getOutput(CRASH_EXECUTION_ID);
const last = lines[lines.length - 1];
let batch = last === undefined ? 0 : Number(/^batch (\d+) /.exec(last)?.[1]) + 1;
report({ kind: "ready", version, step, batch });

for (;;) {
  await storage.saveExecution(crashExecution(version));
  report({ kind: "execution", version });
  await storage.saveProgram(crashProgram(version));
  report({ kind: "program", version });
  const timestamp = new Date();
  await storage.saveHistory(crashHistory(step, timestamp));
  report({ kind: "history", step, time: timestamp.getTime() });
  await storage.appendOutput(CRASH_EXECUTION_ID, crashLines(batch));
  report({ kind: "output", batch });
  const id = `run-${version}`;
  await storage.setCurrentExecutionId(id);
  report({ kind: "current", id });
  version++;
  step++;
  batch++;
}
