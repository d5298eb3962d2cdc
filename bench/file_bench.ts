// Benchmarks of the file backend against the plainest code that does the same I/O.
//
// Each group has a baseline measured in the same run, interleaved with the cases round by
// round, so that a noisy neighbour slows all of them alike. It prints the median time per
// operation and its ratio to the baseline as a Markdown table: the README quotes it.
//
//   deno task bench            (ROUNDS=31 by default; set CVM_BENCH_ROUNDS to change)

import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { FileStorageAdapter, MemoryStorageAdapter, type Program } from "../mod.ts";

interface Case {
  name: string;
  /** Operations per sample. */
  ops: number;
  run: () => Promise<unknown>;
}
interface Group {
  name: string;
  baseline: Case;
  cases: Case[];
}

const ROUNDS = Number(Deno.env.get("CVM_BENCH_ROUNDS") ?? 31);
const RECORDS = 1000;
const WRITES = 20;

const program = (id: string): Program => ({
  id,
  name: `Program ${id}`,
  source: "PUSH 1\nPUSH 2\nADD\nPRINT\n".repeat(8),
  bytecode: Array.from({ length: 32 }, (_, i) => ({ op: "PUSH", arg: i })),
  created: new Date(1_700_000_000_000),
});

const dir = await Deno.makeTempDir({ prefix: "cvm-bench-" });
try {
  const durable = new FileStorageAdapter({ dataDir: join(dir, "durable") });
  const fast = new FileStorageAdapter({ dataDir: join(dir, "fast"), fsync: false });
  const memory = new MemoryStorageAdapter();
  for (const adapter of [durable, fast, memory]) await adapter.connect();
  for (let i = 0; i < RECORDS; i++) {
    await fast.saveProgram(program(`p${i}`));
    await memory.saveProgram(program(`p${i}`));
  }
  const programs = join(fast.dataDir, "programs");
  const raw = join(dir, "raw");
  await Deno.mkdir(raw);

  const writes = (save: (i: number) => Promise<unknown>) => async () => {
    for (let i = 0; i < WRITES; i++) await save(i);
  };
  const groups: Group[] = [
    {
      name: `save (${WRITES} programs of ~1.5 KiB)`,
      baseline: {
        name: "`Deno.writeTextFile` (not atomic, not durable)",
        ops: WRITES,
        run: writes((i) =>
          Deno.writeTextFile(join(raw, `w${i}.json`), JSON.stringify(program(`w${i}`), null, 2))
        ),
      },
      cases: [
        {
          name: "`saveProgram`, `fsync: false` (atomic)",
          ops: WRITES,
          run: writes((i) => fast.saveProgram(program(`w${i}`))),
        },
        {
          name: "`saveProgram`, default (atomic and durable)",
          ops: WRITES,
          run: writes((i) => durable.saveProgram(program(`w${i}`))),
        },
        {
          name: "`MemoryStorageAdapter.saveProgram`",
          ops: WRITES,
          run: writes((i) => memory.saveProgram(program(`w${i}`))),
        },
      ],
    },
    {
      name: "get one program",
      baseline: {
        name: "`node:fs` `readFile` + `JSON.parse`",
        ops: 1,
        run: async () => JSON.parse(await readFile(join(programs, "p500.json"), "utf8")),
      },
      cases: [
        {
          name: "`getProgram` (checked, Dates revived)",
          ops: 1,
          run: () => fast.getProgram("p500"),
        },
      ],
    },
    {
      name: `list ${RECORDS} programs`,
      baseline: {
        name: "`node:fs` `readdir` + `readFile` + `JSON.parse`",
        ops: 1,
        run: async () => {
          const names = await readdir(programs);
          return await Promise.all(
            names.map(async (name) => JSON.parse(await readFile(join(programs, name), "utf8"))),
          );
        },
      },
      cases: [
        { name: "`listPrograms`", ops: 1, run: () => fast.listPrograms() },
        { name: "`MemoryStorageAdapter.listPrograms`", ops: 1, run: () => memory.listPrograms() },
      ],
    },
  ];

  const lines = [
    `Median of ${ROUNDS} rounds; ratio = case / baseline (lower is faster).`,
    "",
    "| group | operation | median per op | ratio |",
    "| --- | --- | ---: | ---: |",
  ];
  for (const group of groups) {
    const all = [group.baseline, ...group.cases];
    const samples = new Map<Case, number[]>(all.map((c) => [c, []]));
    for (const c of all) await c.run(); // warm up
    for (let round = 0; round < ROUNDS; round++) {
      for (const c of all) {
        const start = performance.now();
        await c.run();
        samples.get(c)!.push((performance.now() - start) / c.ops);
      }
    }
    const base = median(samples.get(group.baseline)!);
    for (const c of all) {
      const m = median(samples.get(c)!);
      lines.push(`| ${group.name} | ${c.name} | ${formatMs(m)} | ${(m / base).toFixed(2)}× |`);
    }
  }
  console.log(lines.join("\n"));
} finally {
  await Deno.remove(dir, { recursive: true });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function formatMs(ms: number): string {
  return ms >= 1 ? `${ms.toFixed(2)} ms` : `${(ms * 1000).toFixed(1)} µs`;
}
