// @ts-self-types="./_bench.d.mts"
// The benchmark harness, shared by the Deno benchmarks and the Node one (plain JavaScript,
// so that `node` runs it as it is). Each row pits the library against a hand-written floor
// doing the same work, measured in the same process, interleaved round by round
// (alternating which goes first), so that a noisy neighbour slows both alike. A row's
// figure is the median, over rounds, of that round's ratio floor ÷ library: 1.00 is as
// fast as the floor, below 1 is slower. Rows print as a Markdown table, which the README
// quotes.
//
// Every benchmark honours two variables: CVM_BENCH_ROUNDS (rounds per row; default 31) and
// CVM_BENCH_SCALE (a factor on the stored data and operations; default 1). CI runs them
// with CVM_BENCH_ROUNDS=2 CVM_BENCH_SCALE=0.01 only to check that they run.

/** An environment variable, under Deno or Node. */
export function env(name) {
  return globalThis.Deno?.env.get(name) ?? globalThis.process?.env[name];
}

/** Rounds per row: `CVM_BENCH_ROUNDS`, else `fallback`. */
export function rounds(fallback = 31) {
  const value = Number(env("CVM_BENCH_ROUNDS") ?? "");
  return Number.isSafeInteger(value) && value > 0 ? value : fallback;
}

/** `count` scaled by `CVM_BENCH_SCALE`, at least `min`. */
export function scaled(count, min = 10) {
  const value = Number(env("CVM_BENCH_SCALE") ?? "");
  const scale = Number.isFinite(value) && value > 0 ? value : 1;
  return Math.max(min, Math.round(count * scale));
}

/** Measures `row` over `count` rounds, after one untimed warm-up round. */
export async function measure(row, count) {
  const floor = [];
  const library = [];
  const ratios = [];
  for (let round = -1; round < count; round++) {
    await row.prepare?.();
    const order = round % 2 === 0 ? [row.floor, row.library] : [row.library, row.floor];
    const times = new Map();
    for (const variant of order) {
      await variant.before?.();
      const start = performance.now();
      await variant.run();
      times.set(variant, performance.now() - start);
    }
    if (round < 0) continue;
    const f = times.get(row.floor);
    const l = times.get(row.library);
    floor.push(f / row.ops);
    library.push(l / row.ops);
    ratios.push(f / l);
  }
  return {
    name: row.name,
    floorName: row.floor.name,
    libraryName: row.library.name,
    floorMs: median(floor),
    libraryMs: median(library),
    ratio: median(ratios),
    target: row.target,
  };
}

/** The middle value (the mean of the two middle ones for an even count). */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Formats results as a Markdown table. */
export function table(results, count) {
  const lines = [
    `| row | floor | floor per op | library per op | ratio (median of ${count}) | target |`,
    "| --- | --- | ---: | ---: | ---: | ---: |",
  ];
  for (const r of results) {
    const target = r.target === undefined ? "" : `≥ ${r.target}`;
    lines.push(
      `| ${r.name} | ${r.floorName} | ${time(r.floorMs)} | ${time(r.libraryMs)} | ` +
        `${r.ratio.toFixed(2)} | ${target} |`,
    );
  }
  return lines.join("\n");
}

/** A duration for the table: µs, ms or s. */
export function time(ms) {
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms >= 100) return `${ms.toFixed(0)} ms`;
  if (ms >= 1) return `${ms.toFixed(2)} ms`;
  return `${(ms * 1000).toFixed(1)} µs`;
}

/** Runs `work(i)` for `i` in `0 … total - 1`, `width` at a time. */
export async function inBatches(total, work, width = 64) {
  for (let i = 0; i < total; i += width) {
    const batch = [];
    for (let j = i; j < Math.min(total, i + width); j++) batch.push(work(j));
    await Promise.all(batch);
  }
}

function memory() {
  return globalThis.Deno?.memoryUsage() ?? globalThis.process.memoryUsage();
}

/**
 * Runs `work` while a 1 ms interval timer samples its own lateness (the longest the event
 * loop was blocked) and the heap and resident set size (their peak growth).
 */
export async function watch(work) {
  globalThis.gc?.();
  const base = memory();
  let heap = base.heapUsed;
  let rss = base.rss;
  let last = performance.now();
  let stall = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    stall = Math.max(stall, now - last);
    last = now;
    const usage = memory();
    heap = Math.max(heap, usage.heapUsed);
    rss = Math.max(rss, usage.rss);
  }, 1);
  const start = performance.now();
  try {
    const result = await work();
    const ms = performance.now() - start;
    stall = Math.max(stall, performance.now() - last);
    return { result, ms, stall, heapGrowth: heap - base.heapUsed, rssGrowth: rss - base.rss };
  } finally {
    clearInterval(timer);
  }
}

const T0 = 1_700_000_000_000;

/** A program like a small VM's. */
export function program(id) {
  return {
    id,
    name: `Program ${id}`,
    source: "PUSH 1\nPUSH 2\nADD\nPRINT\n".repeat(8),
    bytecode: Array.from({ length: 32 }, (_, i) => ({ op: "PUSH", arg: i })),
    created: new Date(T0),
  };
}

/** Execution `i` of ten programs; every third is running. */
export function execution(i) {
  return {
    id: `e${String(i).padStart(6, "0")}`,
    programId: `p${i % 10}`,
    state: i % 3 === 0 ? "running" : "completed",
    pc: i,
    stack: [i, "x"],
    variables: { i, name: "counter" },
    created: new Date(T0 + i),
  };
}

/** A history entry of `executionId` at `step`. */
export function entry(executionId, step) {
  return {
    executionId,
    step,
    pc: step % 64,
    instruction: "PUSH",
    stack: [step, "value"],
    variables: { counter: step, name: "loop", flags: [true, false] },
    timestamp: new Date(T0 + step),
  };
}

/** What `entry` is stored under: `{timestamp}-{step}.json`. */
export function entryFileName(step) {
  return `${T0 + step}-${step}.json`;
}
