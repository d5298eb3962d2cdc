// The file backend under Node.js against hand-written floors on `node:fs` (issue 12's Node
// rows), run on the built package (dist/, as a Node user receives it):
//
//   deno task bench:node      builds dist/ (scripts/build_npm.ts), then runs this with node
//
// Each floor is the same recipe written by hand with `node:fs/promises`, as a careful
// programmer would write it: JSON.stringify → temp file → write → fdatasync → rename (or
// link) → directory fsync; a read is readFile + JSON.parse; a list is readdir + reads in
// batches of 64 + JSON.parse + sort. CVM_BENCH_ROUNDS and CVM_BENCH_SCALE as in _bench.mjs.

import { mkdir, mkdtemp, open, readdir, readFile, rename, rm, utimes } from "node:fs/promises";
import { link, unlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  entry,
  entryFileName,
  inBatches,
  measure,
  program,
  rounds,
  scaled,
  table,
} from "./_bench.mjs";

// The built package, loaded at run time: dist/ exists only after `deno task build:npm`.
const PACKAGE = new URL("../dist/mod.js", import.meta.url).href;
/** @type {typeof import("../mod.ts").FileStorageAdapter} */
const FileStorageAdapter = (await import(PACKAGE)).FileStorageAdapter;

const WRITES = 20;
const READS = 200;
let tempCounter = 0;

/** Writes a temp file in `dir`, optionally fdatasyncs it, and returns its path. */
async function writeTemp(dir, text, sync) {
  const path = join(dir, `.floor-${process.pid}-${tempCounter++}.tmp`);
  const handle = await open(path, "wx", 0o600);
  try {
    await handle.writeFile(text, "utf8");
    if (sync) await handle.datasync();
  } finally {
    await handle.close();
  }
  return path;
}

async function syncDir(dir) {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function floorReplace(dir, name, record, sync = true) {
  const temp = await writeTemp(dir, JSON.stringify(record, null, 2), sync);
  await rename(temp, join(dir, name));
  if (sync) await syncDir(dir);
}

async function floorCreate(dir, name, record) {
  const temp = await writeTemp(dir, JSON.stringify(record, null, 2), true);
  try {
    await link(temp, join(dir, name));
  } finally {
    await unlink(temp);
  }
  await syncDir(dir);
}

async function floorReadAll(dir) {
  const names = (await readdir(dir)).filter((name) => name.endsWith(".json"));
  const records = [];
  for (let i = 0; i < names.length; i += 64) {
    const batch = names.slice(i, i + 64).map(async (name) =>
      JSON.parse(await readFile(join(dir, name), "utf8"))
    );
    records.push(...await Promise.all(batch));
  }
  return records;
}

const byStepThenTime = (a, b) =>
  a.step - b.step || Date.parse(a.timestamp.$date) - Date.parse(b.timestamp.$date);

const root = await mkdtemp(join(tmpdir(), "cvm-bench-node-"));
const adapters = [];
const adapter = async (name, fsync) => {
  const storage = new FileStorageAdapter({ dataDir: join(root, name), fsync });
  await storage.connect();
  adapters.push(storage);
  return storage;
};
try {
  const durable = await adapter("durable", true);
  const fast = await adapter("fast", false);
  const reads = await adapter("reads", false);
  const floorDir = join(root, "floor");
  await mkdir(floorDir);
  const HISTORY = scaled(1_000);
  await inBatches(HISTORY, (i) => reads.saveHistory(entry("h", i)));
  await reads.saveProgram(program("p1"));
  const historyDir = join(reads.dataDir, "history", "h");

  let round = 0;
  const rows = [
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
      prepare: () => void round++,
      floor: {
        name: "new dir; temp → write → fdatasync → link → unlink → dir fsync",
        run: async () => {
          const dir = join(floorDir, `s${round}`);
          await mkdir(dir, { mode: 0o700 });
          await syncDir(floorDir);
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
      name: `\`getProgram\` (${READS} reads)`,
      ops: READS,
      target: 0.9,
      floor: {
        name: "readFile + JSON.parse",
        run: async () => {
          const path = join(reads.dataDir, "programs", "p1.json");
          for (let i = 0; i < READS; i++) JSON.parse(await readFile(path, "utf8"));
        },
      },
      library: {
        name: "getProgram",
        run: async () => {
          for (let i = 0; i < READS; i++) await reads.getProgram("p1");
        },
      },
    },
    {
      name: `\`getHistory\` of ${HISTORY} entries`,
      ops: 1,
      target: 0.9,
      // Both list afresh: a changed directory's listing is never reused.
      prepare: () => utimes(historyDir, new Date(), new Date()),
      floor: {
        name: "readdir + batched reads + JSON.parse + sort",
        run: async () => (await floorReadAll(historyDir)).sort(byStepThenTime),
      },
      library: { name: "getHistory", run: () => reads.getHistory("h") },
    },
  ];
  const count = rounds();
  const results = [];
  for (const row of rows) results.push(await measure(row, count));
  console.log(`\nFile backend, Node.js ${process.version}: ratio = floor ÷ library\n`);
  console.log(table(results, count));
} finally {
  for (const storage of adapters) await storage.disconnect();
  await rm(root, { recursive: true, force: true });
}
