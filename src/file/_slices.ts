// Long reads share the event loop: work runs in slices of a few milliseconds, and between
// slices the loop runs timers and I/O callbacks. `setImmediate` is the cheapest macrotask
// on all three runtimes (7 µs; a nested `setTimeout(0)` is clamped to 1–4 ms). All three
// have it as a global, which Deno loads from its Node layer when first read (8 ms): it is
// read at the first yield, never at import.

type Immediate = (callback: () => void) => unknown;
let immediate: Immediate | undefined;

/** How long a slice of synchronous work may run before it yields, in milliseconds. */
export const SLICE_MS = 4;

/** Resolves on a later turn of the event loop, after timers and I/O callbacks ran. */
export function yieldToLoop(): Promise<void> {
  immediate ??= (globalThis as unknown as { setImmediate?: Immediate }).setImmediate ??
    ((callback) => setTimeout(callback, 0));
  return new Promise((resolve) => immediate!(resolve));
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
 * Sorts `items` like `items.sort(compare)` (stable), in slices: runs of {@linkcode RUN}
 * items are sorted, then merged pairwise, yielding between slices.
 */
export async function sortInSlices<T>(items: T[], compare: (a: T, b: T) => number): Promise<T[]> {
  if (items.length <= RUN) return items.sort(compare);
  const slicer = new Slicer();
  for (let lo = 0; lo < items.length; lo += RUN) {
    const run = items.slice(lo, lo + RUN).sort(compare);
    for (let i = 0; i < run.length; i++) items[lo + i] = run[i];
    await slicer.pause();
  }
  let from = items;
  let to = new Array<T>(items.length);
  for (let width = RUN; width < items.length; width *= 2) {
    for (let lo = 0; lo < items.length; lo += 2 * width) {
      const mid = Math.min(lo + width, items.length);
      const hi = Math.min(lo + 2 * width, items.length);
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
