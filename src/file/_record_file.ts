// Record files: the text written for a record, its size limit, and reading one back safely.
//
// A record file is opened without following a symbolic link and without blocking (so a
// FIFO cannot hang the read), its type and size are checked on the open handle before a
// byte is read, and its bytes must be UTF-8. Nothing from a file's contents ever appears in
// an error message: a file that is not a record may be anything, a secret included.
//
// Small files are read with synchronous calls, one descriptor at a time: on a page-cached
// file that is 2–4 times faster than four promise round trips (and under Deno the
// `node:fs` promise API runs its reads on the main thread anyway), and the batch reader
// below yields to the event loop every few milliseconds. Large files and a full
// descriptor table use the asynchronous calls instead.

import { sep } from "../_path.ts";
import { formatJson, type JsonValue } from "../codec.ts";
import { CorruptRecordError, StorageError, ValidationError } from "../errors.ts";
import { decodeRecord, type RecordKind, type RecordTypes } from "../records.ts";
import { errorCode, type FileType, fs, openFlags, refusesLinks } from "./_fs.ts";
import { Slicer } from "./_slices.ts";

/** The largest record file, in bytes, that is written or read. */
export const MAX_RECORD_BYTES = 64 * 1024 * 1024;
const LIMIT_TEXT = "64 MiB";

export type { FileType } from "./_fs.ts";
/** Files up to this size take the synchronous path. */
const SYNC_READ_BYTES = 1024 * 1024;
/** Descriptor-table and busy errors: the asynchronous path retries them with backoff. */
const TRANSIENT = new Set(["EMFILE", "ENFILE", "EAGAIN", "EBUSY"]);

/** Batches of this many files or more ask whether the open refuses links on its own. */
const ASK_LINKS_FROM = 16;

const utf8 = new TextDecoder("utf-8", { fatal: true });
const FALLBACK = Symbol("fallback");

/**
 * The text of a record file: the encoded record, pretty-printed.
 *
 * @throws {ValidationError} When the text would exceed {@linkcode MAX_RECORD_BYTES} or the
 * runtime's longest string.
 */
export function recordText(json: JsonValue, context: string): string {
  return limitedText(() => formatJson(json), context);
}

/**
 * The text `make` builds, when it is within {@linkcode MAX_RECORD_BYTES} as UTF-8.
 *
 * @throws {ValidationError} When it is longer, or longer than the runtime's longest string.
 */
export function limitedText(make: () => string, context: string): string {
  let text: string;
  try {
    text = make();
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    throw tooLarge(context, "longer than the longest string this runtime can hold");
  }
  // UTF-8 takes at most three bytes per UTF-16 code unit: count only when it may matter.
  if (text.length * 3 > MAX_RECORD_BYTES) {
    const bytes = utf8Length(text);
    if (bytes > MAX_RECORD_BYTES) throw tooLarge(context, `${bytes} bytes long`);
  }
  return text;
}

function tooLarge(context: string, size: string): ValidationError {
  return new ValidationError(
    `${context}: its JSON text would be ${size}, over the file backend's ${LIMIT_TEXT} ` +
      "record limit; store large data elsewhere and keep a reference in the record",
  );
}

function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit < 0xdc00 && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next < 0xe000) i++;
      bytes += next >= 0xdc00 && next < 0xe000 ? 4 : 3;
    } else bytes += 3;
  }
  return bytes;
}

/**
 * Reads and decodes one record file.
 *
 * @param what Names what is being read, for messages: `program "p1"`.
 * @returns The record, or `null` when there is no file.
 * @throws {CorruptRecordError} When the file is not a record (see the module comment).
 * @throws The file system's error when the read fails otherwise.
 */
export async function readRecord<K extends RecordKind>(
  kind: K,
  path: string,
  what: string,
): Promise<RecordTypes[K] | null> {
  const text = await readFileText(path, what);
  return text === null ? null : parseRecord(kind, text, path, what);
}

/**
 * Reads a small file safely (see the module comment), for records and `metadata.json`.
 *
 * @returns Its text, or `null` when there is no file.
 * @throws {CorruptRecordError} When it is not a regular file within the record limit, or
 * not UTF-8.
 */
export function readFileText(path: string, what: string): Promise<string | null> {
  const text = readSmallSync(path, what);
  return text === FALLBACK ? readAsync(path, what) : Promise.resolve(text);
}

/** Files in one directory, named on demand (a long list of paths is never built at once). */
export interface FileSet {
  /** The directory. */
  dir: string;
  /** How many files. */
  count: number;
  /** The name of the file at `index`. */
  name(index: number): string;
}

/**
 * Reads record files in order, handing each record to `visit`, which may return `false`
 * to stop. Files that no longer exist are skipped. Yields to the event loop between
 * slices.
 */
export async function readRecords<K extends RecordKind>(
  kind: K,
  files: FileSet,
  what: string,
  visit: (record: RecordTypes[K], index: number) => boolean | void,
): Promise<void> {
  const slicer = new Slicer();
  // Asking costs about as much as ten `lstat`s: only longer batches ask.
  const checkLinks = files.count < ASK_LINKS_FROM || !refusesLinks();
  for (let i = 0; i < files.count; i++) {
    const path = `${files.dir}${sep}${files.name(i)}`;
    // Synchronous while files are small and descriptors free: no promise per file.
    let text = readSmallSync(path, what, checkLinks);
    if (text === FALLBACK) text = await readAsync(path, what);
    if (text !== null && visit(parseRecord(kind, text, path, what), i) === false) return;
    const pause = slicer.pause();
    if (pause !== undefined) await pause;
  }
}

/** Decodes the text of a record file. */
function parseRecord<K extends RecordKind>(
  kind: K,
  text: string,
  path: string,
  what: string,
): RecordTypes[K] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    // The parser's message quotes the text: say where it failed instead.
    const at = /position (\d+)/.exec(String((error as Error).message))?.[1];
    const detail = text.trim() === ""
      ? "it is empty"
      : at === undefined
      ? "it ends early or has stray text"
      : `at character ${at}`;
    // Not the parser's error as the cause either: its message quotes the text.
    throw corrupt(
      `Cannot read ${what}`,
      path,
      `is not valid JSON (${detail})`,
      "restore it from a backup or",
    );
  }
  return decodeRecord(kind, json, what, path);
}

/** The text of a file's bytes, which must be UTF-8. */
function decodeText(bytes: Uint8Array, path: string, what: string): string {
  try {
    return utf8.decode(bytes);
  } catch (error) {
    throw corrupt(
      `Cannot read ${what}`,
      path,
      "is not valid UTF-8 text",
      "restore it from a backup or",
      error,
    );
  }
}

/**
 * Removes the file at `path` (a symbolic link itself, never its target).
 *
 * @param context What is being done, for messages: `Cannot delete program "p1"`.
 * @returns `false` when there is none.
 * @throws {CorruptRecordError} When a directory is in its place: it is reported, never
 * removed, on every runtime (Deno's `unlink` removes an empty directory; Node's refuses).
 */
export async function removeFile(path: string, context: string): Promise<boolean> {
  try {
    if ((await fs.lstat(path)).isDirectory()) {
      throw corrupt(context, path, "is a directory, not a file", "move it away or");
    }
    await fs.unlink(path);
  } catch (error) {
    if (errorCode(error) === "ENOENT") return false;
    throw error;
  }
  return true;
}

/** A file replaced (by a writer's rename) between `open` and the check: open it again. */
const REPLACED = Symbol("replaced");
/** Opens of a file that keeps being replaced before the read gives up. */
const ATTEMPTS = 3;

/**
 * The buffer small files are read into, reused: their text is decoded before the read
 * returns, so no caller ever holds it. Saves an allocation (and garbage) per file.
 */
let scratch: Uint8Array | undefined;
const SCRATCH_BYTES = 64 * 1024;

/**
 * Reads a small regular file synchronously; `FALLBACK` hands it to `readAsync`. Without
 * `checkLinks` (where the open itself refuses a link: `refusesLinks()`), no `lstat`.
 */
function readSmallSync(
  path: string,
  what: string,
  checkLinks = true,
): string | null | typeof FALLBACK {
  for (let attempt = 1;; attempt++) {
    let fd: number;
    try {
      fd = fs.openSync(path, openFlags().read);
    } catch (error) {
      if (errorCode(error) === "ENOENT") return null;
      if (TRANSIENT.has(errorCode(error)!)) return FALLBACK;
      throw openError(error, path, `Cannot read ${what}`);
    }
    try {
      const stat = fs.fstatSync(fd);
      if (checkLinks) {
        const named = lstatOrNull(() => fs.lstatSync(path));
        const checked = checkNamed(stat, named, path, `Cannot read ${what}`, attempt);
        if (checked === null) return null;
        if (checked === REPLACED) continue;
      }
      checkFile(stat, path, what);
      const size = stat.size;
      if (size > SYNC_READ_BYTES) return FALLBACK;
      const buffer = size < SCRATCH_BYTES
        ? scratch ??= new Uint8Array(SCRATCH_BYTES)
        : new Uint8Array(size + 1);
      // One byte more than the size: a file that grew is caught, not cut short.
      const end = size + 1;
      let length = 0;
      while (length < end) {
        // From the descriptor's own offset (a position would cost a BigInt under Deno).
        const read = fs.readSync(fd, buffer, length, end - length, null);
        if (read === 0) break;
        length += read;
      }
      return decodeText(checkLength(buffer, length, size, path, what), path, what);
    } finally {
      fs.closeSync(fd);
    }
  }
}

/** Reads a file through the asynchronous calls, which bound and retry descriptors. */
async function readAsync(path: string, what: string): Promise<string | null> {
  const bytes = await readFileBytes(path, what);
  return bytes === null ? null : decodeText(bytes, path, what);
}

/**
 * Reads a file's bytes safely (see the module comment) through the asynchronous calls.
 *
 * @returns Its bytes, or `null` when there is no file.
 * @throws {CorruptRecordError} When it is not a regular file within the record limit.
 */
export async function readFileBytes(path: string, what: string): Promise<Uint8Array | null> {
  const opened = await openFile(path, openFlags().read, `Cannot read ${what}`);
  if (opened === null) return null;
  const { handle, stat } = opened;
  try {
    checkFile(stat, path, what);
    const buffer = new Uint8Array(stat.size + 1);
    let length = 0;
    while (length < buffer.length) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    return checkLength(buffer, length, stat.size, path, what);
  } finally {
    await handle.close();
  }
}

/** An open file checked to be the regular file its path names. */
export interface OpenFile {
  handle: Awaited<ReturnType<typeof fs.open>>;
  stat: FileType;
}

/**
 * Opens `path` with `flags` (which must hold `O_NOFOLLOW` and `O_NONBLOCK`) and checks on
 * the handle that it is the regular file the path names.
 *
 * @param context What is being done, for messages: `Cannot get output of execution "e1"`.
 * @returns The handle and its `fstat`, or `null` when there is no file.
 * @throws {CorruptRecordError} When something other than a regular file is in its place.
 */
export async function openFile(
  path: string,
  flags: number,
  context: string,
  mode?: number,
): Promise<OpenFile | null> {
  for (let attempt = 1;; attempt++) {
    let handle;
    try {
      handle = await fs.open(path, flags, mode);
    } catch (error) {
      if (errorCode(error) === "ENOENT") return null;
      throw openError(error, path, context);
    }
    try {
      const stat = await handle.stat();
      const checked = checkNamed(stat, await fs.lstat(path).catch(gone), path, context, attempt);
      if (checked === REPLACED || checked === null) {
        await handle.close();
        if (checked === null) return null;
        continue;
      }
      checkFileType(stat, path, context);
      return { handle, stat };
    } catch (error) {
      await handle.close();
      throw error;
    }
  }
}

/** What `lstat` tells about a path. */
interface Named {
  dev: number;
  ino: number;
  isSymbolicLink(): boolean;
}

function gone(error: unknown): null {
  if (errorCode(error) === "ENOENT") return null;
  throw error;
}

function lstatOrNull(lstat: () => Named): Named | null {
  try {
    return lstat();
  } catch (error) {
    return gone(error);
  }
}

/**
 * Checks that the open file is the file `path` names, not what a symbolic link there
 * points to. `O_NOFOLLOW` should make that so, but Deno's `node:fs` resolves links before
 * it opens a path when permissions are granted per path (`--allow-read` without `-A`), and
 * Windows has no such flag: comparing the handle's identity with the path's tells on every
 * runtime.
 *
 * @returns `null` when the file is gone, `REPLACED` when a writer replaced it meanwhile.
 */
function checkNamed(
  opened: { dev: number; ino: number },
  named: Named | null,
  path: string,
  context: string,
  attempt: number,
): Named | null | typeof REPLACED {
  if (named === null) return null;
  if (named.isSymbolicLink()) {
    throw corrupt(
      context,
      path,
      "is a symbolic link, which is never followed",
      "remove it or",
    );
  }
  if (named.dev === opened.dev && named.ino === opened.ino) return named;
  if (attempt < ATTEMPTS) return REPLACED;
  throw new StorageError(
    `${context}: "${path}" was replaced ${ATTEMPTS} times while it was opened; ` +
      "try again",
    { code: "IO" },
  );
}

/** Checks, on the open handle, that this is a regular file within the size limit. */
function checkFile(stat: FileType, path: string, what: string): void {
  checkFileType(stat, path, `Cannot read ${what}`);
  if (stat.size > MAX_RECORD_BYTES) {
    throw corrupt(
      `Cannot read ${what}`,
      path,
      `is ${stat.size} bytes long, over the ${LIMIT_TEXT} record limit`,
      "move it away or",
    );
  }
}

/** Checks, on the open handle, that this is a regular file. */
export function checkFileType(stat: FileType, path: string, context: string): void {
  if (!stat.isFile()) {
    const type = stat.isSymbolicLink?.()
      ? "a symbolic link, which is never followed,"
      : stat.isDirectory()
      ? "a directory"
      : stat.isFIFO()
      ? "a named pipe (FIFO)"
      : stat.isSocket()
      ? "a socket"
      : stat.isCharacterDevice() || stat.isBlockDevice()
      ? "a device"
      : "an unknown kind of file";
    throw corrupt(context, path, `is ${type}, not a regular file`, "move it away or");
  }
}

function checkLength(
  buffer: Uint8Array,
  length: number,
  size: number,
  path: string,
  what: string,
): Uint8Array {
  // Record files are replaced whole, never written in place.
  if (length > size) {
    throw corrupt(
      `Cannot read ${what}`,
      path,
      "grew while it was read, so it is not a record file",
      "move it away or",
    );
  }
  return buffer.subarray(0, length);
}

/** The error for a failed open: a `CorruptRecordError` for what is not a record file. */
export function openError(error: unknown, path: string, context: string): unknown {
  switch (errorCode(error)) {
    case "ELOOP":
    case "EMLINK":
      return corrupt(
        context,
        path,
        "is a symbolic link, which is never followed",
        "remove it or",
        error,
      );
    case "ENXIO":
    case "ENODEV":
      return corrupt(
        context,
        path,
        "is a socket or a device, not a regular file",
        "move it away or",
        error,
      );
    case "EISDIR":
      return corrupt(context, path, "is a directory, not a regular file", "move it away or", error);
  }
  return error;
}

/**
 * The error for a file that is not a valid record.
 *
 * @param context What failed: `Cannot read program "p1"`.
 * @param remedy What to do before "delete it": `move it away or`.
 */
export function corrupt(
  context: string,
  path: string,
  problem: string,
  remedy: string,
  cause?: unknown,
): CorruptRecordError {
  return new CorruptRecordError(`${context}: "${path}" ${problem}; ${remedy} delete it`, {
    path,
    cause,
  });
}
