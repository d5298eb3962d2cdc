/**
 * The reader process of the kit's concurrency test: reads everything in a loop while the
 * writers write, and reports whatever it should never see.
 *
 * Usage: deno run <permissions> _reader_child.ts <adapterModule> <store>
 *
 * Prints {"kind":"ready"}, waits for `go` on stdin, then reads until stdin closes. Each
 * problem is reported at once as {"kind":"problem","message":…}: an error of any kind, a
 * record that is not exactly one version a writer wrote, a history entry that vanished or
 * changed after it was seen, a key listed twice, output that is not whole appends or that
 * lost lines it had. Ends with {"kind":"summary","reads":…,"rounds":…,"records":…,
 * "problems":…}.
 *
 * @module
 */

import type { Execution, History, Program } from "../../types.ts";
import { loadAdapterModule } from "./_adapter_module.ts";
import { readStdinLines, report } from "./_child_io.ts";
import {
  checkWriterHistory,
  checkWriterOutput,
  checkWriterRecord,
  SHARED_EXECUTION_ID,
  SHARED_PROGRAM_ID,
} from "./_records.ts";

const [module, store] = Deno.args;
const storage = await (await loadAdapterModule(module))(store);
await storage.connect();
report({ kind: "ready" });

const go = Promise.withResolvers<void>();
let stopped = false;
const stdin = readStdinLines((line) => {
  if (line === "go") go.resolve();
}).then(() => {
  stopped = true;
  go.resolve();
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
/** The output as last read. */
let output: string[] = [];

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

const checkOutput = (lines: string[]) => {
  records += lines.length;
  const { problem: bad } = checkWriterOutput(lines);
  if (bad !== undefined) problem(bad);
  const lost = output.findIndex((line, i) => lines[i] !== line);
  if (lost !== -1) {
    problem(`output line ${lost} changed or vanished: the output is append-only`);
  }
  output = lines;
};

await go.promise;
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
  const lines = await read("getOutput()", () => storage.getOutput(SHARED_EXECUTION_ID));
  if (lines) checkOutput(lines);
  const current = await read("getCurrentExecutionId()", () => storage.getCurrentExecutionId());
  if (current !== undefined && current !== null && !/^w\d+-s\d+$/.test(current)) {
    problem(`the current execution is ${JSON.stringify(current)}, which no writer set`);
  }
}
await stdin;
report({ kind: "summary", reads, rounds, records, problems, historySeen: seen.size });
await storage.disconnect();
