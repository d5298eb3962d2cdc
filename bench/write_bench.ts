// The file backend's writes against a hand-written floor: the same recipe written by hand
// with Deno's own APIs in the same run (encode, temp file, write, fdatasync, rename or link,
// directory fsync), so that the ratio says what the library's checks, locks, descriptor
// bound and bookkeeping cost, and what its group commit saves.
//
// Rounds interleave the floor and the library (in alternating order), so a noisy neighbour
// slows both alike; each round gives one ratio, floor ÷ library (below 1.0: slower than the
// floor), and the table prints the median ratio and the median time per write.
//
//   deno run --allow-read --allow-write --allow-env bench/write_bench.ts
//   CVM_BENCH_ROUNDS=3 ... (a smoke run; default 21 rounds)
//   CVM_BENCH_ONLY=fsync ... (only the rows whose name contains "fsync")

import { join } from "node:path";
import { FileStorageAdapter, type History, type Program } from "../mod.ts";

const ROUNDS = Number(Deno.env.get("CVM_BENCH_ROUNDS") ?? 21);
/** Sequential writes per sample. */
const WRITES = 20;
/** Concurrent history writes per sample of the group-commit row. */
const BATCH = 100;

const encoder = new TextEncoder();
let unique = 0;

const program = (id: string): Program => ({
  id,
  name: `Program ${id}`,
  source: "PUSH 1\nPUSH 2\nADD\nPRINT\n".repeat(8),
  bytecode: Array.from({ length: 32 }, (_, i) => ({ op: "PUSH", arg: i })),
  created: new Date(1_700_000_000_000),
});

const history = (executionId: string, step: number): History => ({
  executionId,
  step,
  pc: step,
  instruction: "PUSH 1",
  stack: [1, 2, 3],
  variables: { x: step, name: "counter" },
  timestamp: new Date(1_700_000_000_000 + step),
});

/** What the library writes for a record, as plain JSON: dates as `{"$date": …}`. */
function encode(record: Program | History): string {
  return JSON.stringify(record, (key, value) => {
    if (key !== "$date" && typeof value === "string" && /^\d{4}-\d\d-\d\dT/.test(value)) {
      return { $date: value };
    }
    return value;
  }, 2);
}

async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  for (let done = 0; done < bytes.length;) done += await file.write(bytes.subarray(done));
}

async function syncDir(dir: string): Promise<void> {
  const handle = await Deno.open(dir, { read: true });
  try {
    await handle.sync();
  } finally {
    handle.close();
  }
}

/** The floor: one atomic write by hand, durable or not, replacing or never replacing. */
async function floorFile(
  dir: string,
  name: string,
  text: string,
  options: { fsync: boolean; link: boolean; syncDir: boolean },
): Promise<void> {
  const temp = join(dir, `.floor-${unique++}.tmp`);
  const file = await Deno.open(temp, { write: true, createNew: true, mode: 0o600 });
  try {
    await writeAll(file, encoder.encode(text));
    if (options.fsync) await file.syncData();
  } finally {
    file.close();
  }
  if (options.link) {
    await Deno.link(temp, join(dir, name));
    await Deno.remove(temp);
  } else {
    await Deno.rename(temp, join(dir, name));
  }
  if (options.fsync && options.syncDir) await syncDir(dir);
}

interface Row {
  name: string;
  floor: string;
  /** Writes per sample. */
  ops: number;
  floorRun: (round: number) => Promise<unknown>;
  libraryRun: (round: number) => Promise<unknown>;
}

const root = await Deno.makeTempDir({ prefix: "cvm-write-bench-" });
try {
  const durable = new FileStorageAdapter(join(root, "durable"));
  const fast = new FileStorageAdapter({ dataDir: join(root, "fast"), fsync: false });
  await durable.connect();
  await fast.connect();
  const floorDir = join(root, "floor");
  await Deno.mkdir(join(floorDir, "programs"), { recursive: true, mode: 0o700 });
  await Deno.mkdir(join(floorDir, "history"), { recursive: true, mode: 0o700 });

  /** A fresh history directory for the floor, made durable as the library makes its own. */
  const floorHistoryDir = async (name: string) => {
    const dir = join(floorDir, "history", name);
    await Deno.mkdir(dir, { mode: 0o700 });
    await syncDir(join(floorDir, "history"));
    return dir;
  };

  const rows: Row[] = [
    {
      name: "`saveProgram`, durable",
      floor: "encode, temp file, write, fdatasync, rename, directory fsync",
      ops: WRITES,
      floorRun: async () => {
        for (let i = 0; i < WRITES; i++) {
          const text = encode(program(`w${i}`));
          await floorFile(join(floorDir, "programs"), `w${i}.json`, text, {
            fsync: true,
            link: false,
            syncDir: true,
          });
        }
      },
      libraryRun: async () => {
        for (let i = 0; i < WRITES; i++) await durable.saveProgram(program(`w${i}`));
      },
    },
    {
      name: "`saveProgram`, `fsync: false`",
      floor: "encode, temp file, write, rename",
      ops: WRITES,
      floorRun: async () => {
        for (let i = 0; i < WRITES; i++) {
          const text = encode(program(`w${i}`));
          await floorFile(join(floorDir, "programs"), `w${i}.json`, text, {
            fsync: false,
            link: false,
            syncDir: false,
          });
        }
      },
      libraryRun: async () => {
        for (let i = 0; i < WRITES; i++) await fast.saveProgram(program(`w${i}`));
      },
    },
    {
      name: "`saveHistory`, sequential, durable",
      floor: "encode, temp file, write, fdatasync, link, unlink, directory fsync",
      ops: WRITES,
      floorRun: async (round) => {
        const dir = await floorHistoryDir(`seq-${round}`);
        for (let step = 0; step < WRITES; step++) {
          const text = encode(history(`seq-${round}`, step));
          await floorFile(dir, `${1_700_000_000_000 + step}-${step}.json`, text, {
            fsync: true,
            link: true,
            syncDir: true,
          });
        }
      },
      libraryRun: async (round) => {
        for (let step = 0; step < WRITES; step++) {
          await durable.saveHistory(history(`seq-${round}`, step));
        }
      },
    },
    {
      name: `${BATCH} concurrent \`saveHistory\` of one execution, durable`,
      floor: "the same writes by hand, then one directory fsync for the batch",
      ops: BATCH,
      floorRun: async (round) => {
        const dir = await floorHistoryDir(`batch-${round}`);
        await Promise.all(Array.from({ length: BATCH }, (_, step) => {
          const text = encode(history(`batch-${round}`, step));
          return floorFile(dir, `${1_700_000_000_000 + step}-${step}.json`, text, {
            fsync: true,
            link: true,
            syncDir: false,
          });
        }));
        await syncDir(dir);
      },
      libraryRun: async (round) => {
        await Promise.all(
          Array.from(
            { length: BATCH },
            (_, step) => durable.saveHistory(history(`batch-${round}`, step)),
          ),
        );
      },
    },
  ];

  const lines = [
    `Deno ${Deno.version.deno}; median of ${ROUNDS} rounds, floor and library interleaved; ` +
    "ratio = floor ÷ library per round (1.0 = as fast as the floor, below is slower).",
    "",
    "| operation | floor | library per write | floor per write | ratio |",
    "| --- | --- | ---: | ---: | ---: |",
  ];
  const only = Deno.env.get("CVM_BENCH_ONLY");
  for (const row of rows.filter((row) => only === undefined || row.name.includes(only))) {
    // Warm up both, on rounds the measured ones do not reuse.
    await row.floorRun(-1);
    await row.libraryRun(-1);
    const ratios: number[] = [];
    const floorTimes: number[] = [];
    const libraryTimes: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const time = async (run: (round: number) => Promise<unknown>) => {
        const start = performance.now();
        await run(round);
        return (performance.now() - start) / row.ops;
      };
      let floor: number;
      let library: number;
      if (round % 2 === 0) {
        floor = await time(row.floorRun);
        library = await time(row.libraryRun);
      } else {
        library = await time(row.libraryRun);
        floor = await time(row.floorRun);
      }
      floorTimes.push(floor);
      libraryTimes.push(library);
      ratios.push(floor / library);
    }
    lines.push(
      `| ${row.name} | ${row.floor} | ${formatMs(median(libraryTimes))} | ` +
        `${formatMs(median(floorTimes))} | ${median(ratios).toFixed(2)} |`,
    );
  }
  await durable.disconnect();
  await fast.disconnect();
  console.log(lines.join("\n"));
} finally {
  await Deno.remove(root, { recursive: true });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function formatMs(ms: number): string {
  return ms >= 1 ? `${ms.toFixed(2)} ms` : `${(ms * 1000).toFixed(0)} µs`;
}
