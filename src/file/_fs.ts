// The file-system calls the file backend makes, in one object so that tests can inject
// faults (ENOSPC, EIO) into the write path. Where Deno's own APIs (`Deno.openSync`,
// `Deno.lstatSync`, …) are measurably faster than the `node:fs` layer they are used under
// Deno (../_runtime.ts says which runtime this is); `node:fs` is loaded only when a call
// needs it, so importing the library stays cheap. Error codes (`error.code === "ENOENT"`)
// are the same either way.
//
// Every call goes through `guarded` (./_limiter.ts): calls that hold a file descriptor take
// one of a bounded number of slots (a handle keeps its slot until it is closed), and
// transient failures (EMFILE, ENFILE, EAGAIN, EBUSY; a rename EPERM on Windows) are retried
// with backoff. A new operation is added with `op(name, descriptor, work)`.

import type * as NodeFs from "node:fs/promises";
import type * as NodeFsSync from "node:fs";
import {
  builtin,
  deno,
  type DenoFile,
  type DenoFileInfo,
  linux,
  type NodeProcess,
  nodeProcess,
  windows,
} from "../_runtime.ts";
import { guarded } from "./_limiter.ts";

let loadingNodeFs: Promise<typeof NodeFs> | undefined;
/** `node:fs/promises`, loaded on first use. */
function nodeFs(): Promise<typeof NodeFs> {
  return loadingNodeFs ??= import("node:fs/promises");
}

let loadedNodeFsSync: typeof NodeFsSync | undefined;
/** `node:fs`, for the synchronous read path, loaded on first use. */
function nodeFsSync(): typeof NodeFsSync {
  return loadedNodeFsSync ??= builtin<typeof NodeFsSync>("node:fs");
}

/** A file being written: the temp file of an atomic write. */
export interface NewFile {
  /** Writes all of `data`: a text as UTF-8, or bytes. */
  writeFile(data: string | Uint8Array): Promise<void>;
  /** Makes the file's content durable (`fdatasync`). */
  sync(): Promise<void>;
  /** Closes the file, releasing its lock and its descriptor slot. */
  close(): Promise<void>;
  /**
   * Takes an exclusive advisory lock (`flock`) without waiting: `true` if taken, `false`
   * if another open file holds it, `undefined` if this runtime has no such locks.
   */
  tryLock(): boolean | undefined;
  /** How many names the file has: `0` once it has been removed. */
  links(): Promise<number>;
}

/** An open directory, to make its entries durable. */
export interface OpenDir {
  /** `fsync`s the directory. */
  sync(): Promise<void>;
  close(): Promise<void>;
}

/** An open file whose advisory lock is being tested, by `connect` cleaning temp files. */
export interface LockProbe {
  /** Takes the exclusive lock without waiting: `true` if taken, `false` if held. */
  tryLock(): boolean;
  close(): Promise<void>;
}

/** What `lstat` or `stat` says about a path. */
export interface PathInfo {
  kind: "file" | "directory" | "symlink" | "other";
  /** The owner's user id; `null` where the system has none (Windows). */
  uid: number | null;
  /** The permission bits; `null` where the system has none. */
  mode: number | null;
}

/** A directory entry and its type, as the directory lists it (no link is followed). */
export interface DirEntry {
  name: string;
  kind: PathInfo["kind"];
}

const encoder = new TextEncoder();

/**
 * Up to this many bytes are written with one synchronous `write`: a small write lands in
 * the page cache in microseconds, where a trip to the thread pool costs tens of them (the
 * `fdatasync` that makes it durable stays asynchronous).
 */
const SYNC_WRITE_BYTES = 64 * 1024;

function bytesOf(data: string | Uint8Array): Uint8Array {
  return typeof data === "string" ? encoder.encode(data) : data;
}

class DenoNewFile implements NewFile {
  constructor(readonly file: DenoFile) {}
  async writeFile(data: string | Uint8Array): Promise<void> {
    const bytes = bytesOf(data);
    let done = 0;
    if (bytes.length <= SYNC_WRITE_BYTES) done = this.file.writeSync(bytes);
    while (done < bytes.length) done += await this.file.write(bytes.subarray(done));
  }
  sync(): Promise<void> {
    return this.file.syncData();
  }
  // deno-lint-ignore require-await
  async close(): Promise<void> {
    this.file.close();
  }
  tryLock(): boolean {
    return this.file.tryLockSync(true);
  }
  // deno-lint-ignore require-await
  async links(): Promise<number> {
    // An fstat on an open descriptor does not block: no trip to the thread pool.
    return this.file.statSync().nlink ?? 1;
  }
}

/** A temp file under Node and Bun: a raw descriptor, closed by `close`. */
class NodeNewFile implements NewFile {
  constructor(readonly fd: number) {}
  async writeFile(data: string | Uint8Array): Promise<void> {
    const bytes = bytesOf(data);
    const fs = nodeFsSync();
    let done = 0;
    if (bytes.length <= SYNC_WRITE_BYTES) done = fs.writeSync(this.fd, bytes);
    while (done < bytes.length) {
      done += await callback<number>((cb) => fs.write(this.fd, bytes, done, undefined, null, cb));
    }
  }
  sync(): Promise<void> {
    return callback((cb) => nodeFsSync().fdatasync(this.fd, cb));
  }
  // deno-lint-ignore require-await
  async close(): Promise<void> {
    nodeFsSync().closeSync(this.fd);
  }
  tryLock(): undefined {
    return undefined;
  }
  // deno-lint-ignore require-await
  async links(): Promise<number> {
    return nodeFsSync().fstatSync(this.fd).nlink;
  }
}

/** Calls a `node:fs` function that takes a callback, as a promise. */
function callback<T = void>(
  call: (done: (error: Error | null, value?: T) => void) => void,
): Promise<T> {
  return new Promise((resolve, reject) =>
    call((error, value) => error ? reject(error) : resolve(value as T))
  );
}

/*
 * A write's metadata calls (create, rename, link, unlink, mkdir, stat) are synchronous: on a
 * local file system they take microseconds, where a trip to the thread pool costs tens to
 * hundreds of them (measured under Deno 2.9: 100 files created side by side took as long
 * either way, and an asynchronous create often ran on the main thread anyway). None of them
 * can block on a FIFO or follow a final link (a create is `O_EXCL`). On a network file
 * system each is a round trip, as the reads' opens already are. Writing a small file's
 * bytes is synchronous too (see `SYNC_WRITE_BYTES`); the `fsync`s always go to the pool.
 */

function kindOf(info: { isFile: boolean; isDirectory: boolean; isSymlink: boolean }) {
  return info.isSymlink
    ? "symlink"
    : info.isDirectory
    ? "directory"
    : info.isFile
    ? "file"
    : "other";
}

function nodeKind(stats: { isFile(): boolean; isDirectory(): boolean; isSymbolicLink(): boolean }) {
  return kindOf({
    isFile: stats.isFile(),
    isDirectory: stats.isDirectory(),
    isSymlink: stats.isSymbolicLink(),
  });
}

/** What `path` is; synchronous: a `stat` opens nothing, so it cannot block on a FIFO. */
function pathInfo(path: string, follow: boolean): PathInfo {
  if (deno) {
    const info = follow ? deno.statSync(path) : deno.lstatSync(path);
    return { kind: kindOf(info), uid: info.uid, mode: info.mode };
  }
  const fs = nodeFsSync();
  const stats = follow ? fs.statSync(path) : fs.lstatSync(path);
  return {
    kind: nodeKind(stats),
    uid: windows ? null : stats.uid,
    mode: windows ? null : stats.mode,
  };
}

/**
 * What `fstat` or `lstat` tells about a file, as much as the backend checks: a node
 * `Stats` satisfies it, and so does {@linkcode DenoStat}.
 */
export interface FileType {
  dev: number;
  ino: number;
  size: number;
  /** The modification time in milliseconds. */
  mtimeMs: number;
  isFile(): boolean;
  isDirectory(): boolean;
  isFIFO(): boolean;
  isSocket(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
  /** Only `lstat` tells (`fstat` describes what a link points to). */
  isSymbolicLink(): boolean;
}

/** Deno's `FileInfo` seen as a {@linkcode FileType}, without copying it. */
class DenoStat implements FileType {
  constructor(readonly info: DenoFileInfo) {}
  get dev(): number {
    return this.info.dev;
  }
  get ino(): number {
    return this.info.ino ?? 0;
  }
  get size(): number {
    return this.info.size;
  }
  get mtimeMs(): number {
    return this.info.mtime?.getTime() ?? 0;
  }
  isFile(): boolean {
    return this.info.isFile;
  }
  isDirectory(): boolean {
    return this.info.isDirectory;
  }
  isFIFO(): boolean {
    return this.info.isFifo === true;
  }
  isSocket(): boolean {
    return this.info.isSocket === true;
  }
  isCharacterDevice(): boolean {
    return this.info.isCharDevice === true;
  }
  isBlockDevice(): boolean {
    return this.info.isBlockDevice === true;
  }
  isSymbolicLink(): boolean {
    return this.info.isSymlink;
  }
}

/**
 * Whether `fstat` may be asked of `/proc/self/fd/<fd>` through Deno's `statSync`: on
 * Linux, `stat` of that magic link describes the open file itself (it opens nothing, so it
 * cannot block), and costs a fifth of `node:fs`'s `fstatSync` under Deno, which builds a
 * `Stats` object with four `Date`s. Decided on the first call: only with read permission
 * for `/proc/self/fd` (a query never prompts), and only once a first answer agreed with
 * `fstatSync` on the descriptor's identity.
 */
let procFstat: boolean | undefined = deno && linux ? undefined : false;

function fstatSync(fd: number): FileType {
  if (procFstat !== false) {
    let info: DenoFileInfo | undefined;
    try {
      if (procFstat === undefined) {
        procFstat = deno!.permissions.querySync({ name: "read", path: "/proc/self/fd" })
          .state === "granted";
      }
      if (procFstat) info = deno!.statSync(`/proc/self/fd/${fd}`);
    } catch {
      procFstat = false;
    }
    if (info !== undefined) {
      const stat = new DenoStat(info);
      if (procFstat === true) return stat;
      const checked = nodeFsSync().fstatSync(fd);
      procFstat = checked.dev === stat.dev && checked.ino === stat.ino;
      return checked;
    }
  }
  return nodeFsSync().fstatSync(fd);
}

/** The `open` flags of the read, append and directory-sync paths. */
interface OpenFlags {
  read: number;
  append: number;
  directory: number;
}

let flags: OpenFlags | undefined;

/**
 * The `open` flags of the read and append paths (never follow a final symbolic link, never
 * wait for a FIFO's writer, never become a controlling terminal) and of a directory opened
 * to fsync it (a directory or nothing, without waiting).
 */
export function openFlags(): OpenFlags {
  if (flags !== undefined) return flags;
  const c = nodeFsSync().constants;
  const safe = (c.O_NOFOLLOW ?? 0) | (c.O_NONBLOCK ?? 0) | (c.O_NOCTTY ?? 0);
  return flags = {
    read: c.O_RDONLY | safe,
    append: c.O_WRONLY | c.O_APPEND | c.O_CREAT | safe,
    directory: c.O_RDONLY | (c.O_DIRECTORY ?? 0) | (c.O_NONBLOCK ?? 0),
  };
}

/** What `refusesLinks` found, where the answer cannot change (not Deno). */
let refuses: boolean | undefined;

/**
 * Whether an open with `O_NOFOLLOW` refuses a symbolic link in this process, so that a
 * read needs no `lstat` to tell a link from a file. Not on Windows (no such flag), nor
 * under Deno unless every permission is granted: with permissions checked per kind or
 * path, its `node:fs` resolves a link before it opens the path. Found out by opening
 * `/proc/self/exe`, a link on Linux, and only with read permission for it (a query never
 * prompts); elsewhere the answer is `false`. Under Deno the answer can change
 * (`Deno.permissions.revoke`), so it is found out on every call: ask once per batch.
 */
export function refusesLinks(): boolean {
  if (refuses !== undefined) return refuses;
  const answer = linux && probeLinks();
  if (!deno) refuses = answer;
  return answer;
}

function probeLinks(): boolean {
  const path = "/proc/self/exe";
  if (deno && deno.permissions.querySync({ name: "read", path }).state !== "granted") return false;
  let fd: number;
  try {
    fd = nodeFsSync().openSync(path, openFlags().read);
  } catch (error) {
    return errorCode(error) === "ELOOP";
  }
  nodeFsSync().closeSync(fd);
  return false;
}

/** Wraps `work` in `guarded`. */
function op<A extends unknown[], R>(
  name: string,
  descriptor: boolean,
  work: (...args: A) => R | Promise<R>,
): (...args: A) => Promise<R> {
  return (...args) => guarded(() => work(...args), { op: name, descriptor, windows });
}

/** Wraps `work`, which opens something, so that its result keeps a slot until closed. */
function opener<A extends unknown[], H extends { close(): Promise<void> }>(
  name: string,
  work: (...args: A) => H | Promise<H>,
): (...args: A) => Promise<H> {
  return (...args) =>
    guarded(() => work(...args), { op: name, descriptor: true, windows }, (handle, release) => {
      const close = handle.close.bind(handle);
      handle.close = async () => {
        try {
          await close();
        } finally {
          release();
        }
      };
      return handle;
    });
}

/** `lstat`, with Deno's own call under Deno (`node:fs`'s builds a `Stats` object). */
function lstatSync(path: string): FileType {
  return deno ? new DenoStat(deno.lstatSync(path)) : nodeFsSync().lstatSync(path);
}

/** The file-system operations the file backend uses. Replace one to inject a fault. */
export const fs = {
  open: opener(
    "open",
    async (path: string, flags?: string | number, mode?: number): Promise<NodeFs.FileHandle> =>
      await (await nodeFs()).open(path, flags, mode),
  ),
  /** Creates `path`, which must not exist, for writing (`O_CREAT | O_EXCL`). */
  createFile: opener("open", (path: string, mode: number): NewFile => {
    if (deno) {
      return new DenoNewFile(deno.openSync(path, { write: true, createNew: true, mode }));
    }
    return new NodeNewFile(nodeFsSync().openSync(path, "wx", mode));
  }),
  /**
   * Opens a directory to fsync it. The open is synchronous (it takes microseconds) and
   * cannot block: `O_DIRECTORY` refuses anything but a directory (a FIFO in its place
   * fails with `ENOTDIR` instead of waiting for a writer); the fsync goes to the pool.
   */
  openDir: opener("open", (path: string): OpenDir => {
    const fs = nodeFsSync();
    const fd = fs.openSync(path, openFlags().directory);
    return {
      sync: () => callback((cb) => fs.fsync(fd, cb)),
      // deno-lint-ignore require-await
      close: async () => fs.closeSync(fd),
    };
  }),
  /** Opens a file to test its advisory lock; only where `ProcessFacts.canLock`. */
  openLock: opener("open", async (path: string): Promise<LockProbe> => {
    if (!deno) throw new Error("This runtime has no advisory file locks");
    const file = await deno.open(path, { read: true });
    // deno-lint-ignore require-await
    return { tryLock: () => file.tryLockSync(true), close: async () => file.close() };
  }),
  rename: op("rename", false, (from: string, to: string): void => {
    if (deno) return deno.renameSync(from, to);
    return nodeFsSync().renameSync(from, to);
  }),
  link: op("link", false, (from: string, to: string): void => {
    if (deno) return deno.linkSync(from, to);
    return nodeFsSync().linkSync(from, to);
  }),
  unlink: op("unlink", false, (path: string): void => {
    if (deno) return deno.removeSync(path);
    return nodeFsSync().unlinkSync(path);
  }),
  /**
   * Creates a directory; with `recursive`, its missing parents too, returning the first
   * directory created (the synchronous call serves the common case: one new directory).
   */
  mkdir: op(
    "mkdir",
    false,
    async (path: string, options?: { recursive?: boolean; mode?: number }) => {
      if (options?.recursive) return await (await nodeFs()).mkdir(path, options);
      nodeFsSync().mkdirSync(path, options);
      return undefined;
    },
  ),
  rm: op(
    "rm",
    true,
    async (path: string, options: { recursive?: boolean; force?: boolean }): Promise<void> =>
      await (await nodeFs()).rm(path, options),
  ),
  /** What `path` is, without following a symbolic link. */
  lstatInfo: op("lstat", false, (path: string) => pathInfo(path, false)),
  /** What `path` is, following symbolic links. */
  statInfo: op("stat", false, (path: string) => pathInfo(path, true)),
  /**
   * The names in `path`. With `sync`, in one synchronous call, for a directory known to be
   * small: Deno's asynchronous listing costs a trip to the thread pool per name (about
   * 5 µs each), its synchronous one lists 100,000 names in 0.15 s but blocks meanwhile.
   */
  readDirNames: op("readDir", true, async (path: string, sync = false): Promise<string[]> => {
    if (!deno) return sync ? nodeFsSync().readdirSync(path) : await (await nodeFs()).readdir(path);
    const names: string[] = [];
    if (sync) {
      for (const entry of deno.readDirSync(path)) names.push(entry.name);
    } else {
      for await (const entry of deno.readDir(path)) names.push(entry.name);
    }
    return names;
  }),
  /** The entries of `path` with their types. */
  readDirEntries: op("readDir", true, async (path: string): Promise<DirEntry[]> => {
    const entries: DirEntry[] = [];
    if (deno) {
      for await (const entry of deno.readDir(path)) {
        entries.push({ name: entry.name, kind: kindOf(entry) });
      }
      return entries;
    }
    for (const entry of await (await nodeFs()).readdir(path, { withFileTypes: true })) {
      entries.push({ name: entry.name, kind: nodeKind(entry) });
    }
    return entries;
  }),

  // Reads (see `_record_file.ts`): `lstat` never follows a link; the synchronous calls
  // serve the fast path for small record files, which holds one descriptor at a time and
  // falls back to `open` (above) when the descriptor table is full.
  /** `lstat` (synchronous inside: it opens nothing, so it cannot block on a FIFO). */
  lstat: op("lstat", false, (path: string): FileType => lstatSync(path)),
  lstatSync,
  openSync: (path: string, flags: number): number => nodeFsSync().openSync(path, flags),
  fstatSync,
  readSync: (
    fd: number,
    buffer: Uint8Array,
    offset: number,
    length: number,
    position: number | null,
  ): number => nodeFsSync().readSync(fd, buffer, offset, length, position),
  closeSync: (fd: number): void => nodeFsSync().closeSync(fd),
};

/** The `code` of a file-system error (`"ENOENT"`), or `undefined`. */
export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/** Facts about this process that name and judge temp files. */
export interface ProcessFacts {
  pid: number;
  /**
   * Which process-id space `pid` belongs to: a digest of the host name and, on Linux, the
   * pid namespace, so that a pid is only ever compared with pids of the same machine and
   * container. `"x"` where it cannot be told without asking for permissions (Deno).
   */
  space: string;
  /** Whether this runtime has advisory file locks (`flock`). */
  canLock: boolean;
  windows: boolean;
}

let facts: ProcessFacts | undefined;
let loadingFacts: Promise<ProcessFacts> | undefined;

/** This process's facts, once `loadProcessFacts` has run; `undefined` before. */
export function processFacts(): ProcessFacts | undefined {
  return facts;
}

/** Finds this process's facts (once; later calls return them at once). */
export function loadProcessFacts(): Promise<ProcessFacts> {
  if (facts !== undefined) return Promise.resolve(facts);
  return loadingFacts ??= (async () => {
    if (deno) return facts = { pid: deno.pid, space: "x", canLock: true, windows };
    const { hostname } = await import("node:os");
    let namespace = "";
    if (linux) {
      namespace = await (await nodeFs()).readlink("/proc/self/ns/pid").catch(() => "");
    }
    const digest = await crypto.subtle.digest(
      "SHA-256",
      encoder.encode(`${hostname()}\0${namespace}`),
    );
    const hex = Array.from(
      new Uint8Array(digest).subarray(0, 6),
      (byte) => byte.toString(16).padStart(2, "0"),
    ).join("");
    return facts = { pid: nodeProcess!.pid, space: hex, canLock: false, windows };
  })();
}

/**
 * Whether process `pid` of this process-id space is proven gone: `true` only when the
 * system says no such process exists (`kill(pid, 0)` fails with `ESRCH`; it sends nothing);
 * `false` when it runs (or may: `EPERM`, another user's); `undefined` when this runtime may
 * not ask (Deno without `--allow-run`). Not /proc: with `hidepid` it hides live processes.
 */
export async function processGone(pid: number): Promise<boolean | undefined> {
  if (deno) {
    // Query, never prompt.
    if (deno.permissions.querySync({ name: "run" }).state !== "granted") return undefined;
    const { default: process } = await import("node:process");
    return signalGone(process, pid);
  }
  return signalGone(nodeProcess!, pid);
}

function signalGone(process: Pick<NodeProcess, "kill">, pid: number): boolean | undefined {
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    if (errorCode(error) === "ESRCH") return true;
    if (errorCode(error) === "EPERM") return false;
    return undefined;
  }
}
