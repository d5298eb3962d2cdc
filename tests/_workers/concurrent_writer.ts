// Child process of tests/concurrency_test.ts: one of several writers sharing one data
// directory and one set of ids.
//
// Usage: deno run --allow-read --allow-write concurrent_writer.ts <dataDir> <writer> <count>
//
// Prints {"kind":"ready"} once connected. Each `contest <step> <time>` line on stdin makes
// it save its entry for the contested key `(step, CONTESTED_TIME)` at <time> (epoch ms, the
// same for every writer) and report {"kind":"contest","step":…,"outcome":"won"|"conflict"|
// "error"}. After `go`, it also saves <count> versions of the shared execution and program
// and <count> history entries of its own, reconnecting with a fresh adapter every 8 (which
// removes stale temp files while the other writers are writing). Any failure is reported
// as {"kind":"error",…}. It exits once that loop is done and stdin has closed, after
// printing {"kind":"done","writes":…}.

import { ConflictError, FileStorageAdapter } from "../../mod.ts";
import { contestedHistory, writerExecution, writerHistory, writerProgram } from "./_records.ts";
import { readStdinLines, report } from "./_stdin.ts";

const [dataDir, writerArg, countArg] = Deno.args;
const writer = Number(writerArg);
const count = Number(countArg);

let storage = new FileStorageAdapter(dataDir);
await storage.connect();
report({ kind: "ready", writer });

let writes = 0;
let go!: () => void;
const started = new Promise<void>((resolve) => go = resolve);
const contests: Promise<void>[] = [];

const now = () => performance.timeOrigin + performance.now();

/** Saves this writer's entry for a contested key at `time` (epoch ms), as the others do. */
const contest = async (step: number, time: number) => {
  // Sleep until just before the moment, then spin, so that all writers start together.
  if (time - now() > 2) await new Promise((resolve) => setTimeout(resolve, time - now() - 2));
  while (now() < time) {
    // Spin.
  }
  const at = now();
  try {
    await storage.saveHistory(contestedHistory(writer, step));
    writes++;
    report({ kind: "contest", writer, step, time, at, outcome: "won" });
  } catch (error) {
    const outcome = error instanceof ConflictError ? "conflict" : "error";
    report({ kind: "contest", writer, step, time, at, outcome, message: String(error) });
  }
};

const stdin = readStdinLines((line) => {
  const [command, step, time] = line.split(" ");
  if (command === "go") go();
  else if (command === "contest") contests.push(contest(Number(step), Number(time)));
  else report({ kind: "error", writer, message: `unknown command ${JSON.stringify(line)}` });
}).finally(() => go());

const attempt = async (what: string, seq: number, write: () => Promise<void>) => {
  try {
    await write();
    if (what !== "connect") writes++;
  } catch (error) {
    report({ kind: "error", writer, what, seq, message: String(error) });
  }
};

await started;
for (let seq = 0; seq < count; seq++) {
  if (seq % 8 === 7) {
    const next = new FileStorageAdapter(dataDir);
    await attempt("connect", seq, () => next.connect());
    // Swap first: a contest may start while the old adapter is being disconnected.
    const old = storage;
    storage = next;
    await old.disconnect();
  }
  await attempt("execution", seq, () => storage.saveExecution(writerExecution(writer, seq)));
  await attempt("program", seq, () => storage.saveProgram(writerProgram(writer, seq)));
  await attempt("history", seq, () => storage.saveHistory(writerHistory(writer, seq)));
}
report({ kind: "looped", writer });
await stdin;
await Promise.all(contests);
report({ kind: "done", writer, writes });
await storage.disconnect();
