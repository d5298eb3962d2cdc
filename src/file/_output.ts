// The output log: `outputs/{execution stem}.out`, one record per `appendOutput` call.
//
// A record is the JSON array of that call's lines between two newlines, written with one
// `write` to a file opened with `O_APPEND`, then `fdatasync`ed. Two calls leave:
//
//     \n["hello","world"]\n\n["second call"]\n
//
// `O_APPEND` places each write at the end of the file atomically, so the records of
// concurrent appenders in any number of processes never interleave (on local file systems;
// not on NFS). Reading splits the file on newlines (JSON escapes every newline inside a
// string), skips empty lines, and keeps the lines that are a JSON array of strings.
//
// A crash can leave the last write torn: a prefix of its record, or zeros where the file
// system had extended the file but not written the data. No prefix of a record is a
// complete array (its only top-level `]` is its last character), and zeros are never valid
// JSON, so a torn record is skipped, never half read. The newline a record starts with
// ends a torn record before it, so an append never glues itself onto one; the newline it
// ends with ends the record itself, so the junk of a torn write after it never glues onto
// an acknowledged record. A record counts once its `write` returned in full; a short write
// is reported as a failure, and its torn bytes are skipped like any other.

import { join } from "../_path.ts";
import { StorageError } from "../errors.ts";
import { idToFileStem } from "../ids.ts";
import type { OutputPlan } from "../query.ts";
import { syncDir } from "./_atomic.ts";
import { errorCode, fs, openFlags } from "./_fs.ts";
import {
  checkFileType,
  limitedText,
  MAX_RECORD_BYTES,
  openFile,
  removeFile,
} from "./_record_file.ts";
import { Slicer } from "./_slices.ts";

/** The directory of output logs, in the data directory. */
export const OUTPUT_DIR = "outputs";

/** The output log's file name (the stem is at most 250 bytes, so the name fits in 255). */
function outputFileName(executionId: string): string {
  return `${idToFileStem(executionId)}.out`;
}

/** The output logs of one data directory, as one adapter sees them. */
export class OutputLogs {
  readonly #dir: string;
  readonly #fsync: boolean;
  /** Files (path and inode) whose entry in the directory this adapter made durable. */
  readonly #durable = new Set<string>();

  /**
   * @param dir The `outputs` directory.
   * @param fsync Whether appends are made durable before they return.
   */
  constructor(dir: string, fsync: boolean) {
    this.#dir = dir;
    this.#fsync = fsync;
  }

  /** The log's path. */
  path(executionId: string): string {
    return join(this.#dir, outputFileName(executionId));
  }

  /**
   * Appends checked lines as one record.
   *
   * @param ensureDir Creates the directory if needed and makes its entry durable; `again`
   * when an append found it missing.
   */
  async append(
    executionId: string,
    lines: readonly string[],
    context: string,
    ensureDir: (again: boolean) => Promise<void>,
  ): Promise<void> {
    const record = outputRecord(lines, context);
    const path = this.path(executionId);
    const options: AppendOptions = {
      fsync: this.#fsync,
      context,
      // A file's entry is made durable by the first append through this adapter, since the
      // writer that created it may have died before it did.
      syncDir: async (file) => {
        const identity = `${path}\0${file.dev}:${file.ino}`;
        if (!this.#fsync || this.#durable.has(identity)) return;
        await syncDir(this.#dir);
        this.#durable.add(identity);
      },
    };
    await ensureDir(false);
    try {
      await appendRecord(path, record, options);
    } catch (error) {
      // The directory was removed meanwhile.
      if (errorCode(error) !== "ENOENT") throw error;
      await ensureDir(true);
      await appendRecord(path, record, options);
    }
  }

  /** Reads the lines `plan` selects. */
  read(executionId: string, plan: OutputPlan, context: string): Promise<string[]> {
    return readLines(this.path(executionId), plan, context);
  }

  /** Removes the log; `false` if there was none. */
  async remove(executionId: string, context: string): Promise<boolean> {
    const path = this.path(executionId);
    const removed = await removeFile(path, context);
    if (removed && this.#fsync) await syncDir(this.#dir);
    return removed;
  }
}

/** Bytes read at a time. */
const CHUNK = 256 * 1024;
const NEWLINE = 10;

const encoder = new TextEncoder();
const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * The bytes of one record holding `lines`.
 *
 * @throws {ValidationError} When the record would exceed the record limit.
 */
function outputRecord(lines: readonly string[], context: string): Uint8Array {
  // JSON.stringify escapes lone surrogates, so the text is well-formed and encodes exactly.
  return encoder.encode(limitedText(() => `\n${JSON.stringify(lines)}\n`, context));
}

/** Options for {@linkcode appendRecord}. */
interface AppendOptions {
  /** `fdatasync` the file before returning. */
  fsync: boolean;
  /**
   * Called once the record is durable, with the file's identity, to make the file's entry
   * in its directory durable too (a new file's, or one a writer that died created).
   */
  syncDir?: (file: { dev: number; ino: number }) => Promise<void>;
  /** What is being done, for messages: `Cannot append output of execution "e1"`. */
  context: string;
}

/**
 * Appends one record to the log at `path`, creating it (mode `0600`) if needed.
 *
 * @throws {CorruptRecordError} When something other than a regular file is in its place.
 * @throws {StorageError} With `maybeStored: true` when the record was written but could not
 * be made durable; the file system's own error (`ENOENT` when the directory is missing)
 * when nothing was written.
 */
async function appendRecord(
  path: string,
  record: Uint8Array,
  options: AppendOptions,
): Promise<void> {
  // A link in the log's place, dangling or not, is refused before `O_CREAT` could follow
  // it (see `openFile` on why `O_NOFOLLOW` is not enough).
  const named = await fs.lstat(path).catch((error) => {
    if (errorCode(error) === "ENOENT") return undefined;
    throw error;
  });
  if (named !== undefined) checkFileType(named, path, options.context);
  const opened = await openFile(path, openFlags().append, options.context, 0o600);
  if (opened === null) {
    // The directory is missing, or the log was deleted between the two calls.
    throw Object.assign(new Error(`"${path}" is missing`), { code: "ENOENT" });
  }
  const { handle, stat } = opened;
  let written = false;
  try {
    const { bytesWritten } = await handle.write(record, 0, record.length, null);
    if (bytesWritten !== record.length) {
      throw new StorageError(
        `${options.context}: only ${bytesWritten} of ${record.length} bytes could be written ` +
          `to "${path}" (is the disk full?); nothing was stored, free some space and try again`,
        { code: "IO" },
      );
    }
    written = true;
    if (options.fsync) await handle.datasync();
  } catch (error) {
    await handle.close().catch(() => {});
    throw written ? notDurable(error, path, options.context) : error;
  }
  try {
    await handle.close();
    await options.syncDir?.(stat);
  } catch (error) {
    throw notDurable(error, path, options.context);
  }
}

function notDurable(error: unknown, path: string, context: string): StorageError {
  const code = errorCode(error);
  return new StorageError(
    `${context}: the lines were written to "${path}" but could not be made durable` +
      `${code === undefined ? "" : ` (${code})`}; they may or may not be stored, so read the ` +
      "output with getOutput before appending them again",
    { code: "IO", cause: error, maybeStored: true },
  );
}

/**
 * Reads the lines `plan` selects from the log at `path`, reading no further than needed.
 *
 * @returns The lines, in order; `[]` when there is no log.
 * @throws {CorruptRecordError} When something other than a regular file is in its place.
 */
async function readLines(
  path: string,
  plan: OutputPlan,
  context: string,
): Promise<string[]> {
  const opened = await openFile(path, openFlags().read, context);
  if (opened === null) return [];
  const { handle, stat } = opened;
  const end = plan.limit === undefined ? Infinity : plan.from + plan.limit;
  const out: string[] = [];
  let index = 0;
  /** Takes one line of the file; returns `false` once the range is complete. */
  const take = (bytes: Uint8Array): boolean => {
    const lines = parseRecord(bytes);
    if (lines === undefined) return true;
    for (const line of lines) {
      if (index >= plan.from) out.push(line);
      if (++index >= end) return false;
    }
    return true;
  };
  try {
    const slicer = new Slicer();
    /** The start of the current line, from earlier chunks. */
    let parts: Uint8Array[] = [];
    let partLength = 0;
    let position = 0;
    for (let size = Math.min(Math.max(stat.size + 1, 4096), CHUNK);; size = CHUNK) {
      const chunk = new Uint8Array(size);
      const { bytesRead } = await handle.read(chunk, 0, size, position);
      if (bytesRead === 0) break;
      position += bytesRead;
      let start = 0;
      for (;;) {
        const newline = chunk.indexOf(NEWLINE, start);
        const stop = newline < 0 || newline >= bytesRead ? bytesRead : newline;
        // A line longer than any record is torn: drop its bytes as they come.
        if (partLength + stop - start <= MAX_RECORD_BYTES + 1) {
          parts.push(chunk.subarray(start, stop));
        }
        partLength += stop - start;
        if (stop === bytesRead) break;
        if (!take(concat(parts, partLength))) return out;
        parts = [];
        partLength = 0;
        start = stop + 1;
        await slicer.pause();
      }
      await slicer.pause();
    }
    // A last line without a newline after it is a torn record, or one being written.
    take(concat(parts, partLength));
    return out;
  } finally {
    await handle.close();
  }
}

function concat(parts: Uint8Array[], length: number): Uint8Array {
  if (length > MAX_RECORD_BYTES + 1) return new Uint8Array(0);
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** A record's lines, or `undefined` for an empty line or a torn record. */
function parseRecord(bytes: Uint8Array): string[] | undefined {
  if (bytes.length === 0 || bytes[0] !== 0x5b /* [ */) return undefined;
  try {
    const lines: unknown = JSON.parse(utf8.decode(bytes));
    if (Array.isArray(lines) && lines.every((line) => typeof line === "string")) return lines;
  } catch {
    // Torn.
  }
  return undefined;
}
