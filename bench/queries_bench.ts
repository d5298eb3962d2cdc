// Queries at scale on the file backend (issue 9): reading only what a query needs.
//
//   deno run -A bench/queries_bench.ts
//
// CVM_BENCH_ROUNDS sets the rounds (default 15); CVM_BENCH_SCALE scales the store (default
// 1: 100,000 history entries and 10,000 executions; CI uses a small scale only to check
// that the benchmark runs).

import { join } from "node:path";
import { type Execution, FileStorageAdapter, type History, streamHistory } from "../mod.ts";
import { measure, median, type Result, rounds, table } from "./_bench.ts";

const SCALE = Number(Deno.env.get("CVM_BENCH_SCALE") ?? 1);
const ENTRIES = Math.round(100_000 * SCALE);
const EXECUTIONS = Math.round(10_000 * SCALE);
const PAGE = 100;
const T0 = 1_700_000_000_000;

const entry = (step: number): History => ({
  executionId: "long-run",
  step,
  pc: step % 64,
  instruction: "PUSH",
  stack: [step, "value"],
  variables: { counter: step, name: "loop", flags: [true, false] },
  timestamp: new Date(T0 + step),
});
const execution = (i: number): Execution => ({
  id: `e${String(i).padStart(6, "0")}`,
  programId: `p${i % 10}`,
  state: i % 3 === 0 ? "running" : "completed",
  pc: i,
  stack: [],
  variables: { i },
  created: new Date(T0 + i),
});

const dir = await Deno.makeTempDir({ prefix: "cvm-bench-queries-" });
try {
  const storage = new FileStorageAdapter({ dataDir: join(dir, "store"), fsync: false });
  await storage.connect();
  const started = performance.now();
  await inBatches(ENTRIES, (i) => storage.saveHistory(entry(i)));
  await inBatches(EXECUTIONS, (i) => storage.saveExecution(execution(i)));
  console.log(
    `setup: ${ENTRIES} history entries, ${EXECUTIONS} executions in ` +
      `${((performance.now() - started) / 1000).toFixed(1)} s`,
  );

  const count = rounds();
  const results: Result[] = [
    await measure({
      name: `latest history entry of ${ENTRIES}`,
      ops: 1,
      target: 20,
      // Inverted: the "floor" here is the full read, so the ratio is how many times faster
      // the query is than reading everything.
      floor: { name: "`getHistory(id)`, every entry", run: () => storage.getHistory("long-run") },
      library: {
        name: "`getHistory(id, { reverse: true, limit: 1 })`",
        run: () => storage.getHistory("long-run", { reverse: true, limit: 1 }),
      },
    }, Math.min(count, 5)),
    await measure({
      name: `a page of ${PAGE} executions of ${EXECUTIONS}`,
      ops: 1,
      floor: { name: "`listExecutions()`, every execution", run: () => storage.listExecutions() },
      library: {
        name: `\`listExecutions({ after, limit: ${PAGE} })\``,
        run: () => storage.listExecutions({ after: execution(EXECUTIONS >> 1).id, limit: PAGE }),
      },
    }, Math.min(count, 5)),
  ];
  console.log(table(results, Math.min(count, 5)));

  // streamHistory: memory growth and the longest event-loop stall, over a few runs.
  const growths: number[] = [];
  const stalls: number[] = [];
  for (let run = 0; run < 3; run++) {
    const { growth, stall, seen } = await watch(async () => {
      let seen = 0;
      for await (const _ of streamHistory(storage, "long-run", { pageSize: 500 })) seen++;
      return seen;
    });
    if (seen !== ENTRIES) throw new Error(`streamHistory yielded ${seen} of ${ENTRIES}`);
    growths.push(growth);
    stalls.push(stall);
  }
  console.log(
    `\nstreamHistory over ${ENTRIES} entries (pageSize 500), median of 3 runs: peak heap ` +
      `growth ${(median(growths) / 2 ** 20).toFixed(1)} MiB (target < 32 MiB), longest ` +
      `event-loop stall ${median(stalls).toFixed(1)} ms (target ≤ 20 ms)`,
  );
  await storage.disconnect();
} finally {
  await Deno.remove(dir, { recursive: true });
}

/** Runs `work` while sampling heap use and timer lateness. */
async function watch(
  work: () => Promise<number>,
): Promise<{ growth: number; stall: number; seen: number }> {
  // deno-lint-ignore no-explicit-any
  (globalThis as any).gc?.();
  const base = Deno.memoryUsage().heapUsed;
  let peak = base;
  let last = performance.now();
  let stall = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    stall = Math.max(stall, now - last);
    last = now;
    peak = Math.max(peak, Deno.memoryUsage().heapUsed);
  }, 1);
  try {
    const seen = await work();
    return { growth: peak - base, stall, seen };
  } finally {
    clearInterval(timer);
  }
}

async function inBatches(total: number, save: (i: number) => Promise<void>): Promise<void> {
  for (let i = 0; i < total; i += 64) {
    const batch = [];
    for (let j = i; j < Math.min(total, i + 64); j++) batch.push(save(j));
    await Promise.all(batch);
  }
}
