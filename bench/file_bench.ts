// The file backend against hand-written floors (issue 12), under Deno.
//
// Each floor is the same recipe written by hand with Deno's own asynchronous APIs, as a
// careful programmer would write it: for a durable save, JSON.stringify → temp file →
// write → fdatasync → rename (or link) → directory fsync; for a read, read + JSON.parse;
// for a list, readDir + reads in batches of 64 + JSON.parse + sort. The library does the
// same I/O plus validation, the Extended JSON codec and its guarantees (descriptor bound,
// temp-file locks, no link followed, type and size checked before a byte is read, UTF-8
// checked).
//
// Reads are cold for both sides: before each round the directories read are touched, so
// the library lists them afresh instead of reusing a kept listing (bench/queries_bench.ts
// measures kept listings).
//
//   deno task bench                      every benchmark
//   deno run -A bench/file_bench.ts      this one (CVM_BENCH_ROUNDS, CVM_BENCH_SCALE)
//   CVM_BENCH_ONLY=getHistory deno run -A bench/file_bench.ts    rows whose name matches

import { join } from "../src/_path.ts";
import { FileStorageAdapter } from "../mod.ts";
import {
  entry,
  entryFileName,
  execution,
  inBatches,
  measure,
  program,
  type Result,
  rounds,
  type Row,
  scaled,
  table,
} from "./_bench.mjs";

const ONLY = Deno.env.get("CVM_BENCH_ONLY");
const WRITES = 20;
const CONCURRENT = 100;
const READS = 200;

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

/** A new execution's directory, made durable in its parent, as the library makes its own. */
async function floorNewDir(parent: string, name: string): Promise<string> {
  const dir = join(parent, name);
  await Deno.mkdir(dir, { mode: 0o700 });
  await syncDir(parent);
  return dir;
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

/** Marks `dir` changed now, so that no listing kept from an earlier round is reused. */
const touch = (dir: string) => () => Deno.utime(dir, new Date(), new Date());

const root = await Deno.makeTempDir({ prefix: "cvm-bench-file-" });
const adapters: FileStorageAdapter[] = [];
const adapter = async (name: string, fsync: boolean) => {
  const storage = new FileStorageAdapter({ dataDir: join(root, name), fsync });
  await storage.connect();
  adapters.push(storage);
  return storage;
};
try {
  const durable = await adapter("durable", true);
  const fast = await adapter("fast", false);
  const reads = await adapter("reads", false);
  const programs10k = await adapter("programs10k", false);
  const executions1k = await adapter("executions1k", false);
  const floorDir = join(root, "floor");
  await Deno.mkdir(floorDir);
  const floorHistory = join(root, "floor-history");
  await Deno.mkdir(floorHistory);

  // Each round of the history rows writes to new directories, as a VM's new run does; both
  // sides create theirs inside the timed run.
  let round = 0;
  const nextRound = () => void round++;
  const writeRows: Row[] = [
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
      name: `\`saveHistory\` sequential (${WRITES} entries of a new execution)`,
      ops: WRITES,
      target: 0.95,
      prepare: nextRound,
      floor: {
        name: "new dir; temp → write → fdatasync → link → unlink → dir fsync",
        run: async () => {
          const dir = await floorNewDir(floorHistory, `s${round}`);
          for (let i = 0; i < WRITES; i++) await floorCreate(dir, entryFileName(i), entry("x", i));
        },
      },
      library: {
        name: "saveHistory",
        run: async () => {
          for (let i = 0; i < WRITES; i++) await durable.saveHistory(entry(`s${round}`, i));
        },
      },
    },
    {
      name: `${CONCURRENT} concurrent \`saveHistory\` of a new execution`,
      ops: CONCURRENT,
      target: 0.95,
      prepare: nextRound,
      floor: {
        name: "group commit by hand: new dir; file fsyncs, links, one dir fsync",
        run: async () => {
          const dir = await floorNewDir(floorHistory, `c${round}`);
          await Promise.all(
            Array.from(
              { length: CONCURRENT },
              (_, i) => floorCreate(dir, entryFileName(i), entry("x", i), false),
            ),
          );
          await syncDir(dir);
        },
      },
      library: {
        name: `saveHistory × ${CONCURRENT} at once`,
        run: async () => {
          await Promise.all(
            Array.from(
              { length: CONCURRENT },
              (_, i) => durable.saveHistory(entry(`c${round}`, i)),
            ),
          );
        },
      },
    },
  ];

  const count = rounds();
  const results: Result[] = [];
  const run = async (rows: Row[]) => {
    for (const row of rows) {
      if (ONLY === undefined || row.name.includes(ONLY)) results.push(await measure(row, count));
    }
  };
  // The writes first, before the stores of the read rows are written: their dirty pages,
  // being written back, would slow every fsync.
  await run(writeRows);

  // Stores for the read rows.
  const HISTORIES = [scaled(1_000), scaled(10_000), scaled(100_000)];
  const LISTS = [scaled(1_000), scaled(10_000)];
  const started = performance.now();
  for (const size of HISTORIES) {
    await inBatches(size, (i) => reads.saveHistory(entry(`h${size}`, i)));
  }
  const programId = (i: number) => `p${String(i).padStart(6, "0")}`;
  await inBatches(LISTS[0], (i) => reads.saveProgram(program(programId(i))));
  await inBatches(LISTS[1], (i) => programs10k.saveProgram(program(programId(i))));
  await inBatches(LISTS[1], (i) => reads.saveExecution(execution(i)));
  await inBatches(LISTS[0], (i) => executions1k.saveExecution(execution(i)));
  console.log(`setup: ${((performance.now() - started) / 1000).toFixed(1)} s`);

  /** `listPrograms` or `listExecutions` of a store of `size` against reading the directory. */
  const listRow = (
    collection: "programs" | "executions",
    storage: FileStorageAdapter,
    size: number,
  ): Row => {
    const dir = join(storage.dataDir, collection);
    const list = collection === "programs" ? "listPrograms" : "listExecutions";
    return {
      name: `\`${list}\` of ${size}`,
      ops: 1,
      target: 0.9,
      prepare: touch(dir),
      floor: {
        name: "readDir + batched reads + JSON.parse + sort",
        run: async () => (await floorReadAll(dir)).sort(byId),
      },
      library: { name: list, run: () => storage[list]() },
    };
  };

  const readRows: Row[] = [
    {
      name: `\`getProgram\` (${READS} reads)`,
      ops: READS,
      target: 0.9,
      floor: {
        name: "readTextFile + JSON.parse",
        run: async () => {
          const path = join(reads.dataDir, "programs", `${programId(5)}.json`);
          for (let i = 0; i < READS; i++) JSON.parse(await Deno.readTextFile(path));
        },
      },
      library: {
        name: "getProgram",
        run: async () => {
          for (let i = 0; i < READS; i++) await reads.getProgram(programId(5));
        },
      },
    },
    ...HISTORIES.map((size): Row => {
      const dir = join(reads.dataDir, "history", `h${size}`);
      return {
        name: `\`getHistory\` of ${size} entries`,
        ops: 1,
        target: 0.9,
        prepare: touch(dir),
        floor: {
          name: "readDir + batched reads + JSON.parse + sort",
          run: async () => (await floorReadAll(dir)).sort(byStepThenTime),
        },
        library: { name: "getHistory", run: () => reads.getHistory(`h${size}`) },
      };
    }),
    listRow("programs", reads, LISTS[0]),
    listRow("programs", programs10k, LISTS[1]),
    listRow("executions", executions1k, LISTS[0]),
    listRow("executions", reads, LISTS[1]),
  ];

  await run(readRows);
  console.log(`\nFile backend, Deno ${Deno.version.deno}: ratio = floor ÷ library\n`);
  console.log(table(results, count));
} finally {
  for (const storage of adapters) await storage.disconnect();
  await Deno.remove(root, { recursive: true });
}
