// `cvm-storage import FILE`: reads what `export` writes (or one collection's bare
// documents, as `mongoexport` writes them) into a store. Idempotent: programs and
// executions are replaced by identical ones, a history entry already there is a no-op
// retry, and output lines already there are not appended again.

import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import process from "node:process";
import type { JsonObject } from "../codec.ts";
import { ConflictError, CorruptRecordError, StorageError, ValidationError } from "../errors.ts";
import { decodeRecord, type RecordKind } from "../records.ts";
import type { StorageAdapter } from "../types.ts";
import {
  type Command,
  JSON_OPTION,
  type Parsed,
  STORE_HELP,
  STORE_OPTION,
  timeoutArgument,
} from "./_args.ts";
import { appendMissingOutput } from "./_append_missing.ts";
import {
  type CollectionName,
  COLLECTIONS,
  documentRecord,
  readMetadataDocument,
  readOutputDocument,
} from "./_document.ts";
import { type Io, jsonText } from "./_output.ts";
import { openStore, parseStoreSpec } from "./_store.ts";
import { collectionArgument, describeCounts, type ExportCounts } from "./export.ts";

/** A line that could not be imported. */
export interface ImportProblem {
  /** The line number, from 1. */
  line: number;
  /** Why. */
  message: string;
}

/** What `import` did. */
export interface ImportReport {
  /** Documents imported (or found already there) per collection. */
  counts: ExportCounts;
  /** Lines that were not imported (the first 100 of them). */
  problems: ImportProblem[];
  /** How many lines were not imported. */
  skipped: number;
}

/** Options for {@linkcode importLines}. */
export interface ImportOptions {
  /** The lines are this collection's bare documents. */
  collection?: CollectionName;
  /** Records saved at once. Default 16. */
  concurrency?: number;
}

const KINDS: Partial<Record<CollectionName, RecordKind>> = {
  programs: "program",
  executions: "execution",
  history: "history",
};

/** Problems are reported in full up to this many; the rest are counted. */
const MAX_PROBLEMS = 100;

/**
 * Imports Extended JSON lines into a store. A line that cannot be imported is reported
 * and the import goes on; any other failure (the store fails) stops it.
 *
 * @param storage A connected adapter.
 * @param lines The lines.
 * @param options One collection's bare documents; concurrency.
 * @returns The counts and problems.
 */
export async function importLines(
  storage: StorageAdapter,
  lines: AsyncIterable<string>,
  options: ImportOptions = {},
): Promise<ImportReport> {
  const counts = Object.fromEntries(COLLECTIONS.map((name) => [name, 0])) as ExportCounts;
  const problems: ImportProblem[] = [];
  const limit = options.concurrency ?? 16;
  const pending = new Set<Promise<void>>();
  let failure: unknown;
  let skipped = 0;
  const problem = (line: number, message: string) => {
    skipped++;
    if (problems.length < MAX_PROBLEMS) problems.push({ line, message });
  };
  const settle = async () => {
    await Promise.all(pending);
    if (failure !== undefined) throw failure;
  };
  const run = async (number: number, collection: CollectionName, work: () => Promise<void>) => {
    try {
      await work();
      counts[collection]++;
    } catch (error) {
      if (isLineProblem(error)) problem(number, error.message);
      else failure ??= error;
    }
  };

  let number = 0;
  for await (const text of lines) {
    number++;
    if (failure !== undefined) break;
    if (text.trim() === "") continue;
    const parsed = parseLine(text, options.collection);
    if (typeof parsed === "string") {
      problem(number, parsed);
      continue;
    }
    const { collection, document } = parsed;
    const kind = KINDS[collection];
    if (kind !== undefined) {
      const line = number;
      const work = run(line, collection, async () => {
        const json = fromDocument(collection, () => documentRecord(kind, document));
        const record = decodeRecord(kind, json, `the ${kind} on line ${line}`);
        if (kind === "program") await storage.saveProgram(record as never);
        else if (kind === "execution") await storage.saveExecution(record as never);
        else await storage.saveHistory(record as never);
      });
      pending.add(work);
      work.finally(() => pending.delete(work));
      if (pending.size >= limit) await Promise.race(pending);
      continue;
    }
    // Output and the current execution are applied in file order, after earlier records.
    await settle();
    await run(number, collection, async () => {
      if (collection === "outputs") {
        const chunk = fromDocument(collection, () => readOutputDocument(document));
        await appendMissingOutput(storage, chunk.executionId, chunk.start, chunk.lines);
      } else {
        const current = fromDocument(collection, () => readMetadataDocument(document));
        await storage.setCurrentExecutionId(current);
      }
    });
  }
  await settle();
  return { counts, problems, skipped };
}

/** Reads a document; one this library cannot read is a `ValidationError` for its line. */
function fromDocument<T>(collection: CollectionName, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof TypeError) {
      throw new ValidationError(`the ${collection} document ${error.message}`);
    }
    throw error;
  }
}

/** Whether an error is about one line (reported, and the import goes on). */
function isLineProblem(error: unknown): error is Error {
  return error instanceof ValidationError || error instanceof ConflictError ||
    error instanceof CorruptRecordError ||
    (error instanceof StorageError && error.code === "CONFLICT");
}

/** The collection and document of a line, or what is wrong with it. */
function parseLine(
  text: string,
  collection: CollectionName | undefined,
): { collection: CollectionName; document: JsonObject } | string {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // Not the parser's message: it quotes the line.
    return "not valid JSON";
  }
  if (!isObject(json)) return "not a JSON object";
  if (collection !== undefined) return { collection, document: json };
  const { collection: name, document } = json;
  if (
    !(COLLECTIONS as readonly unknown[]).includes(name) || !isObject(document) ||
    Object.keys(json).length !== 2
  ) {
    return `not {"collection": <${COLLECTIONS.join("|")}>, "document": {…}} (for a file of ` +
      "bare documents, name their collection with --collection)";
  }
  return { collection: name as CollectionName, document };
}

function isObject(json: unknown): json is JsonObject {
  return json !== null && typeof json === "object" && !Array.isArray(json);
}

/**
 * The lines of a file, or of standard input for `-`.
 *
 * @param path The file.
 * @returns The lines, without their line breaks.
 * @throws {StorageError} When the file cannot be opened.
 */
export async function readLines(path: string): Promise<AsyncIterable<string>> {
  if (path !== "-") {
    try {
      if (!(await stat(path)).isFile()) throw new Error("it is not a file");
    } catch (error) {
      throw new StorageError(
        `Cannot read "${path}": ${(error as Error).message}; name an export file`,
        {
          code: "IO",
          cause: error,
        },
      );
    }
  }
  const input = path === "-" ? process.stdin : createReadStream(path);
  return splitLines(input);
}

/** The lines of a byte stream (UTF-8), without their "\n" or "\r\n". */
async function* splitLines(input: AsyncIterable<Uint8Array | string>): AsyncGenerator<string> {
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let rest = "";
  const decode = (chunk?: Uint8Array) => {
    try {
      return decoder.decode(chunk, { stream: chunk !== undefined });
    } catch (error) {
      throw new StorageError(
        "Cannot import: the file is not valid UTF-8 (an export is); check that it is an export",
        { cause: error },
      );
    }
  };
  for await (const chunk of input) {
    rest += typeof chunk === "string" ? chunk : decode(chunk);
    const lines = rest.split("\n");
    rest = lines.pop()!;
    for (const line of lines) yield line.endsWith("\r") ? line.slice(0, -1) : line;
  }
  rest += decode();
  if (rest !== "") yield rest;
}

/** `cvm-storage import`. */
export const importCommand: Command = {
  name: "import",
  summary: "Read Extended JSON lines (from export or mongoexport) into a store",
  help: `Usage: cvm-storage import FILE [--store STORE] [--collection NAME] [--json]

Reads what "cvm-storage export" writes ({"collection": …, "document": …} per line) into a
store, creating a file store's directory if needed. With --collection NAME, every line is a
bare document of that collection, as mongoexport writes them. FILE "-" is standard input.

Importing is idempotent: programs and executions replace those with the same id (so an
import of the same file leaves identical records), a history entry already stored is a
no-op retry, and output lines already stored at their position are not appended again.
A line that cannot be imported (not valid, or a different history entry or different
output already stored) is reported with its number, and the import goes on; the exit
status is then 1.

Options:
  -s, --store STORE      the store to import into (see below)
  -c, --collection NAME  the lines are bare documents of programs, executions, history,
                         outputs or metadata
  --json                 print the report as JSON
  -h, --help             this help
${STORE_HELP}
Examples:
  cvm-storage import store.jsonl --store ./copy
  mongoexport -c executions | cvm-storage import - --collection executions
`,
  options: { ...STORE_OPTION, ...JSON_OPTION, collection: { type: "string", short: "c" } },
  positionals: [1, 1],
  async run(parsed: Parsed, io: Io): Promise<number> {
    const collection = collectionArgument(parsed.values.collection as string | undefined, "import");
    const spec = parseStoreSpec(parsed.values.store as string | undefined, "import");
    const lines = await readLines(parsed.positionals[0]);
    await using store = await openStore(spec, io, {
      mustExist: false,
      timeoutMS: timeoutArgument(parsed, "import"),
    });
    const report = await importLines(store.storage, lines, { collection });
    if (parsed.values.json) {
      await io.stdout(jsonText({ store: store.name, ...report }));
    } else {
      let text = `Imported ${describeCounts(report.counts)} into ${store.name}\n`;
      for (const { line, message } of report.problems) text += `line ${line}: ${message}\n`;
      if (report.skipped > report.problems.length) {
        text += `(only the first ${report.problems.length} are listed)\n`;
      }
      if (report.skipped > 0) text += `${report.skipped} lines were not imported\n`;
      await io.stdout(text);
    }
    return report.skipped === 0 ? 0 : 1;
  },
};
