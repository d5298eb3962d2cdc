// Long reads share the event loop: work runs in slices of a few milliseconds, and between
// slices the loop runs timers and I/O callbacks. `setImmediate` is the cheapest macrotask
// on all three runtimes (7 µs; a nested `setTimeout(0)` is clamped to 1–4 ms).

import { setImmediate } from "../_runtime.ts";

/** How long a slice of synchronous work may run before it yields, in milliseconds. */
export const SLICE_MS = 4;

/** Resolves on a later turn of the event loop, after timers and I/O callbacks ran. */
export function yieldToLoop(): Promise<void> {
  // Two hops: a slice that ran in an I/O callback (the loop's poll phase) would otherwise
  // resume in the same turn's check phase, before any timer had a chance to run.
  return new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
}

/** Tracks the current slice: `await slicer.pause()` yields once the slice is used up. */
export class Slicer {
  #start = performance.now();

  /** Yields if the slice has run for {@linkcode SLICE_MS}; otherwise returns at once. */
  pause(): Promise<void> | undefined {
    if (performance.now() - this.#start < SLICE_MS) return undefined;
    return yieldToLoop().then(() => {
      this.#start = performance.now();
    });
  }
}

/** Sorted runs are this long before they are merged. */
const RUN = 2048;

/**
 * The indexes `0 … count - 1` ordered by `compare` (stable), sorted in slices: runs of
 * {@linkcode RUN} indexes are sorted, then merged pairwise, yielding between slices. An
 * index array is compact: sorting 100,000 entries allocates two typed arrays, not 100,000
 * objects for the garbage collector to trace.
 */
export async function sortIndexes(
  count: number,
  compare: (a: number, b: number) => number,
): Promise<Uint32Array> {
  let from = new Uint32Array(count);
  for (let i = 0; i < count; i++) from[i] = i;
  const slicer = new Slicer();
  for (let lo = 0; lo < count; lo += RUN) {
    from.subarray(lo, Math.min(lo + RUN, count)).sort(compare);
    if (count > RUN) await slicer.pause();
  }
  if (count <= RUN) return from;
  let to = new Uint32Array(count);
  for (let width = RUN; width < count; width *= 2) {
    for (let lo = 0; lo < count; lo += 2 * width) {
      const mid = Math.min(lo + width, count);
      const hi = Math.min(lo + 2 * width, count);
      let i = lo;
      let j = mid;
      let k = lo;
      while (i < mid && j < hi) {
        to[k++] = compare(from[j], from[i]) < 0 ? from[j++] : from[i++];
        if ((k & 1023) === 0) await slicer.pause();
      }
      while (i < mid) to[k++] = from[i++];
      while (j < hi) to[k++] = from[j++];
    }
    [from, to] = [to, from];
  }
  return from;
}

/** Sorts `items` like `items.sort(compare)` (stable), in slices (see `sortIndexes`). */
export async function sortInSlices<T>(items: T[], compare: (a: T, b: T) => number): Promise<T[]> {
  if (items.length <= RUN) return items.sort(compare);
  const order = await sortIndexes(items.length, (a, b) => compare(items[a], items[b]));
  return Array.from(order, (index) => items[index]);
}
