// The benchmark harness: each row pits the library against a hand-written floor doing the
// same work, measured in the same process, interleaved round by round (alternating which
// goes first), so that a noisy neighbour slows both alike. A row's figure is the median,
// over rounds, of that round's ratio floor ÷ library: 1.00 is as fast as the floor, below 1
// is slower. Rows print as a Markdown table, which the README quotes.

/** One side of a row: `run` does `ops` operations and is timed as a whole. */
export interface Variant {
  name: string;
  run: () => Promise<unknown> | unknown;
}

/** A library operation measured against its floor. */
export interface Row {
  name: string;
  /** Operations per sample, to report time per operation. */
  ops: number;
  floor: Variant;
  library: Variant;
  /** The row's target ratio, printed beside the figure. */
  target?: number;
  /** Runs before each round, untimed. */
  prepare?: () => Promise<unknown> | unknown;
}

/** A measured row. */
export interface Result {
  name: string;
  floorName: string;
  libraryName: string;
  floorMs: number;
  libraryMs: number;
  ratio: number;
  target?: number;
}

/** Rounds per row: `CVM_BENCH_ROUNDS`, else `fallback`. */
export function rounds(fallback = 15): number {
  const value = Number(globalThis.Deno?.env.get("CVM_BENCH_ROUNDS") ?? "");
  return Number.isSafeInteger(value) && value > 0 ? value : fallback;
}

/** Measures `row` over `count` rounds, after one untimed warm-up round. */
export async function measure(row: Row, count: number): Promise<Result> {
  const floor: number[] = [];
  const library: number[] = [];
  const ratios: number[] = [];
  for (let round = -1; round < count; round++) {
    await row.prepare?.();
    const order = round % 2 === 0 ? [row.floor, row.library] : [row.library, row.floor];
    const times = new Map<Variant, number>();
    for (const variant of order) {
      const start = performance.now();
      await variant.run();
      times.set(variant, performance.now() - start);
    }
    if (round < 0) continue;
    const f = times.get(row.floor)!;
    const l = times.get(row.library)!;
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
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Formats results as a Markdown table. */
export function table(results: Result[], count: number): string {
  const lines = [
    `| row | floor | floor per op | library per op | ratio (median of ${count}) | target |`,
    "| --- | --- | ---: | ---: | ---: | ---: |",
  ];
  for (const r of results) {
    const target = r.target === undefined ? "" : `≥ ${r.target.toFixed(2)}`;
    lines.push(
      `| ${r.name} | ${r.floorName} | ${time(r.floorMs)} | ${time(r.libraryMs)} | ` +
        `${r.ratio.toFixed(2)} | ${target} |`,
    );
  }
  return lines.join("\n");
}

function time(ms: number): string {
  if (ms >= 100) return `${ms.toFixed(0)} ms`;
  if (ms >= 1) return `${ms.toFixed(2)} ms`;
  return `${(ms * 1000).toFixed(1)} µs`;
}
