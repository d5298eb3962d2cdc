// Reads a worker's stdin line by line, for commands from the parent test.

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

/** Prints `value` as one JSON line on stdout. */
export function report(value: Record<string, unknown>): void {
  console.log(JSON.stringify(value));
}
