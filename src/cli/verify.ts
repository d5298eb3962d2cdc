// `cvm-storage verify [STORE] [--repair]`: checks that every record reads and is where it
// belongs, like `git fsck`; `--repair` moves what does not aside, never deleting anything
// but temp files proven stale.

import { resolve } from "node:path";
import { ConnectionError } from "../errors.ts";
import {
  type Command,
  JSON_OPTION,
  type Parsed,
  STORE_HELP,
  STORE_OPTION,
  timeoutArgument,
} from "./_args.ts";
import { type Finding, Findings } from "./_findings.ts";
import type { LegacyStore } from "./_legacy_store.ts";
import {
  createIndexes,
  describeIndex,
  type ExpectedIndex,
  missingIndexes,
} from "./_mongodb_indexes.ts";
import { type Io, jsonText } from "./_output.ts";
import { defaultSpec, openStore, parseStoreSpec, type StoreSpec } from "./_store.ts";
import { verifyThroughApi } from "./_verify_api.ts";
import { verifyFileStore } from "./_verify_file.ts";
import { storeArgument } from "./inspect.ts";

/** What `verify` reports. */
export interface VerifyReport {
  /** The store. */
  store: string;
  /** How many records (output: lines) were read. */
  counts: { programs: number; executions: number; history: number; outputs: number };
  /** Everything found. */
  findings: Finding[];
  /** Problems `--repair` did not fix: the exit status is 1 when there are any. */
  unresolved: number;
}

/**
 * Checks a store.
 *
 * @param spec The store (not the default: resolve it first).
 * @param io For opening the store.
 * @param options `repair`: move what is unreadable or misplaced aside, remove stale temp
 * files, create missing MongoDB indexes; `timeoutMS`: the bound on each MongoDB call.
 * @returns The report.
 */
export async function verifyStore(
  spec: Exclude<StoreSpec, { kind: "default" }>,
  io: Io,
  options: { repair?: boolean; timeoutMS?: number } = {},
): Promise<VerifyReport> {
  const { repair = false, timeoutMS } = options;
  const findings = new Findings();
  let store: string;
  let counts: VerifyReport["counts"];
  switch (spec.kind) {
    case "file": {
      const dataDir = resolve(spec.dataDir);
      store = `file:${dataDir}`;
      counts = await verifyFileStore(dataDir, findings, repair);
      break;
    }
    case "mongodb": {
      const missing = await checkIndexes(spec.uri, findings, repair);
      await using open = await openStore(spec, io, { mustExist: false, timeoutMS });
      store = open.name;
      counts = await verifyThroughApi(open.storage, findings);
      if (missing.length > 0) {
        // Every connect() creates the indexes it lacks; say so where it did.
        const still = new Set((await missingIndexes(spec.uri)).missing.map(describeIndex));
        for (const finding of findings.list) {
          if (
            finding.repaired === undefined &&
            missing.some((m) => describeIndex(m) === finding.where)
          ) {
            if (!still.has(finding.where)) {
              finding.repaired = "created by the MongoDB backend's connect()";
            }
          }
        }
      }
      break;
    }
    case "legacy": {
      await using open = await openStore(spec, io, { mustExist: true, timeoutMS });
      store = open.name;
      counts = await verifyThroughApi(open.storage, findings);
      for (const { path, problem, skipped } of (open.storage as LegacyStore).problems) {
        if (skipped) findings.problem(path, `${problem}; migrate cannot convert it`);
        else findings.note(path, problem);
      }
      break;
    }
  }
  const unresolved =
    findings.list.filter((f) => f.severity === "problem" && f.repaired === undefined).length;
  return { store, counts, findings: findings.list, unresolved };
}

async function checkIndexes(
  uri: string,
  findings: Findings,
  repair: boolean,
): Promise<ExpectedIndex[]> {
  let result;
  try {
    result = await missingIndexes(uri);
  } catch (error) {
    throw new ConnectionError(
      `Cannot check the indexes of the MongoDB store: ${
        (error as Error).message
      }; check that the ` +
        "server is running and the URI is right",
      { cause: error },
    );
  }
  for (const collection of result.absent) {
    findings.note(collection, "does not exist yet (the backend creates it with its indexes)");
  }
  const problems = new Map(
    result.missing.map((
      index,
    ) => [
      index,
      findings.problem(describeIndex(index), "is missing, so queries on it scan the collection"),
    ]),
  );
  if (repair && result.missing.length > 0) {
    for (const index of await createIndexes(uri, result.missing, findings)) {
      problems.get(index)!.repaired = "created";
    }
  }
  return result.missing;
}

/**
 * The report as text for people.
 *
 * @param report The report.
 * @returns The text.
 */
export function formatVerify(report: VerifyReport): string {
  const { programs, executions, history, outputs } = report.counts;
  let text = `Checked ${report.store}: ${programs} programs, ${executions} executions, ` +
    `${history} history entries, ${outputs} output lines\n`;
  for (const finding of report.findings) {
    text += `${finding.severity.padEnd(8)}${finding.where}: ${finding.message}\n`;
    if (finding.repaired !== undefined) text += `        repaired: ${finding.repaired}\n`;
  }
  const problems = report.findings.filter((f) => f.severity === "problem").length;
  const notes = report.findings.length - problems;
  const repaired = report.findings.filter((f) => f.repaired !== undefined).length;
  text += problems === 0 && notes === 0
    ? "No problems found\n"
    : `${plural(problems, "problem")} (${repaired} repaired), ${plural(notes, "note")}\n`;
  if (
    report.unresolved > 0 &&
    report.findings.some((f) => f.repaired === undefined && f.severity === "problem")
  ) {
    text += report.findings.some((f) => f.repaired !== undefined)
      ? "Some problems remain; see above\n"
      : 'Run "cvm-storage verify --repair" to move unreadable and misplaced files to lost+found/\n';
  }
  return text;
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? "" : "s"}`;
}

/** `cvm-storage verify`. */
export const verifyCommand: Command = {
  name: "verify",
  summary: "Check that every record reads and is where it belongs; --repair moves aside",
  help: `Usage: cvm-storage verify [STORE] [--repair] [--json]

Checks a store, reporting each problem with its path or key:
  file stores   each record file is a regular file of valid UTF-8 holding a valid record,
                in the file its id names (history: its execution's directory and its
                (timestamp, step) key, so no key is there twice); output files read;
                metadata.json holds the current execution; no temp files are left; the
                data directory is not writable by others. History and output that belong
                to no execution record (orphans) are noted. The directory is read as it
                is: without --repair nothing is changed.
  MongoDB       the contract's indexes exist (checked before the backend's connect(),
                which creates missing ones); every record, history entry and output line
                reads through the library; history keys come in strictly ascending order.
  cvm-legacy    every record converts; what cannot is listed (what migrate would skip).

--repair never deletes a record: it moves each unreadable or misplaced file into
lost+found/ in the data directory, with a .note file saying where it came from and why,
removes only temp files whose writers are proven gone, and creates missing MongoDB
indexes.

Exits with status 0 when no problem remains, 1 otherwise.

Options:
  -s, --store STORE   the store (also as the positional argument; see below)
  --repair            fix what can be fixed without deleting anything
  --json              print the report as JSON
  -h, --help          this help
${STORE_HELP}
Examples:
  cvm-storage verify ./data
  cvm-storage verify ./data --repair
`,
  options: { ...STORE_OPTION, ...JSON_OPTION, repair: { type: "boolean" } },
  positionals: [0, 1],
  async run(parsed: Parsed, io: Io): Promise<number> {
    let spec = parseStoreSpec(storeArgument(parsed, "verify"), "verify");
    if (spec.kind === "default") spec = defaultSpec(io);
    const report = await verifyStore(spec, io, {
      repair: parsed.values.repair === true,
      timeoutMS: timeoutArgument(parsed, "verify"),
    });
    await io.stdout(parsed.values.json ? jsonText(report) : formatVerify(report));
    return report.unresolved === 0 ? 0 : 1;
  },
};
