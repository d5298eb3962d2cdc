// `cvm-storage show program|execution|history|output|current [ID]`: one record, an
// execution's history or output, or the current execution, as pretty Extended JSON.

import { formatJson } from "../codec.ts";
import { checkRecord } from "../records.ts";
import { streamHistory } from "../stream_history.ts";
import type { HistoryQuery, StorageAdapter } from "../types.ts";
import {
  type Command,
  integer,
  JSON_OPTION,
  type Parsed,
  positiveInteger,
  STORE_HELP,
  STORE_OPTION,
  timeoutArgument,
  UsageError,
} from "./_args.ts";
import type { Io } from "./_output.ts";
import { readOutput } from "./_scan.ts";
import { openStore, parseStoreSpec } from "./_store.ts";

const KINDS = ["program", "execution", "history", "output", "current"] as const;
type ShowKind = typeof KINDS[number];

/** Options for {@linkcode showItem}. */
export interface ShowOptions {
  /** History: the step range, order and count. */
  history?: HistoryQuery;
  /** Output: print a JSON array instead of plain lines. */
  json?: boolean;
}

/**
 * Writes one item of a store to `write`.
 *
 * @param storage A connected adapter.
 * @param kind What to show.
 * @param id The program or execution id (not used for `current`).
 * @param write Where the text goes.
 * @param options History query, JSON output.
 * @returns Whether it was found (history and output: whether the execution has any).
 */
export async function showItem(
  storage: StorageAdapter,
  kind: ShowKind,
  id: string,
  write: (text: string) => Promise<void>,
  options: ShowOptions = {},
): Promise<boolean> {
  switch (kind) {
    case "program":
    case "execution": {
      const record = kind === "program"
        ? await storage.getProgram(id)
        : await storage.getExecution(id);
      if (record === null) return false;
      await write(formatJson(checkRecord(kind, record).json));
      return true;
    }
    case "history": {
      let count = 0;
      for await (const entry of streamHistory(storage, id, options.history)) {
        const text = formatJson(checkRecord("history", entry).json).trimEnd();
        await write(`${count++ === 0 ? "[\n" : ",\n"}${text.replace(/^/gm, "  ")}`);
      }
      await write(count === 0 ? "[]\n" : "\n]\n");
      return count > 0;
    }
    case "output": {
      let count = 0;
      if (options.json) await write("[");
      count = await readOutput(storage, id, async (from, lines) => {
        if (options.json) {
          const items = lines.map((line) => `\n  ${JSON.stringify(line)}`).join(",");
          await write(`${from === 0 ? "" : ","}${items}`);
        } else {
          await write(lines.map((line) => `${line}\n`).join(""));
        }
      });
      if (options.json) await write(count === 0 ? "]\n" : "\n]\n");
      return count > 0;
    }
    case "current": {
      const current = await storage.getCurrentExecutionId();
      await write(
        options.json ? `${JSON.stringify(current)}\n` : current === null ? "" : `${current}\n`,
      );
      return current !== null;
    }
  }
}

/** `cvm-storage show`. */
export const showCommand: Command = {
  name: "show",
  summary: "Print a program, an execution, its history or output, or the current execution",
  help: `Usage: cvm-storage show program|execution ID [--store STORE]
       cvm-storage show history ID [--from-step N] [--to-step N] [--limit N] [--reverse]
       cvm-storage show output ID [--json]
       cvm-storage show current [--json]

Prints a program or an execution as pretty MongoDB Extended JSON (relaxed: dates as
{"$date": …}, NaN and Infinity as {"$numberDouble": …}, bytes as {"$binary": …}), an
execution's history as a JSON array of such entries, its output as plain lines (a JSON
array with --json), or the current execution's id.

Exits with status 1 when the record does not exist, or the execution has no history or
output (an empty array or nothing is still printed for those).

Options:
  -s, --store STORE   the store (see below)
  --from-step N       history: from this step on
  --to-step N         history: up to this step
  --limit N           history: at most N entries
  --reverse           history: newest first (--reverse --limit 1: the latest entry)
  --json              output and current: JSON instead of plain text
  -h, --help          this help
${STORE_HELP}
Examples:
  cvm-storage show execution run-1 --store ./data
  cvm-storage show history run-1 --reverse --limit 1
  cvm-storage show output run-1 > run-1.txt
`,
  options: {
    ...STORE_OPTION,
    ...JSON_OPTION,
    "from-step": { type: "string" },
    "to-step": { type: "string" },
    limit: { type: "string" },
    reverse: { type: "boolean" },
  },
  positionals: [1, 2],
  async run(parsed: Parsed, io: Io): Promise<number> {
    const [kind, id] = parsed.positionals as [ShowKind, string | undefined];
    if (!KINDS.includes(kind)) {
      throw new UsageError(
        `cannot show "${kind}"; show one of ${KINDS.join(", ")}`,
        "show",
      );
    }
    if (kind === "current" ? id !== undefined : id === undefined) {
      throw new UsageError(
        kind === "current" ? '"show current" takes no id' : `"show ${kind}" needs an id`,
        "show",
      );
    }
    const history: HistoryQuery = {};
    const fromStep = integer(parsed, "from-step", "show");
    const toStep = integer(parsed, "to-step", "show");
    if (fromStep !== undefined) history.fromStep = fromStep;
    if (toStep !== undefined) history.toStep = toStep;
    if (parsed.values.limit !== undefined) {
      history.limit = positiveInteger(parsed, "limit", 1, "show");
    }
    if (parsed.values.reverse) history.reverse = true;
    const spec = parseStoreSpec(parsed.values.store as string | undefined, "show");
    await using store = await openStore(spec, io, {
      mustExist: true,
      timeoutMS: timeoutArgument(parsed, "show"),
    });
    const found = await showItem(store.storage, kind, id ?? "", io.stdout, {
      history,
      json: parsed.values.json === true,
    });
    if (found) return 0;
    const what = kind === "program" || kind === "execution"
      ? `There is no ${kind} "${id}"`
      : kind === "current"
      ? "No current execution is set"
      : `Execution "${id}" has no ${kind}`;
    await io.stderr(`${what} in ${store.name}\n`);
    return 1;
  },
};
