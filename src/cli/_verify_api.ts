// `verify` through the public API, for stores the command does not read directly (MongoDB,
// an original CVM directory): every program, execution, history entry and output line must
// read, each execution's history must come in strictly ascending key order (so no key
// appears twice), and the current execution must read. A failure is reported and the check
// goes on with the next execution; a list that fails stops its collection, since the API
// cannot page past a record it cannot read. Where the adapter has bulk reads (MongoDB),
// history and output are read in one pass over each collection, which also meets history
// and output of ids with no execution record: those orphans are noted.

import { compareHistoryKeys } from "../query.ts";
import type { StorageAdapter } from "../types.ts";
import { readHistoryOf, readOutputOf } from "./_execution_reads.ts";
import type { Findings } from "./_findings.ts";
import { PAGE_SIZE, pages } from "./_scan.ts";

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
  const orphan = (collection: string) => (id: string) =>
    findings.note(
      `${collection} of ${JSON.stringify(id)}`,
      "belongs to no execution record (an orphan): export and migrate do not copy it",
    );
  let last: { index: number; step: number; time: number } | undefined;
  try {
    await readHistoryOf(storage, ids, {
      item(entry, index) {
        const id = ids[index];
        const where = `history of ${JSON.stringify(id)}`;
        const time = entry.timestamp.getTime();
        const before = last?.index === index ? last : undefined;
        if (entry.executionId !== id) {
          findings.problem(
            where,
            `holds an entry of execution ${JSON.stringify(entry.executionId)}`,
          );
        } else if (
          before !== undefined &&
          compareHistoryKeys(before.step, before.time, entry.step, time) >= 0
        ) {
          findings.problem(
            where,
            `the key (step ${entry.step}, ${entry.timestamp.toISOString()}) is ${
              compareHistoryKeys(before.step, before.time, entry.step, time) === 0
                ? "there twice"
                : "out of order"
            }`,
          );
        }
        last = { index, step: entry.step, time };
        counts.history++;
      },
      error: (id, error) => findings.problem(`history of ${JSON.stringify(id)}`, message(error)),
      orphan: orphan("history"),
    }, { pageSize: PAGE_SIZE });
  } catch (error) {
    findings.problem("history", `${message(error)} (history after this was not checked)`);
  }
  try {
    await readOutputOf(storage, ids, {
      item: ({ lines }) => {
        counts.outputs += lines.length;
      },
      error: (id, error) => findings.problem(`output of ${JSON.stringify(id)}`, message(error)),
      orphan: orphan("output"),
    });
  } catch (error) {
    findings.problem("outputs", `${message(error)} (output after this was not checked)`);
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
