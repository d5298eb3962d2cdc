// Copies output lines exactly once. `appendOutput` is not idempotent, so a copy that was
// interrupted (or whose reply was lost) must not simply append again: it first reads what
// the target already holds at the lines' position, appends only the lines that are not
// there, and refuses when the target holds different lines. Each `appendOutput` stores all
// of its lines or none, so after any interruption the target holds a prefix of the lines
// in whole calls, and reading it tells exactly where to go on.

import { StorageError } from "../errors.ts";
import type { StorageAdapter } from "../types.ts";

/** How often an append whose reply was lost is checked and tried again. */
const ATTEMPTS = 3;

/**
 * Makes `storage` hold `lines` at index `from` of an execution's output, appending those
 * it does not hold yet. Safe to repeat: a second call with the same lines appends nothing.
 *
 * @param storage A connected adapter.
 * @param executionId The execution.
 * @param from The index the first line belongs at.
 * @param lines The lines.
 * @returns How many lines were appended.
 * @throws {StorageError} When the target's output differs from `lines` where they overlap,
 * or holds fewer than `from` lines (so the lines would land at the wrong index).
 */
export async function appendMissingOutput(
  storage: StorageAdapter,
  executionId: string,
  from: number,
  lines: string[],
): Promise<number> {
  for (let attempt = 1;; attempt++) {
    const held = await storage.getOutput(executionId, { from, limit: lines.length });
    for (let i = 0; i < held.length; i++) {
      if (held[i] !== lines[i]) {
        throw mismatch(executionId, `line ${from + i} differs`);
      }
    }
    if (held.length === lines.length) return 0;
    if (held.length === 0 && from > 0) {
      const before = await storage.getOutput(executionId, { from: from - 1, limit: 1 });
      if (before.length === 0) {
        throw mismatch(executionId, `it holds fewer than the ${from} lines before these`);
      }
    }
    const missing = lines.slice(held.length);
    try {
      await storage.appendOutput(executionId, missing);
      return missing.length;
    } catch (error) {
      // The lines may be there: read again to find out, and append only what is missing.
      if (!(error instanceof StorageError && error.maybeStored) || attempt >= ATTEMPTS) throw error;
    }
  }
}

function mismatch(executionId: string, problem: string): StorageError {
  return new StorageError(
    `Cannot copy the output of execution "${executionId}": the target's output differs from ` +
      `the source's (${problem}); output is append-only, so nothing was appended (delete the ` +
      "execution in the target to copy it again)",
    { code: "CONFLICT" },
  );
}
