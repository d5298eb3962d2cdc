// What `import "@cvm/storage"` adds to a Deno program's start-up (issue 12: ≤ +10 ms).
//
//   deno run -A bench/startup_bench.ts      (CVM_BENCH_ROUNDS; see _bench.mjs)
//
// Each round starts a fresh `deno run` of an empty script and of one that imports mod.ts,
// in alternating order; the figure is the median of the per-round differences.

import { join } from "../src/_path.ts";
import { median, rounds } from "./_bench.mjs";

const dir = await Deno.makeTempDir({ prefix: "cvm-bench-startup-" });
try {
  const empty = join(dir, "empty.ts");
  const library = join(dir, "library.ts");
  const mod = new URL("../mod.ts", import.meta.url).href;
  await Deno.writeTextFile(empty, "export {};\n");
  await Deno.writeTextFile(library, `import ${JSON.stringify(mod)};\n`);
  const run = async (script: string) => {
    const start = performance.now();
    const { success } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--quiet", "--no-check", script],
      stdout: "null",
      stderr: "inherit",
    }).output();
    if (!success) throw new Error(`deno run ${script} failed`);
    return performance.now() - start;
  };
  await run(empty); // warm the module cache
  await run(library);
  const count = rounds();
  const deltas: number[] = [];
  const bases: number[] = [];
  for (let round = 0; round < count; round++) {
    const order = round % 2 === 0 ? [empty, library] : [library, empty];
    const times = new Map<string, number>();
    for (const script of order) times.set(script, await run(script));
    bases.push(times.get(empty)!);
    deltas.push(times.get(library)! - times.get(empty)!);
  }
  console.log(
    `import "mod.ts" under Deno: +${median(deltas).toFixed(1)} ms over an empty script ` +
      `(${median(bases).toFixed(1)} ms), median of ${count} interleaved rounds (target ≤ +10 ms)`,
  );
} finally {
  await Deno.remove(dir, { recursive: true });
}
