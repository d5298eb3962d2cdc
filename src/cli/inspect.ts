// `cvm-storage inspect [STORE]`: what a store holds — counts, sizes and digests per
// collection, executions by state, the newest executions, and the current execution.

import type { StorageAdapter } from "../types.ts";
import {
  type Command,
  JSON_OPTION,
  type Parsed,
  positiveInteger,
  STORE_HELP,
  STORE_OPTION,
  timeoutArgument,
  UsageError,
} from "./_args.ts";
import { type StoreSummary, summaryVisitor } from "./_digest.ts";
import { COLLECTIONS } from "./_document.ts";
import { diskUsage } from "./_file_layout.ts";
import { formatBytes, type Io, jsonText, Progress, table } from "./_output.ts";
import { scanStore } from "./_scan.ts";
import { openStore, parseStoreSpec } from "./_store.ts";

/** An execution as `inspect` lists it. */
export interface ExecutionSummary {
  id: string;
  programId: string;
  state: string;
  /** ISO 8601. */
  created: string;
  /** ISO 8601, or `null`. */
  updated: string | null;
}

/** What `inspect` reports. */
export interface InspectReport {
  /** Count, bytes and SHA-256 per collection (see `_digest.ts`). */
  collections: StoreSummary;
  /** The current execution. */
  current: string | null;
  /** Executions per state, most frequent first. */
  states: Record<string, number>;
  /** The newest executions, by `updated`, else `created`; newest first. */
  newest: ExecutionSummary[];
}

/**
 * Reads a whole store and reports what it holds.
 *
 * @param storage A connected adapter.
 * @param options How many newest executions to list; progress as history is read.
 * @returns The report.
 */
export async function inspectStore(
  storage: StorageAdapter,
  options: { newest?: number; onExecution?: (index: number, total: number) => void } = {},
): Promise<InspectReport> {
  const wanted = options.newest ?? 10;
  const { visitor, summary } = summaryVisitor();
  const states = new Map<string, number>();
  const newest: { time: number; execution: ExecutionSummary }[] = [];
  let current: string | null = null;
  await scanStore(storage, {
    ...visitor,
    execution(json, execution) {
      visitor.execution!(json, execution);
      states.set(execution.state, (states.get(execution.state) ?? 0) + 1);
      const time = (execution.updated ?? execution.created).getTime();
      if (newest.length === wanted && time <= newest[newest.length - 1].time) return;
      newest.push({
        time,
        execution: {
          id: execution.id,
          programId: execution.programId,
          state: execution.state,
          created: execution.created.toISOString(),
          updated: execution.updated ? execution.updated.toISOString() : null,
        },
      });
      newest.sort((a, b) => b.time - a.time);
      if (newest.length > wanted) newest.pop();
    },
    current(id) {
      visitor.current!(id);
      current = id;
    },
    executionDone: options.onExecution,
  });
  return {
    collections: summary(),
    current,
    states: Object.fromEntries([...states].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))),
    newest: newest.map((entry) => entry.execution),
  };
}

/**
 * The report as text for people.
 *
 * @param report The report.
 * @param name The store's name.
 * @param disk Bytes on disk per entry of a file store's data directory.
 * @returns The text.
 */
export function formatInspect(
  report: InspectReport,
  name: string,
  disk?: Record<string, number>,
): string {
  const units: Record<string, string> = { outputs: "lines", metadata: "current execution" };
  const rows = [["collection", "count", "size", "sha256", ""]];
  for (const collection of COLLECTIONS) {
    const { count, bytes, sha256 } = report.collections[collection];
    rows.push([
      collection,
      String(count),
      formatBytes(bytes),
      sha256.slice(0, 16),
      units[collection] ?? "",
    ]);
  }
  let text = `Store ${name}\n${table(rows)}`;
  text += `Current execution: ${
    report.current === null ? "none" : JSON.stringify(report.current)
  }\n`;
  if (disk !== undefined) {
    text += "On disk:\n" +
      table(Object.entries(disk).map(([entry, bytes]) => [entry, formatBytes(bytes)]));
  }
  const states = Object.entries(report.states);
  if (states.length > 0) {
    text += "Executions by state:\n" +
      table(states.map(([state, count]) => [state, String(count)]));
    text += "Newest executions (by updated, else created):\n" +
      table(
        report.newest.map((e) => [e.updated ?? e.created, e.id, e.state, `program ${e.programId}`]),
      );
  }
  return text;
}

/** `cvm-storage inspect`. */
export const inspectCommand: Command = {
  name: "inspect",
  summary: "Count what a store holds: collections, sizes, states, newest executions",
  help: `Usage: cvm-storage inspect [STORE] [--newest N] [--json]

Reads the whole store and prints, per collection (programs, executions, history, outputs,
metadata), the number of records (output: lines), their size as Extended JSON, and a
SHA-256 digest of their contents that is the same on every backend (two stores with the
same digests hold the same data); then the current execution, the bytes on disk (file
stores), the executions per state and the newest executions.

Options:
  -s, --store STORE   the store (also as the positional argument; see below)
  --newest N          how many newest executions to list (default 10)
  --json              print the report as JSON
  -h, --help          this help
${STORE_HELP}
Examples:
  cvm-storage inspect ./data
  cvm-storage inspect mongodb://localhost/cvm --json | jq .states
`,
  options: { ...STORE_OPTION, ...JSON_OPTION, newest: { type: "string" } },
  positionals: [0, 1],
  async run(parsed: Parsed, io: Io): Promise<number> {
    const store = storeArgument(parsed, "inspect");
    const newest = positiveInteger(parsed, "newest", 10, "inspect");
    await using open = await openStore(parseStoreSpec(store, "inspect"), io, {
      mustExist: true,
      timeoutMS: timeoutArgument(parsed, "inspect"),
    });
    const progress = new Progress(io, "Reading history", { plain: false });
    const report = await inspectStore(open.storage, {
      newest,
      onExecution: (index, total) => {
        progress.setTotal(total);
        progress.update(index, "executions");
      },
    });
    await progress.end();
    const disk = open.kind === "file" ? await diskUsage(open.dataDir!) : undefined;
    await io.stdout(
      parsed.values.json
        ? jsonText({ store: open.name, ...report, ...(disk ? { disk } : {}) })
        : formatInspect(report, open.name, disk),
    );
    return 0;
  },
};

/**
 * The store named by `--store` or the one positional argument.
 *
 * @param parsed The parsed arguments.
 * @param command The command, for the error.
 * @returns The store argument, or `undefined` for the default.
 * @throws {UsageError} When both are given.
 */
export function storeArgument(parsed: Parsed, command: string): string | undefined {
  const option = parsed.values.store as string | undefined;
  const positional = parsed.positionals[0];
  if (option !== undefined && positional !== undefined) {
    throw new UsageError("name the store once: with --store or as the argument", command);
  }
  return option ?? positional;
}
