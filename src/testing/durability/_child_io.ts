/**
 * What the kit's child processes share: their arguments, commands on stdin and reports on
 * stdout, one JSON object a line. Deno only.
 *
 * @module
 */

/** Calls `onLine` for each line of stdin; resolves when stdin closes. */
export async function readStdinLines(onLine: (line: string) => void): Promise<void> {
  const decoder = new TextDecoder();
  let pending = "";
  for await (const chunk of Deno.stdin.readable) {
    pending += decoder.decode(chunk, { stream: true });
    const parts = pending.split("\n");
    pending = parts.pop()!;
    for (const line of parts) onLine(line);
  }
  if (pending !== "") onLine(pending);
}

/** Prints `value` as one JSON line on stdout, whole: a kill can only cut the last line. */
export function report(value: Record<string, unknown>): void {
  console.log(JSON.stringify(value));
}

/** The current time in milliseconds, comparable across processes. */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

/** Waits until the wall-clock time `time` (ms), sleeping and then spinning, to start together. */
export async function waitUntil(time: number): Promise<void> {
  if (time - now() > 2) await new Promise((resolve) => setTimeout(resolve, time - now() - 2));
  while (now() < time) {
    // Spin: a timer is too coarse to start several processes within a millisecond.
  }
}
