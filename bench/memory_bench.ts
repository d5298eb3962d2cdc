// The memory adapter against its floor: a `Map` of `structuredClone`d records.
//
//   deno run bench/memory_bench.ts      (CVM_BENCH_ROUNDS, CVM_BENCH_SCALE; see _bench.mjs)

import { type History, MemoryStorageAdapter } from "../mod.ts";
import { measure, type Result, rounds, type Row, scaled, table } from "./_bench.mjs";

const OPS = scaled(2000);
const entry = (step: number): History => ({
  executionId: "run-1",
  step,
  pc: step % 40,
  instruction: "PUSH",
  stack: [step, "x", { a: 1 }],
  variables: { x: step, name: "counter", list: [1, 2, 3], nested: { deep: [true, null] } },
  timestamp: new Date(1_700_000_000_000 + step),
});
const entries = Array.from({ length: OPS }, (_, i) => entry(i));

let adapter = new MemoryStorageAdapter();
let floor = new Map<string, History>();

const rows: Row[] = [
  {
    name: `memory \`saveHistory\` (${OPS} entries)`,
    ops: OPS,
    target: 0.9,
    prepare: async () => {
      adapter = new MemoryStorageAdapter();
      await adapter.connect();
      floor = new Map();
    },
    floor: {
      name: "`Map.set` of a `structuredClone`",
      run: () => {
        for (const e of entries) floor.set(`${e.executionId}\u0000${e.step}`, structuredClone(e));
      },
    },
    library: {
      name: "saveHistory",
      run: async () => {
        for (const e of entries) await adapter.saveHistory(e);
      },
    },
  },
];

const count = rounds();
const results: Result[] = [];
for (const row of rows) results.push(await measure(row, count));
console.log(`\nMemory adapter, Deno ${Deno.version.deno}: ratio = floor ÷ library\n`);
console.log(table(results, count));
