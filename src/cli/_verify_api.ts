// `verify` through the public API, for stores the command does not read directly (MongoDB,
// an original CVM directory): every program, execution, history entry and output line must
// read, each execution's history must come in strictly ascending key order (so no key
// appears twice), and the current execution must read. A failure is reported and the check
// goes on with the next execution; a list that fails stops its collection, since the API
// cannot page past a record it cannot read.

import { compareHistoryKeys } from "../query.ts";
import { streamHistory } from "../stream_history.ts";
import type { StorageAdapter } from "../types.ts";
import type { Findings } from "./_findings.ts";
import { PAGE_SIZE, pages, readOutput } from "./_scan.ts";

/** How many records of each kind the check read. */
export interface ApiCounts {
  programs: number;
  executions: number;
  history: number;
  outputs: number;
}

/**
 * Reads a whole store through the API, recording what fails.
 *
 * @param storage A connected adapter.
 * @param findings Where to record problems.
 * @returns How many records (and output lines) were read.
 */
export async function verifyThroughApi(
  storage: StorageAdapter,
  findings: Findings,
): Promise<ApiCounts> {
  const counts: ApiCounts = { programs: 0, executions: 0, history: 0, outputs: 0 };
  try {
    for await (const _ of pages((after) => storage.listPrograms({ after, limit: PAGE_SIZE }))) {
      counts.programs++;
    }
  } catch (error) {
    findings.problem("programs", `${message(error)} (programs after this one were not checked)`);
  }
  const ids: string[] = [];
  try {
    for await (const e of pages((after) => storage.listExecutions({ after, limit: PAGE_SIZE }))) {
      ids.push(e.id);
    }
  } catch (error) {
    findings.problem(
      "executions",
      `${message(error)} (executions after this one were not checked)`,
    );
  }
  counts.executions = ids.length;
  for (const id of ids) {
    const where = `history of ${JSON.stringify(id)}`;
    try {
      let last: { step: number; time: number } | undefined;
      for await (const entry of streamHistory(storage, id, { pageSize: PAGE_SIZE })) {
        const time = entry.timestamp.getTime();
        if (entry.executionId !== id) {
          findings.problem(
            where,
            `holds an entry of execution ${JSON.stringify(entry.executionId)}`,
          );
        } else if (
          last !== undefined && compareHistoryKeys(last.step, last.time, entry.step, time) >= 0
        ) {
          findings.problem(
            where,
            `the key (step ${entry.step}, ${entry.timestamp.toISOString()}) is ${
              compareHistoryKeys(last.step, last.time, entry.step, time) === 0
                ? "there twice"
                : "out of order"
            }`,
          );
        }
        last = { step: entry.step, time };
        counts.history++;
      }
    } catch (error) {
      findings.problem(where, message(error));
    }
    try {
      counts.outputs += await readOutput(storage, id, () => {});
    } catch (error) {
      findings.problem(`output of ${JSON.stringify(id)}`, message(error));
    }
  }
  try {
    await storage.getCurrentExecutionId();
  } catch (error) {
    findings.problem("metadata", message(error));
  }
  return counts;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
