// `cvm-storage migrate --from STORE --to STORE`: copies a whole store into another
// through the public API, page by page, resumably, and ends by proving the copy equal.
//
// Resuming: programs are compared and saved when they differ. Each execution is copied as
// history first (a retry of an entry already there is a no-op), then output (exactly
// once: only the lines the target does not hold yet at their position are appended), and
// its record last, so that an execution record in the target equal to the source's marks
// a finished copy, which a later run skips (`--recheck` copies those again too). Killed at
// any moment and run again, it finishes with nothing duplicated.

import { deepEqual } from "../_deep_equal.ts";
import { ConflictError, StorageError } from "../errors.ts";
import { streamHistory } from "../stream_history.ts";
import type { Execution, History, StorageAdapter } from "../types.ts";
import {
  type Command,
  JSON_OPTION,
  type Parsed,
  positiveInteger,
  STORE_HELP,
  TIMEOUT_OPTION,
  timeoutArgument,
  UsageError,
} from "./_args.ts";
import { appendMissingOutput } from "./_append_missing.ts";
import { compareSummaries, summarizeStore, type SummaryComparison } from "./_digest.ts";
import { findFileOrphans, type Orphan } from "./_file_layout.ts";
import { type LegacyProblem, LegacyStore } from "./_legacy_store.ts";
import { formatBytes, type Io, jsonText, Progress, table } from "./_output.ts";
import { PAGE_SIZE, pageBatches, pages, readOutput } from "./_scan.ts";
import { openStore, parseStoreSpec } from "./_store.ts";

/** Options for {@linkcode migrateStore}. */
export interface MigrateOptions {
  /** Records read per call. Default 500. */
  pageSize?: number;
  /** Executions copied at once. Default 4. */
  concurrency?: number;
  /** History entries saved at once, per execution. Default 16. */
  writes?: number;
  /** Copy the history and output of executions whose record the target already holds. */
  recheck?: boolean;
  /** Called as the copy goes on. */
  onProgress?: (progress: MigrateProgress) => void;
  /** Called when the proof starts. */
  onProof?: () => void | Promise<void>;
}

/** How far a migration is. */
export interface MigrateProgress {
  /** Executions done, of `total`. */
  done: number;
  total: number;
  /** History entries saved so far. */
  history: number;
  /** Output lines appended so far. */
  lines: number;
}

/** What a migration did, and its proof. */
export interface MigrateReport {
  programs: { copied: number; unchanged: number };
  executions: { copied: number; complete: number };
  /** History entries saved (entries already there are no-op retries and count too). */
  history: { saved: number };
  outputs: { appended: number };
  current: { value: string | null; changed: boolean };
  /** What could not be copied (a different history entry or output already in the target). */
  problems: string[];
  /** Source and target compared collection by collection. */
  proof: SummaryComparison[];
  /** Whether every collection has the same count, size and digest on both sides. */
  equal: boolean;
  /** The ids of the source's executions, in order. */
  executionIds: string[];
}

/**
 * Copies everything `from` holds into `to`, then proves the copy equal.
 *
 * @param from The source, connected.
 * @param to The target, connected.
 * @param options Page size, concurrency, `recheck`, progress.
 * @returns The report.
 * @throws {StorageError} When a store fails; run it again to resume.
 */
export async function migrateStore(
  from: StorageAdapter,
  to: StorageAdapter,
  options: MigrateOptions = {},
): Promise<MigrateReport> {
  const pageSize = options.pageSize ?? PAGE_SIZE;
  const concurrency = options.concurrency ?? 4;
  const writes = options.writes ?? 16;
  const report: MigrateReport = {
    programs: { copied: 0, unchanged: 0 },
    executions: { copied: 0, complete: 0 },
    history: { saved: 0 },
    outputs: { appended: 0 },
    current: { value: null, changed: false },
    problems: [],
    proof: [],
    equal: false,
    executionIds: [],
  };

  for await (const page of pageBatches((after) => from.listPrograms({ after, limit: pageSize }))) {
    await inParallel(page, writes, async (program) => {
      if (deepEqual(await to.getProgram(program.id), program)) {
        report.programs.unchanged++;
      } else {
        await to.saveProgram(program);
        report.programs.copied++;
      }
    });
  }

  for await (const e of pages((after) => from.listExecutions({ after, limit: pageSize }))) {
    report.executionIds.push(e.id);
  }
  const progress = (): MigrateProgress => ({
    done: report.executions.copied + report.executions.complete,
    total: report.executionIds.length,
    history: report.history.saved,
    lines: report.outputs.appended,
  });
  options.onProgress?.(progress());

  const copyExecution = async (execution: Execution): Promise<void> => {
    if (!options.recheck && deepEqual(await to.getExecution(execution.id), execution)) {
      report.executions.complete++;
      options.onProgress?.(progress());
      return;
    }
    let complete = true;
    const save = async (entry: History) => {
      try {
        await to.saveHistory(entry);
        report.history.saved++;
      } catch (error) {
        if (!(error instanceof ConflictError)) throw error;
        complete = false;
        report.problems.push(error.message);
      }
    };
    let batch: History[] = [];
    for await (const entry of streamHistory(from, execution.id, { pageSize })) {
      batch.push(entry);
      if (batch.length >= pageSize) {
        await inParallel(batch, writes, save);
        batch = [];
        options.onProgress?.(progress());
      }
    }
    await inParallel(batch, writes, save);
    try {
      await readOutput(from, execution.id, async (start, lines) => {
        const appended = await appendMissingOutput(to, execution.id, start, lines);
        report.outputs.appended += appended;
      });
    } catch (error) {
      if (!(error instanceof StorageError && error.code === "CONFLICT")) throw error;
      complete = false;
      report.problems.push(error.message);
    }
    // Last: an equal record in the target means this execution was copied in full.
    if (complete) {
      await to.saveExecution(execution);
      report.executions.copied++;
    }
    options.onProgress?.(progress());
  };
  for await (
    const page of pageBatches((after) => from.listExecutions({ after, limit: pageSize }))
  ) {
    await inParallel(page, concurrency, copyExecution);
  }

  const current = await from.getCurrentExecutionId();
  report.current.value = current;
  if ((await to.getCurrentExecutionId()) !== current) {
    await to.setCurrentExecutionId(current);
    report.current.changed = true;
  }

  await options.onProof?.();
  const [source, target] = await Promise.all([
    summarizeStore(from, { pageSize }),
    summarizeStore(to, { pageSize }),
  ]);
  report.proof = compareSummaries(source, target);
  report.equal = report.proof.every((row) => row.equal);
  return report;
}

/**
 * Runs `work` on every item, at most `limit` at once; waits for all of them, then throws
 * the first failure.
 */
async function inParallel<T>(
  items: T[],
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
 * The report as text for people.
 *
 * @param report The report.
 * @param extra Orphans left behind and what a legacy source could not convert.
 * @returns The text.
 */
export function formatMigrate(
  report: MigrateReport,
  extra: { orphans: Orphan[]; legacy: LegacyProblem[] },
): string {
  const { programs, executions, history, outputs, current } = report;
  let text = `Copied ${programs.copied} programs (${programs.unchanged} already there), ` +
    `${executions.copied} executions (${executions.complete} already complete), ` +
    `${history.saved} history entries, ${outputs.appended} output lines; current execution ` +
    `${current.value === null ? "none" : JSON.stringify(current.value)}` +
    `${current.changed ? " (set)" : ""}\n`;
  for (const problem of report.problems) text += `not copied: ${problem}\n`;
  for (const orphan of extra.orphans) {
    text += `not copied: ${orphan.path} is ${orphan.collection} of an execution id that has no ` +
      "execution record (an orphan, which the public API cannot list; save an execution with " +
      "that id to have it copied, or deleteExecution(id) to drop it)\n";
  }
  for (const { path, problem, skipped } of extra.legacy) {
    text += `${skipped ? "not converted" : "converted"}: ${path} ${problem}\n`;
  }
  const rows = [["collection", "source", "target", "source sha256", "target sha256", ""]];
  for (const row of report.proof) {
    rows.push([
      row.collection,
      `${row.source.count} / ${formatBytes(row.source.bytes)}`,
      `${row.target.count} / ${formatBytes(row.target.bytes)}`,
      row.source.sha256.slice(0, 16),
      row.target.sha256.slice(0, 16),
      row.equal ? "equal" : "DIFFERENT",
    ]);
  }
  text += `Proof (count / size of each collection, and a SHA-256 of its contents):\n${table(rows)}`;
  text += report.equal
    ? "The copy is equal to the source: the same counts and SHA-256 digests in every collection.\n"
    : "The copy is NOT equal to the source in the collections marked DIFFERENT" +
      (report.problems.length > 0
        ? ": see what was not copied above.\n"
        : " (the target held other records before?).\n");
  return text;
}

/** `cvm-storage migrate`. */
export const migrateCommand: Command = {
  name: "migrate",
  summary: "Copy a whole store into another, resumably, and prove the copy equal",
  help: `Usage: cvm-storage migrate --from STORE --to STORE [--recheck] [--json]

Copies programs, executions, each execution's history and output, and the current
execution from one store into another (a file store's directory is created if needed),
page by page, showing progress on a terminal (plain lines otherwise). Then it reads both
stores in full and compares each collection's count and a SHA-256 digest of its contents
(the same digests "inspect" shows), and says whether the copy is equal.

It is idempotent and resumable: stopped at any point (Ctrl-C, a crash, a lost server) and
run again, it finishes the copy with nothing duplicated. Programs are saved when they
differ; each execution's history is saved first (entries already there are no-op
retries), then its output (only the lines the target does not hold yet at their
position), then its record, whose presence in the target then marks the execution as
copied; later runs skip those (--recheck copies their history and output again too).
Stop every writer of both stores while migrating.

Not copied, and reported: history and output stored under an execution id that has no
execution record (orphans; listed for a file source, which can be scanned), a history
entry or output that the target already holds differently. From cvm-legacy:DIR, records
the original CVM wrote that this library cannot store are reported, and empty output lines
are dropped as the original dropped them. The exit status is 0 only when the copy is
proven equal and nothing was left out.

Options:
  --from STORE        the store to copy (see below)
  --to STORE          the store to copy into (not cvm-legacy:)
  --recheck           also check the history and output of executions already copied
  --page-size N       records read per call (default 500)
  --concurrency N     executions copied at once (default 4)
  --json              print the report as JSON
  -h, --help          this help
${STORE_HELP}
Examples:
  cvm-storage migrate --from ~/.cvm --to mongodb://localhost:27017/cvm
  cvm-storage migrate --from cvm-legacy:./old-cvm-data --to ./data
`,
  options: {
    ...JSON_OPTION,
    from: { type: "string" },
    to: { type: "string" },
    recheck: { type: "boolean" },
    "page-size": { type: "string" },
    concurrency: { type: "string" },
    ...TIMEOUT_OPTION,
  },
  positionals: [0, 0],
  async run(parsed: Parsed, io: Io): Promise<number> {
    const fromText = parsed.values.from as string | undefined;
    const toText = parsed.values.to as string | undefined;
    if (fromText === undefined || toText === undefined) {
      throw new UsageError("migrate needs both --from STORE and --to STORE", "migrate");
    }
    const fromSpec = parseStoreSpec(fromText, "migrate");
    const toSpec = parseStoreSpec(toText, "migrate");
    if (toSpec.kind === "legacy") {
      throw new UsageError(
        "cvm-legacy: stores are read-only; migrate into a data directory or MongoDB",
        "migrate",
      );
    }
    const pageSize = positiveInteger(parsed, "page-size", PAGE_SIZE, "migrate");
    const concurrency = positiveInteger(parsed, "concurrency", 4, "migrate");
    const timeoutMS = timeoutArgument(parsed, "migrate");
    await using source = await openStore(fromSpec, io, { mustExist: true, timeoutMS });
    await using target = await openStore(toSpec, io, { mustExist: false, timeoutMS });
    if (source.name === target.name) {
      throw new UsageError(`--from and --to name the same store (${source.name})`, "migrate");
    }
    await io.stderr(`Migrating ${source.name} to ${target.name}\n`);
    const progress = new Progress(io, "Copying");
    const report = await migrateStore(source.storage, target.storage, {
      pageSize,
      concurrency,
      recheck: parsed.values.recheck === true,
      onProgress: ({ done, total, history, lines }) => {
        progress.setTotal(total);
        progress.update(done, `executions, ${history} history entries, ${lines} output lines`);
      },
      onProof: async () => {
        await progress.end();
        await io.stderr("Reading both stores to prove the copy equal\n");
      },
    });
    await progress.end();
    const orphans = source.kind === "file"
      ? await findFileOrphans(source.dataDir!, report.executionIds)
      : [];
    const legacy = source.storage instanceof LegacyStore ? source.storage.problems : [];
    const { executionIds: _, ...rest } = report;
    await io.stdout(
      parsed.values.json
        ? jsonText({ from: source.name, to: target.name, ...rest, orphans, legacy })
        : formatMigrate(report, { orphans, legacy }),
    );
    const complete = report.problems.length === 0 && orphans.length === 0 &&
      !legacy.some((p) => p.skipped);
    return report.equal && complete ? 0 : 1;
  },
};
