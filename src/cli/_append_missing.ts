// Copies output lines exactly once. `appendOutput` is not idempotent, so a copy that was
// interrupted (or whose reply was lost) must not simply append again: it first reads what
// the target already holds at the lines' position, appends only the lines that are not
// there, and refuses when the target holds different lines. Each `appendOutput` stores all
// of its lines or none, so after any interruption the target holds a prefix of the lines
// in whole calls, and reading it tells exactly where to go on.
//
// A caller that read the target's output beforehand (in bulk, for many executions at
// once) passes those lines as `known`, and nothing is read unless a reply is lost: the
// copy is the only writer of the target, so what it read plus what it appended is what
// the target holds.

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
 * @param options `known`: the execution's whole output in `storage`, if the caller read
 * it; kept up to date here.
 * @returns How many lines were appended.
 * @throws {StorageError} When the target's output differs from `lines` where they overlap,
 * or holds fewer than `from` lines (so the lines would land at the wrong index).
 */
export async function appendMissingOutput(
  storage: StorageAdapter,
  executionId: string,
  from: number,
  lines: string[],
  options: { known?: string[] } = {},
): Promise<number> {
  const { known } = options;
  for (let attempt = 1;; attempt++) {
    const held = known === undefined
      ? await storage.getOutput(executionId, { from, limit: lines.length })
      : known.slice(from, from + lines.length);
    for (let i = 0; i < held.length; i++) {
      if (held[i] !== lines[i]) {
        throw mismatch(executionId, `line ${from + i} differs`);
      }
    }
    if (held.length === lines.length) return 0;
    if (held.length === 0 && from > 0) {
      const before = known === undefined
        ? (await storage.getOutput(executionId, { from: from - 1, limit: 1 })).length > 0
        : known.length >= from;
      if (!before) {
        throw mismatch(executionId, `it holds fewer than the ${from} lines before these`);
      }
    }
    const missing = lines.slice(held.length);
    try {
      await storage.appendOutput(executionId, missing);
      for (const line of missing) known?.push(line);
      return missing.length;
    } catch (error) {
      // The lines may be there: read again to find out, and append only what is missing.
      if (!(error instanceof StorageError && error.maybeStored) || attempt >= ATTEMPTS) throw error;
      if (known !== undefined) {
        known.length = 0;
        for (const line of await storage.getOutput(executionId)) known.push(line);
      }
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
