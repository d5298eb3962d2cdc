// `cvm-storage export [--out FILE] [--collection NAME]`: a store as MongoDB Extended JSON
// lines, one document a line with its collection; or one collection's bare documents, as
// `mongoimport --collection NAME` reads them.

import { randomBytes } from "node:crypto";
import { type FileHandle, open, rename, unlink } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { StorageError } from "../errors.ts";
import type { JsonObject } from "../codec.ts";
import type { StorageAdapter } from "../types.ts";
import {
  type Command,
  type Parsed,
  STORE_HELP,
  STORE_OPTION,
  timeoutArgument,
  UsageError,
} from "./_args.ts";
import {
  type CollectionName,
  COLLECTIONS,
  metadataDocument,
  outputDocument,
  recordDocument,
} from "./_document.ts";
import type { Io } from "./_output.ts";
import { scanStore } from "./_scan.ts";
import { openStore, parseStoreSpec } from "./_store.ts";

/** Documents written per collection. */
export type ExportCounts = Record<CollectionName, number>;

/** Options for {@linkcode exportStore}. */
export interface ExportOptions {
  /** Only this collection, as bare documents (no `{"collection", "document"}` wrapper). */
  collection?: CollectionName;
}

/** Text is handed to the writer in chunks of about this size. */
const CHUNK = 64 * 1024;

/**
 * Writes a store as Extended JSON lines: `{"collection":"<name>","document":{…}}` per line,
 * programs, executions, history, outputs, then metadata, each in the order `scanStore`
 * reads them, so that the same data always gives the same bytes.
 *
 * @param storage A connected adapter.
 * @param write Receives the text, in chunks of whole lines.
 * @param options One collection only.
 * @returns The documents written per collection.
 */
export async function exportStore(
  storage: StorageAdapter,
  write: (text: string) => Promise<void>,
  options: ExportOptions = {},
): Promise<ExportCounts> {
  const counts = Object.fromEntries(COLLECTIONS.map((name) => [name, 0])) as ExportCounts;
  let buffer = "";
  const line = async (collection: CollectionName, document: JsonObject) => {
    counts[collection]++;
    buffer += options.collection === undefined
      ? `{"collection":${JSON.stringify(collection)},"document":${JSON.stringify(document)}}\n`
      : `${JSON.stringify(document)}\n`;
    if (buffer.length >= CHUNK) {
      const text = buffer;
      buffer = "";
      await write(text);
    }
  };
  await scanStore(storage, {
    program: (json) => line("programs", recordDocument("program", json)),
    execution: (json) => line("executions", recordDocument("execution", json)),
    history: (json) => line("history", recordDocument("history", json)),
    output: (executionId, from, lines) => line("outputs", outputDocument(executionId, from, lines)),
    current: (id) => line("metadata", metadataDocument(id)),
  }, {
    collections: options.collection === undefined ? undefined : new Set([options.collection]),
  });
  if (buffer !== "") await write(buffer);
  return counts;
}

/**
 * Writes a file atomically: into a temp file beside it, synced, then renamed over it.
 *
 * @param path The file.
 * @param fill Writes the content through the function it is given.
 * @returns What `fill` returns.
 */
export async function writeFileAtomically<T>(
  path: string,
  fill: (write: (text: string) => Promise<void>) => Promise<T>,
): Promise<T> {
  const target = resolve(path);
  const temp = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString("hex")}.tmp`);
  let handle: FileHandle | undefined;
  try {
    handle = await open(temp, "wx", 0o600);
  } catch (error) {
    throw new StorageError(
      `Cannot write "${target}": ${(error as Error).message}; check that its directory exists ` +
        "and is writable",
      { code: "IO", cause: error },
    );
  }
  let result: T;
  try {
    const file = handle;
    result = await fill(async (text) => {
      await file.write(text);
    });
    await file.sync();
    await file.close();
    handle = undefined;
    await rename(temp, target);
  } catch (error) {
    await handle?.close().catch(() => {});
    await unlink(temp).catch(() => {});
    if (error instanceof StorageError) throw error;
    throw new StorageError(
      `Cannot write "${target}": ${(error as Error).message}; check the disk and try again`,
      { code: "IO", cause: error },
    );
  }
  return result;
}

/**
 * A collection name from the command line.
 *
 * @param text The argument.
 * @param command The command, for the error.
 * @returns The collection.
 * @throws {UsageError} For a name that is not one of the collections.
 */
export function collectionArgument(
  text: string | undefined,
  command: string,
): CollectionName | undefined {
  if (text === undefined) return undefined;
  if (!(COLLECTIONS as readonly string[]).includes(text)) {
    throw new UsageError(
      `unknown collection "${text}"; use one of ${COLLECTIONS.join(", ")}`,
      command,
    );
  }
  return text as CollectionName;
}

/** The counts as one line for people. */
export function describeCounts(counts: ExportCounts): string {
  return COLLECTIONS.map((name) => `${counts[name]} ${name}`).join(", ");
}

/** `cvm-storage export`. */
export const exportCommand: Command = {
  name: "export",
  summary: "Write a store as MongoDB Extended JSON lines (mongoimport-compatible)",
  help: `Usage: cvm-storage export [--store STORE] [--out FILE] [--collection NAME]

Writes every record of a store, one per line, as MongoDB Extended JSON v2 (relaxed: plain
JSON wherever JSON can say it, {"$date": "<ISO 8601>"} for dates, {"$numberDouble": "NaN"}
for NaN, ±Infinity and -0, {"$binary": …} for bytes):

  {"collection":"programs","document":{"_id":"p1","id":"p1","name":…}}
  {"collection":"executions","document":{"_id":"run-1","id":"run-1",…}}
  {"collection":"history","document":{"_id":"run-1/0/2026-01-02T03:04:05.678Z",…}}
  {"collection":"outputs","document":{"_id":"run-1/0","executionId":"run-1","start":0,"end":2,"lines":[…]}}
  {"collection":"metadata","document":{"_id":"current","currentExecutionId":"run-1"}}

in that order: programs and executions by id, then each execution's history and output in
execution order (output in documents of up to 1000 lines), then the current execution. The
same data always exports to the same bytes. History and output are reached through their
execution; those of an execution id with no execution record are not exported.

With --collection NAME, only that collection's documents are written, bare, one per line:
what "mongoimport --collection NAME" reads. To split a full export for mongoimport:

  sed -n 's/^{"collection":"history","document":\\(.*\\)}$/\\1/p' store.jsonl |
    mongoimport --uri "$MONGODB_URI" --collection history

Options:
  -s, --store STORE      the store (see below)
  -o, --out FILE         write to FILE (atomically: a temp file renamed into place);
                         default standard output
  -c, --collection NAME  only programs, executions, history, outputs or metadata, bare
  -h, --help             this help
${STORE_HELP}
Examples:
  cvm-storage export --store ./data --out store.jsonl
  cvm-storage export --store ./data --collection executions | mongoimport -c executions
`,
  options: {
    ...STORE_OPTION,
    out: { type: "string", short: "o" },
    collection: { type: "string", short: "c" },
  },
  positionals: [0, 0],
  async run(parsed: Parsed, io: Io): Promise<number> {
    const collection = collectionArgument(parsed.values.collection as string | undefined, "export");
    const out = parsed.values.out as string | undefined;
    if (out === "") throw new UsageError("--out needs a file name", "export");
    const spec = parseStoreSpec(parsed.values.store as string | undefined, "export");
    await using store = await openStore(spec, io, {
      mustExist: true,
      timeoutMS: timeoutArgument(parsed, "export"),
    });
    const counts = out === undefined || out === "-"
      ? await exportStore(store.storage, io.stdout, { collection })
      : await writeFileAtomically(
        out,
        (write) => exportStore(store.storage, write, { collection }),
      );
    await io.stderr(
      `Exported ${describeCounts(counts)} from ${store.name}` +
        `${out === undefined || out === "-" ? "" : ` to ${resolve(out)}`}\n`,
    );
    return 0;
  },
};
