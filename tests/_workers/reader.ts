// Child process of tests/concurrency_test.ts: reads everything in a loop while the
// writers write, and reports whatever it should never see.
//
// Usage: deno run --allow-read --allow-write reader.ts <dataDir>
//
// Prints {"kind":"ready"}, waits for `go` on stdin, then reads until stdin closes. Each
// problem is reported at once as {"kind":"problem","message":…}: an error of any kind, a
// record that is not exactly one version a writer wrote, a history entry that vanished or
// changed after it was seen, a key listed twice. Ends with
// {"kind":"summary","reads":…,"rounds":…,"records":…,"problems":…}.

import { type Execution, FileStorageAdapter, type History, type Program } from "../../mod.ts";
import {
  checkWriterHistory,
  checkWriterRecord,
  SHARED_EXECUTION_ID,
  SHARED_PROGRAM_ID,
} from "./_records.ts";
import { readStdinLines, report } from "./_stdin.ts";

const [dataDir] = Deno.args;
const storage = new FileStorageAdapter(dataDir);
await storage.connect();
report({ kind: "ready" });

let go!: () => void;
const started = new Promise<void>((resolve) => go = resolve);
let stopped = false;
const stdin = readStdinLines((line) => {
  if (line === "go") go();
}).then(() => {
  stopped = true;
  go();
});

let reads = 0;
let rounds = 0;
let problems = 0;
let records = 0;
const problem = (message: string) => {
  problems++;
  if (problems <= 20) report({ kind: "problem", message });
};

/** Every history entry seen so far: `step/timestamp` → its writer. */
const seen = new Map<string, number>();

const read = async <T>(what: string, fn: () => Promise<T>): Promise<T | undefined> => {
  reads++;
  try {
    return await fn();
  } catch (error) {
    problem(`${what} threw ${String(error)}`);
    return undefined;
  }
};

const checkRecords = (what: "execution" | "program", list: (Execution | Program)[]) => {
  if (list.length > 1) problem(`listing ${what}s gave ${list.length} records`);
  for (const record of list) {
    records++;
    const bad = checkWriterRecord(what, record);
    if (bad !== undefined) problem(bad);
  }
};

const checkHistory = (entries: History[]) => {
  const keys = new Set<string>();
  for (const entry of entries) {
    records++;
    const bad = checkWriterHistory(entry);
    if (bad !== undefined) problem(bad);
    const key = `${entry.step}/${entry.timestamp.getTime()}`;
    if (keys.has(key)) problem(`history lists key ${key} twice`);
    keys.add(key);
    const writer = (entry.variables as { writer: number }).writer;
    const before = seen.get(key);
    if (before !== undefined && before !== writer) {
      problem(`history entry ${key} was written by ${before}, then replaced by ${writer}`);
    }
    seen.set(key, writer);
  }
  for (const key of seen.keys()) {
    if (!keys.has(key)) problem(`history entry ${key} was seen, then vanished`);
  }
};

await started;
while (!stopped) {
  rounds++;
  const execution = await read("getExecution()", () => storage.getExecution(SHARED_EXECUTION_ID));
  if (execution) checkRecords("execution", [execution]);
  const program = await read("getProgram()", () => storage.getProgram(SHARED_PROGRAM_ID));
  if (program) checkRecords("program", [program]);
  const executions = await read("listExecutions()", () => storage.listExecutions());
  if (executions) checkRecords("execution", executions);
  const programs = await read("listPrograms()", () => storage.listPrograms());
  if (programs) checkRecords("program", programs);
  const history = await read("getHistory()", () => storage.getHistory(SHARED_EXECUTION_ID));
  if (history) checkHistory(history);
}
await stdin;
report({ kind: "summary", reads, rounds, records, problems, historySeen: seen.size });
await storage.disconnect();
