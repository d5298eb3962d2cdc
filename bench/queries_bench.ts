// Queries at scale on the file backend (issue 9): reading only what a query needs.
//
//   deno run -A bench/queries_bench.ts      (CVM_BENCH_ROUNDS, CVM_BENCH_SCALE; see _bench.mjs)
//
// A query is answered from the directory listing: listing 100,000 names is the floor of a
// cold query. The adapter keeps a planned listing while the directory stays unchanged (its
// modification time, settled for 250 ms or 3 s: see src/file/_listing_cache.ts), so each row is
// measured twice:
//
// - cold: the directory was just changed (touched before every round, as a VM's last write
//   does), so both sides list it afresh;
// - kept: the directory has not changed for a few seconds (a finished run, being resumed
//   or inspected), so both sides reuse the kept listing.
//
// In both, the ratio is how many times faster the query is than reading everything in the
// same state. The streaming figures are the peak heap and RSS growth and the longest
// event-loop stall (a 1 ms timer's lateness) over a whole `streamHistory`.

import { join } from "../src/_path.ts";
import { fs } from "../src/file/_fs.ts";
import { FileStorageAdapter, streamHistory } from "../mod.ts";
import {
  entry,
  execution,
  inBatches,
  measure,
  median,
  type Result,
  rounds,
  type Row,
  scaled,
  table,
  time,
  watch,
} from "./_bench.mjs";

const ENTRIES = scaled(100_000);
const EXECUTIONS = scaled(10_000);
const PAGE = 100;
/** Longer than the listing cache's longest settling time (3 s). */
const SETTLE_MS = 3_500;

const settle = () => new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

const root = await Deno.makeTempDir({ prefix: "cvm-bench-queries-" });
const storage = new FileStorageAdapter({ dataDir: join(root, "store"), fsync: false });
try {
  await storage.connect();
  const started = performance.now();
  await inBatches(ENTRIES, (i) => storage.saveHistory(entry("long-run", i)));
  await inBatches(EXECUTIONS, (i) => storage.saveExecution(execution(i)));
  console.log(
    `setup: ${ENTRIES} history entries, ${EXECUTIONS} executions in ` +
      `${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  const historyDir = join(storage.dataDir, "history", "long-run");
  const executionsDir = join(storage.dataDir, "executions");
  const touch = (dir: string) => () => Deno.utime(dir, new Date(), new Date());

  // The latest entry opens exactly one record file (tests/file_queries_test.ts checks it
  // too); counted here through the file-system seam.
  const openSync = fs.openSync;
  const opened: string[] = [];
  fs.openSync = (path, flags) => {
    opened.push(path);
    return openSync(path, flags);
  };
  try {
    await storage.getHistory("long-run", { reverse: true, limit: 1 });
  } finally {
    fs.openSync = openSync;
  }
  console.log(`the latest entry opened ${opened.length} file(s): ${opened.join(", ")}`);

  const latest = (state: string, prepare?: () => Promise<void>): Row => ({
    name: `latest entry of ${ENTRIES}, ${state}`,
    ops: 1,
    target: 20,
    prepare,
    // The "floor" here is the full read: the ratio is how many times faster the query is.
    floor: { name: "`getHistory(id)`: every entry", run: () => storage.getHistory("long-run") },
    library: {
      name: "`getHistory(id, { reverse: true, limit: 1 })`",
      run: () => storage.getHistory("long-run", { reverse: true, limit: 1 }),
    },
  });
  const page = (state: string, prepare?: () => Promise<void>): Row => ({
    name: `a page of ${PAGE} executions of ${EXECUTIONS}, ${state}`,
    ops: 1,
    prepare,
    floor: { name: "`listExecutions()`: every execution", run: () => storage.listExecutions() },
    library: {
      name: `\`listExecutions({ after, limit: ${PAGE} })\``,
      run: () => storage.listExecutions({ after: execution(EXECUTIONS >> 1).id, limit: PAGE }),
    },
  });
  const filtered = (state: string, prepare?: () => Promise<void>): Row => ({
    name: `the first ${PAGE} running executions of ${EXECUTIONS}, ${state}`,
    ops: 1,
    prepare,
    floor: { name: "`listExecutions()`: every execution", run: () => storage.listExecutions() },
    library: {
      name: `\`listExecutions({ state: "running", limit: ${PAGE} })\``,
      run: () => storage.listExecutions({ state: "running", limit: PAGE }),
    },
  });

  // A new adapter over the settled store, as after a restart: each side gets a fresh one
  // (connected before the clock starts), answered from the history's index.
  let fresh: FileStorageAdapter | undefined;
  const reconnect = async () => {
    await fresh?.disconnect();
    fresh = new FileStorageAdapter({ dataDir: storage.dataDir, fsync: false });
    await fresh.connect();
  };
  const restarted: Row = {
    name: `latest entry of ${ENTRIES}, a new adapter (history index)`,
    ops: 1,
    target: 20,
    floor: {
      name: "`getHistory(id)` on a new adapter",
      before: reconnect,
      run: () => fresh!.getHistory("long-run"),
    },
    library: {
      name: "`getHistory(id, { reverse: true, limit: 1 })` on a new adapter",
      before: reconnect,
      run: () => fresh!.getHistory("long-run", { reverse: true, limit: 1 }),
    },
  };
  // How long a new adapter's connect() takes over this store (it lists no indexed history).
  const connects: number[] = [];
  const connectOnce = async () => {
    const started = performance.now();
    await reconnect();
    connects.push(performance.now() - started);
  };

  // Full reads of 100,000 entries take seconds: fewer rounds for these rows.
  const count = Math.min(rounds(), 7);
  const results: Result[] = [];
  await settle();
  results.push(await measure(latest("listing kept"), count));
  results.push(await measure(page("listing kept"), count));
  results.push(await measure(filtered("listing kept"), count));
  results.push(await measure(restarted, count));
  for (let run = 0; run < count; run++) await connectOnce();
  await fresh?.disconnect();
  results.push(await measure(latest("cold", touch(historyDir)), count));
  results.push(await measure(page("cold", touch(executionsDir)), count));
  results.push(await measure(filtered("cold", touch(executionsDir)), count));
  console.log(`\nQueries on the file backend: ratio = the full read's time ÷ the query's\n`);
  console.log(table(results, count));
  console.log(
    `\nconnect() of a new adapter over ${ENTRIES} indexed history entries: ` +
      `${time(median(connects))} (median of ${count})`,
  );

  // Event-loop stalls of single reads, cold (the listing parsed and sorted in slices).
  const stalls: string[] = [];
  for (
    const [name, read] of [
      ["full read", () => storage.getHistory("long-run")],
      ["latest entry", () => storage.getHistory("long-run", { reverse: true, limit: 1 })],
    ] as const
  ) {
    const runs = [];
    for (let run = 0; run < 3; run++) {
      await touch(historyDir)();
      runs.push(await watch(read));
    }
    stalls.push(
      `${name} ${time(median(runs.map((r) => r.ms)))} (longest stall ` +
        `${median(runs.map((r) => r.stall)).toFixed(1)} ms)`,
    );
  }
  console.log(`\ncold reads of ${ENTRIES} entries, median of 3: ${stalls.join("; ")}`);

  // streamHistory over the whole history, the listing kept after its first page.
  await settle();
  const streams = [];
  for (let run = 0; run < 3; run++) {
    const watched = await watch(async () => {
      let seen = 0;
      let previous = -1;
      for await (const item of streamHistory(storage, "long-run", { pageSize: 500 })) {
        if (item.step !== previous + 1) throw new Error(`step ${item.step} after ${previous}`);
        previous = item.step;
        seen++;
      }
      return seen;
    });
    if (watched.result !== ENTRIES) {
      throw new Error(`streamHistory yielded ${watched.result} of ${ENTRIES}`);
    }
    streams.push(watched);
  }
  console.log(
    `\nstreamHistory over ${ENTRIES} entries (pageSize 500), median of 3 runs: ` +
      `${time(median(streams.map((s) => s.ms)))}; peak growth: heap ` +
      `${mib(median(streams.map((s) => s.heapGrowth)))}, RSS ` +
      `${mib(median(streams.map((s) => s.rssGrowth)))} (target < 32 MiB); longest ` +
      `event-loop stall ${median(streams.map((s) => s.stall)).toFixed(1)} ms, worst ` +
      `${Math.max(...streams.map((s) => s.stall)).toFixed(1)} ms (target ≤ 20 ms)`,
  );
} finally {
  await storage.disconnect();
  await Deno.remove(root, { recursive: true });
}
