// Running a command's writes a few at a time.

/**
 * Runs `work` on every item, at most `limit` at once; waits for all of them, then throws
 * the first failure.
 *
 * @param items The items.
 * @param limit How many run at once.
 * @param work What to do with each.
 */
export async function inParallel<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (next < items.length && failure === undefined) {
      const item = items[next++];
      try {
        await work(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure !== undefined) throw failure.error;
}

/**
 * Runs `work` on every item of a stream, at most `limit` at once, and items with the same
 * key one after another in stream order; stops reading at the first failure, waits for
 * what runs, then throws it.
 *
 * @param items The items.
 * @param options How many run at once, and each item's key.
 * @param work What to do with each.
 */
export async function inKeyOrder<T>(
  items: AsyncIterable<T>,
  options: { limit: number; key: (item: T) => string },
  work: (item: T) => Promise<void>,
): Promise<void> {
  const running = new Set<Promise<void>>();
  const last = new Map<string, Promise<void>>();
  let failure: { error: unknown } | undefined;
  for await (const item of items) {
    while (running.size >= options.limit && failure === undefined) await Promise.race(running);
    if (failure !== undefined) break;
    const key = options.key(item);
    const task: Promise<void> = (last.get(key) ?? Promise.resolve())
      .then(() => failure === undefined ? work(item) : undefined)
      .catch((error) => {
        failure ??= { error };
      })
      .finally(() => {
        running.delete(task);
        if (last.get(key) === task) last.delete(key);
      });
    running.add(task);
    last.set(key, task);
  }
  await Promise.all(running);
  if (failure !== undefined) throw failure.error;
}
