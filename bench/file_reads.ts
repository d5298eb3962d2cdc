// The file backend's reads at scale, one run: the latest entry of a long history against
// reading it all, streaming it (memory growth, longest event-loop stall), and a page of a
// long execution list against the whole list.
//
//   deno run -A bench/file_reads.ts [entries=100000] [executions=10000]

import { FileStorageAdapter, type History, streamHistory } from "../mod.ts";

const ENTRIES = Number(Deno.args[0] ?? 100_000);
const EXECUTIONS = Number(Deno.args[1] ?? 10_000);

/** Runs `fn`, returning its time, result and the longest event-loop stall meanwhile. */
async function measure<T>(fn: () => Promise<T>): Promise<{ ms: number; stall: number; result: T }> {
  let last = performance.now();
  let stall = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    stall = Math.max(stall, now - last);
    last = now;
  }, 1);
  const start = performance.now();
  const result = await fn();
  const ms = performance.now() - start;
  stall = Math.max(stall, performance.now() - last);
  clearInterval(timer);
  return { ms, stall, result };
}

const fmt = (n: number) => n.toFixed(n < 10 ? 1 : 0);

async function pool(count: number, width: number, work: (i: number) => Promise<void>) {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < count) await work(next++);
  }));
}

const dir = await Deno.makeTempDir({ prefix: "cvm-bench-reads-" });
try {
  const writer = new FileStorageAdapter({ dataDir: dir, fsync: false });
  await writer.connect();
  const base = Date.now();
  await pool(ENTRIES, 32, (step) =>
    writer.saveHistory({
      executionId: "e1",
      step,
      pc: step,
      instruction: "PUSH",
      stack: [step, "value"],
      variables: { x: step, name: "value", when: new Date(base) },
      timestamp: new Date(base + step),
    }));
  await pool(EXECUTIONS, 32, (i) =>
    writer.saveExecution({
      id: `exec-${String(i).padStart(6, "0")}`,
      programId: `p${i % 10}`,
      state: i % 100 === 0 ? "running" : "completed",
      pc: 0,
      stack: [],
      variables: {},
      created: new Date(base),
    }));
  await writer.disconnect();

  // Fresh adapters: nothing kept from the writes.
  const cold = new FileStorageAdapter({ dataDir: dir });
  await cold.connect();
  const latest = await measure(() => cold.getHistory("e1", { reverse: true, limit: 1 }));
  const full = await measure(() => cold.getHistory("e1"));
  console.log(`history of ${full.result.length} entries`);
  console.log(
    `  latest entry: ${fmt(latest.ms)} ms (longest stall ${fmt(latest.stall)} ms); ` +
      `full read: ${fmt(full.ms)} ms (longest stall ${fmt(full.stall)} ms); ` +
      `ratio ${fmt(full.ms / latest.ms)}x`,
  );
  full.result.length = 0;

  // The floor: what reading it all costs without the adapter (list, read, parse; no checks,
  // no decoding, no sort, no protection against hostile files).
  const historyDir = `${dir}/history/e1`;
  const floor = await measure(async () => {
    const names: string[] = [];
    for await (const entry of Deno.readDir(historyDir)) names.push(entry.name);
    let next = 0;
    await Promise.all(Array.from({ length: 64 }, async () => {
      while (next < names.length) {
        JSON.parse(await Deno.readTextFile(`${historyDir}/${names[next++]}`));
      }
    }));
    return names.length;
  });
  console.log(`  floor (Deno.readDir + Deno.readTextFile + JSON.parse): ${fmt(floor.ms)} ms`);

  // Once the directory has not changed for a few seconds, its planned listing is kept.
  await new Promise((resolve) => setTimeout(resolve, 3500));
  await cold.getHistory("e1", { reverse: true, limit: 1 });
  const kept = await measure(() => cold.getHistory("e1", { reverse: true, limit: 1 }));
  console.log(`  latest entry with the listing kept: ${fmt(kept.ms)} ms`);

  const streamer = new FileStorageAdapter({ dataDir: dir });
  await streamer.connect();
  // deno-lint-ignore no-explicit-any
  const gc = (globalThis as any).gc as (() => void) | undefined;
  gc?.();
  const before = Deno.memoryUsage();
  let peakHeap = before.heapUsed;
  let peakRss = before.rss;
  const stream = await measure(async () => {
    let count = 0;
    let previous: History | undefined;
    for await (const entry of streamHistory(streamer, "e1")) {
      if (previous !== undefined && entry.step !== previous.step + 1) throw new Error("order");
      previous = entry;
      if (++count % 1000 === 0) {
        const usage = Deno.memoryUsage();
        peakHeap = Math.max(peakHeap, usage.heapUsed);
        peakRss = Math.max(peakRss, usage.rss);
      }
    }
    return count;
  });
  const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
  console.log(
    `  streamHistory: ${stream.result} entries in ${fmt(stream.ms)} ms, longest stall ` +
      `${fmt(stream.stall)} ms, heap +${mib(peakHeap - before.heapUsed)} MiB, ` +
      `rss +${mib(peakRss - before.rss)} MiB`,
  );
  await streamer.disconnect();

  const lists = new FileStorageAdapter({ dataDir: dir });
  await lists.connect();
  const page = await measure(() => lists.listExecutions({ after: "exec-005000", limit: 100 }));
  const all = await measure(() => lists.listExecutions());
  const filtered = await measure(() => lists.listExecutions({ state: "running", limit: 100 }));
  console.log(`executions: ${all.result.length}`);
  console.log(
    `  page of 100: ${fmt(page.ms)} ms; whole list: ${fmt(all.ms)} ms (ratio ` +
      `${fmt(all.ms / page.ms)}x); state filter, all ${filtered.result.length} matches: ` +
      `${fmt(filtered.ms)} ms; longest stall ${
        fmt(Math.max(page.stall, all.stall, filtered.stall))
      } ms`,
  );
  await lists.disconnect();
  await cold.disconnect();
} finally {
  await Deno.remove(dir, { recursive: true });
}
