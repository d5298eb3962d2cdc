// The file backend against hand-written floors (issue 12), under Deno.
//
// Each floor is the same recipe written by hand with Deno's own APIs: for a durable save,
// JSON.stringify → temp file → write → fdatasync → rename (or link) → directory fsync; for a
// read, read + JSON.parse; for a list, readDir + batched reads + JSON.parse + sort. The
// library does the same I/O plus validation, the Extended JSON codec and its guarantees.
//
//   deno task bench                      all rows, 15 rounds
//   CVM_BENCH_ROUNDS=3 CVM_BENCH_SCALE=0.01 deno task bench     a quick check (CI)
//   CVM_BENCH_ONLY=getHistory deno run -A bench/file_bench.ts    rows whose name matches

import { join } from "node:path";
import { type Execution, FileStorageAdapter, type History, type Program } from "../mod.ts";
import { measure, type Result, rounds, type Row, table } from "./_bench.ts";

const SCALE = Number(Deno.env.get("CVM_BENCH_SCALE") ?? 1);
const ONLY = Deno.env.get("CVM_BENCH_ONLY");
const n = (count: number) => Math.max(10, Math.round(count * SCALE));
const T0 = 1_700_000_000_000;
const WRITES = 20;
const CONCURRENT = 100;

const program = (id: string): Program => ({
  id,
  name: `Program ${id}`,
  source: "PUSH 1\nPUSH 2\nADD\nPRINT\n".repeat(8),
  bytecode: Array.from({ length: 32 }, (_, i) => ({ op: "PUSH", arg: i })),
  created: new Date(T0),
});
const execution = (i: number): Execution => ({
  id: `e${String(i).padStart(6, "0")}`,
  programId: `p${i % 10}`,
  state: i % 3 === 0 ? "running" : "completed",
  pc: i,
  stack: [i, "x"],
  variables: { i, name: "counter" },
  created: new Date(T0 + i),
});
const entry = (executionId: string, step: number): History => ({
  executionId,
  step,
  pc: step % 64,
  instruction: "PUSH",
  stack: [step, "value"],
  variables: { counter: step, name: "loop", flags: [true, false] },
  timestamp: new Date(T0 + step),
});

const encoder = new TextEncoder();
let tempCounter = 0;
const tempName = () => `.floor-${Deno.pid}-${tempCounter++}.tmp`;

/** Writes a temp file in `dir`, optionally fdatasyncs it, and returns its path. */
async function writeTemp(dir: string, text: string, sync: boolean): Promise<string> {
  const path = join(dir, tempName());
  const file = await Deno.open(path, { write: true, createNew: true, mode: 0o600 });
  try {
    const bytes = encoder.encode(text);
    for (let written = 0; written < bytes.length;) {
      written += await file.write(bytes.subarray(written));
    }
    if (sync) await file.syncData();
  } finally {
    file.close();
  }
  return path;
}

async function syncDir(dir: string): Promise<void> {
  const handle = await Deno.open(dir, { read: true });
  try {
    await handle.sync();
  } finally {
    handle.close();
  }
}

/** The hand-written durable replace: temp → write → fdatasync → rename → dir fsync. */
async function floorReplace(dir: string, name: string, record: unknown, sync = true) {
  const temp = await writeTemp(dir, JSON.stringify(record, null, 2), sync);
  await Deno.rename(temp, join(dir, name));
  if (sync) await syncDir(dir);
}

/** The hand-written durable create: temp → write → fdatasync → link → unlink → dir fsync. */
async function floorCreate(dir: string, name: string, record: unknown, syncDirectory = true) {
  const temp = await writeTemp(dir, JSON.stringify(record, null, 2), true);
  try {
    await Deno.link(temp, join(dir, name));
  } finally {
    await Deno.remove(temp);
  }
  if (syncDirectory) await syncDir(dir);
}

/** The hand-written list: readDir + reads in batches of 64 + JSON.parse. */
async function floorReadAll(dir: string): Promise<Record<string, unknown>[]> {
  const names: string[] = [];
  for await (const item of Deno.readDir(dir)) {
    if (item.name.endsWith(".json")) names.push(item.name);
  }
  const records: Record<string, unknown>[] = [];
  for (let i = 0; i < names.length; i += 64) {
    const batch = names.slice(i, i + 64).map(async (name) =>
      JSON.parse(await Deno.readTextFile(join(dir, name)))
    );
    records.push(...await Promise.all(batch));
  }
  return records;
}

const byId = (a: Record<string, unknown>, b: Record<string, unknown>) =>
  (a.id as string) < (b.id as string) ? -1 : 1;
const byStepThenTime = (a: Record<string, unknown>, b: Record<string, unknown>) =>
  (a.step as number) - (b.step as number) ||
  Date.parse((a.timestamp as { $date: string }).$date) -
    Date.parse((b.timestamp as { $date: string }).$date);

async function inBatches(total: number, save: (i: number) => Promise<void>): Promise<void> {
  for (let i = 0; i < total; i += 64) {
    const batch = [];
    for (let j = i; j < Math.min(total, i + 64); j++) batch.push(save(j));
    await Promise.all(batch);
  }
}

const root = await Deno.makeTempDir({ prefix: "cvm-bench-file-" });
try {
  const durable = new FileStorageAdapter({ dataDir: join(root, "durable") });
  const fast = new FileStorageAdapter({ dataDir: join(root, "fast"), fsync: false });
  const reads = new FileStorageAdapter({ dataDir: join(root, "reads"), fsync: false });
  for (const adapter of [durable, fast, reads]) await adapter.connect();
  const floorDir = join(root, "floor");
  await Deno.mkdir(floorDir);
  const floorHistory = join(root, "floor-history");

  // Stores for the read rows.
  const HISTORIES = [n(1_000), n(10_000), n(100_000)];
  const LISTS = [n(1_000), n(10_000)];
  const started = performance.now();
  for (const size of HISTORIES) {
    await inBatches(size, (i) => reads.saveHistory(entry(`h${size}`, i)));
  }
  await inBatches(LISTS[0], (i) => reads.saveProgram(program(`p${String(i).padStart(5, "0")}`)));
  const programs2 = new FileStorageAdapter({ dataDir: join(root, "programs10k"), fsync: false });
  await programs2.connect();
  await inBatches(
    LISTS[1],
    (i) => programs2.saveProgram(program(`p${String(i).padStart(6, "0")}`)),
  );
  await inBatches(LISTS[1], (i) => reads.saveExecution(execution(i)));
  const executions1k = new FileStorageAdapter({
    dataDir: join(root, "executions1k"),
    fsync: false,
  });
  await executions1k.connect();
  await inBatches(LISTS[0], (i) => executions1k.saveExecution(execution(i)));
  console.log(`setup: ${((performance.now() - started) / 1000).toFixed(1)} s`);

  // Each round of the history rows writes to fresh directories, as a VM's new steps do.
  let round = 0;
  const nextRound = async () => {
    round++;
    await Deno.mkdir(join(floorHistory, `r${round}`), { recursive: true });
  };
  const rows: Row[] = [
    {
      name: `\`saveProgram\` durable (${WRITES} programs)`,
      ops: WRITES,
      target: 0.95,
      floor: {
        name: "temp → write → fdatasync → rename → dir fsync",
        run: async () => {
          for (let i = 0; i < WRITES; i++) {
            await floorReplace(floorDir, `w${i}.json`, program(`w${i}`));
          }
        },
      },
      library: {
        name: "saveProgram",
        run: async () => {
          for (let i = 0; i < WRITES; i++) await durable.saveProgram(program(`w${i}`));
        },
      },
    },
    {
      name: `\`saveProgram\` with \`fsync: false\` (${WRITES} programs)`,
      ops: WRITES,
      target: 0.9,
      floor: {
        name: "temp → write → rename",
        run: async () => {
          for (let i = 0; i < WRITES; i++) {
            await floorReplace(floorDir, `f${i}.json`, program(`f${i}`), false);
          }
        },
      },
      library: {
        name: "saveProgram",
        run: async () => {
          for (let i = 0; i < WRITES; i++) await fast.saveProgram(program(`f${i}`));
        },
      },
    },
    {
      name: `\`saveHistory\` sequential (${WRITES} entries)`,
      ops: WRITES,
      target: 0.95,
      prepare: nextRound,
      floor: {
        name: "temp → write → fdatasync → link → dir fsync",
        run: async () => {
          const dir = join(floorHistory, `r${round}`);
          for (let i = 0; i < WRITES; i++) {
            await floorCreate(dir, `${T0 + i}-${i}.json`, entry("x", i));
          }
        },
      },
      library: {
        name: "saveHistory",
        run: async () => {
          for (let i = 0; i < WRITES; i++) await durable.saveHistory(entry(`r${round}`, i));
        },
      },
    },
    {
      name: `${CONCURRENT} concurrent \`saveHistory\` of one execution`,
      ops: CONCURRENT,
      target: 0.95,
      prepare: nextRound,
      floor: {
        name: "group commit by hand: file fsyncs, links, one dir fsync",
        run: async () => {
          const dir = join(floorHistory, `r${round}`);
          await Promise.all(
            Array.from(
              { length: CONCURRENT },
              (_, i) => floorCreate(dir, `${T0 + i}-${i}.json`, entry("x", i), false),
            ),
          );
          await syncDir(dir);
        },
      },
      library: {
        name: "saveHistory × 100 at once",
        run: async () => {
          await Promise.all(
            Array.from(
              { length: CONCURRENT },
              (_, i) => durable.saveHistory(entry(`r${round}`, i)),
            ),
          );
        },
      },
    },
    {
      name: "`getProgram`",
      ops: 200,
      target: 0.9,
      floor: {
        name: "read + JSON.parse",
        run: async () => {
          const path = join(reads.dataDir, "programs", "p00005.json");
          for (let i = 0; i < 200; i++) JSON.parse(await Deno.readTextFile(path));
        },
      },
      library: {
        name: "getProgram",
        run: async () => {
          for (let i = 0; i < 200; i++) await reads.getProgram("p00005");
        },
      },
    },
    ...HISTORIES.map((size): Row => ({
      name: `\`getHistory\` of ${size} entries`,
      ops: 1,
      target: 0.9,
      floor: {
        name: "readDir + batched reads + JSON.parse + sort",
        run: async () =>
          (await floorReadAll(join(reads.dataDir, "history", `h${size}`))).sort(byStepThenTime),
      },
      library: { name: "getHistory", run: () => reads.getHistory(`h${size}`) },
    })),
    {
      name: `\`listPrograms\` of ${LISTS[0]}`,
      ops: 1,
      target: 0.9,
      floor: {
        name: "readDir + batched reads + JSON.parse + sort",
        run: async () => (await floorReadAll(join(reads.dataDir, "programs"))).sort(byId),
      },
      library: { name: "listPrograms", run: () => reads.listPrograms() },
    },
    {
      name: `\`listPrograms\` of ${LISTS[1]}`,
      ops: 1,
      target: 0.9,
      floor: {
        name: "readDir + batched reads + JSON.parse + sort",
        run: async () => (await floorReadAll(join(programs2.dataDir, "programs"))).sort(byId),
      },
      library: { name: "listPrograms", run: () => programs2.listPrograms() },
    },
    ...[[executions1k, LISTS[0]], [reads, LISTS[1]]].map(([adapter, size]): Row => ({
      name: `\`listExecutions\` of ${size}`,
      ops: 1,
      target: 0.9,
      floor: {
        name: "readDir + batched reads + JSON.parse + sort",
        run: async () =>
          (await floorReadAll(join((adapter as FileStorageAdapter).dataDir, "executions")))
            .sort(byId),
      },
      library: {
        name: "listExecutions",
        run: () => (adapter as FileStorageAdapter).listExecutions(),
      },
    })),
  ];

  const count = rounds();
  const results: Result[] = [];
  for (const row of rows) {
    if (ONLY !== undefined && !row.name.includes(ONLY)) continue;
    results.push(await measure(row, count));
  }
  console.log(table(results, count));
  for (const adapter of [durable, fast, reads, programs2, executions1k]) await adapter.disconnect();
} finally {
  await Deno.remove(root, { recursive: true });
}
