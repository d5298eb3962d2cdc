// The file-system calls the file backend makes, in one object so that tests can inject
// faults (ENOSPC, EIO) into the write path. It is also the one place that knows which
// runtime it is on: under Deno, Deno's own APIs (`Deno.open`, `Deno.rename`, …) skip the
// `node:fs` layer and are measurably faster; `node:fs/promises` is loaded only when a call
// needs it, so importing the library stays cheap. Error codes (`error.code === "ENOENT"`)
// are the same either way.
//
// Every call goes through `guarded` (./_limiter.ts): calls that hold a file descriptor take
// one of a bounded number of slots (a handle keeps its slot until it is closed), and
// transient failures (EMFILE, ENFILE, EAGAIN, EBUSY; a rename EPERM on Windows) are retried
// with backoff. A new operation is added with `op(name, descriptor, work)`.

import type * as NodeFs from "node:fs/promises";
import { guarded } from "./_limiter.ts";

interface DenoFile {
  write(data: Uint8Array): Promise<number>;
  syncData(): Promise<void>;
  sync(): Promise<void>;
  close(): void;
  tryLockSync(exclusive?: boolean): boolean;
  statSync(): { nlink: number | null };
}

interface DenoFileInfo {
  isFile: boolean;
  isDirectory: boolean;
  isSymlink: boolean;
  uid: number | null;
  mode: number | null;
}
import type * as NodeFsSync from "node:fs";
import { builtin } from "../_builtin.ts";

interface DenoFs {
  pid: number;
  build: { os: string };
  permissions: { querySync(descriptor: { name: "run" }): { state: string } };
  open(
    path: string,
    options: { read?: boolean; write?: boolean; createNew?: boolean; mode?: number },
  ): Promise<DenoFile>;
  rename(from: string, to: string): Promise<void>;
  link(from: string, to: string): Promise<void>;
  remove(path: string): Promise<void>;
  stat(path: string): Promise<DenoFileInfo>;
  lstat(path: string): Promise<DenoFileInfo>;
  readTextFile(path: string): Promise<string>;
  readDir(path: string): AsyncIterable<{
    name: string;
    isFile: boolean;
    isDirectory: boolean;
    isSymlink: boolean;
  }>;
  lstatSync(path: string): { dev: number; ino: number | null; isSymlink: boolean };
}

interface NodeProcess {
  pid: number;
  platform: string;
  kill(pid: number, signal: number): void;
}

const deno = (globalThis as { Deno?: DenoFs }).Deno;
/** Node's and Bun's `process` global; never read under Deno, where it loads a polyfill. */
const nodeProcess = deno ? undefined : (globalThis as { process?: NodeProcess }).process;
const windows = deno ? deno.build.os === "windows" : nodeProcess?.platform === "win32";
const linux = deno ? deno.build.os === "linux" : nodeProcess?.platform === "linux";

let loadingNodeFs: Promise<typeof NodeFs> | undefined;
/** `node:fs/promises`, loaded on first use. */
function nodeFs(): Promise<typeof NodeFs> {
  return loadingNodeFs ??= import("node:fs/promises");
}

/** `node:fs`, for the synchronous read path, loaded on first use. */
function nodeFsSync(): typeof NodeFsSync {
  return builtin<typeof NodeFsSync>("node:fs");
}

/** A file being written: the temp file of an atomic write. */
export interface NewFile {
  /** Writes all of `text` as UTF-8. */
  writeFile(text: string, encoding?: "utf8"): Promise<void>;
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

class DenoNewFile implements NewFile {
  constructor(readonly file: DenoFile) {}
  async writeFile(text: string): Promise<void> {
    const bytes = encoder.encode(text);
    for (let done = 0; done < bytes.length;) done += await this.file.write(bytes.subarray(done));
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

class NodeNewFile implements NewFile {
  constructor(readonly handle: NodeFs.FileHandle) {}
  writeFile(text: string): Promise<void> {
    return this.handle.writeFile(text, "utf8");
  }
  sync(): Promise<void> {
    return this.handle.datasync();
  }
  close(): Promise<void> {
    return this.handle.close();
  }
  tryLock(): undefined {
    return undefined;
  }
  async links(): Promise<number> {
    return (await this.handle.stat()).nlink;
  }
}

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

async function pathInfo(path: string, follow: boolean): Promise<PathInfo> {
  if (deno) {
    const info = follow ? await deno.stat(path) : await deno.lstat(path);
    return { kind: kindOf(info), uid: info.uid, mode: info.mode };
  }
  const stats = follow ? await (await nodeFs()).stat(path) : await (await nodeFs()).lstat(path);
  return {
    kind: nodeKind(stats),
    uid: windows ? null : stats.uid,
    mode: windows ? null : stats.mode,
  };
}

/** Wraps `work` in `guarded`. */
function op<A extends unknown[], R>(
  name: string,
  descriptor: boolean,
  work: (...args: A) => Promise<R>,
): (...args: A) => Promise<R> {
  return (...args) => guarded(() => work(...args), { op: name, descriptor, windows });
}

/** Wraps `work`, which opens something, so that its result keeps a slot until closed. */
function opener<A extends unknown[], H extends { close(): Promise<void> }>(
  name: string,
  work: (...args: A) => Promise<H>,
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

/** The file-system operations the file backend uses. Replace one to inject a fault. */
export const fs = {
  open: opener(
    "open",
    async (path: string, flags?: string | number, mode?: number): Promise<NodeFs.FileHandle> =>
      await (await nodeFs()).open(path, flags, mode),
  ),
  /** Creates `path`, which must not exist, for writing (`O_CREAT | O_EXCL`). */
  createFile: opener("open", async (path: string, mode: number): Promise<NewFile> => {
    if (deno) return new DenoNewFile(await deno.open(path, { write: true, createNew: true, mode }));
    return new NodeNewFile(await (await nodeFs()).open(path, "wx", mode));
  }),
  /** Opens a directory to fsync it. */
  openDir: opener("open", async (path: string): Promise<OpenDir> => {
    if (deno) {
      const file = await deno.open(path, { read: true });
      // deno-lint-ignore require-await
      return { sync: () => file.sync(), close: async () => file.close() };
    }
    const handle = await (await nodeFs()).open(path, "r");
    return { sync: () => handle.sync(), close: () => handle.close() };
  }),
  /** Opens a file to test its advisory lock; only where `ProcessFacts.canLock`. */
  openLock: opener("open", async (path: string): Promise<LockProbe> => {
    if (!deno) throw new Error("This runtime has no advisory file locks");
    const file = await deno.open(path, { read: true });
    // deno-lint-ignore require-await
    return { tryLock: () => file.tryLockSync(true), close: async () => file.close() };
  }),
  rename: op("rename", false, async (from: string, to: string): Promise<void> => {
    if (deno) return await deno.rename(from, to);
    return await (await nodeFs()).rename(from, to);
  }),
  link: op("link", false, async (from: string, to: string): Promise<void> => {
    if (deno) return await deno.link(from, to);
    return await (await nodeFs()).link(from, to);
  }),
  unlink: op("unlink", false, async (path: string): Promise<void> => {
    if (deno) return await deno.remove(path);
    return await (await nodeFs()).unlink(path);
  }),
  mkdir: op(
    "mkdir",
    false,
    async (path: string, options?: { recursive?: boolean; mode?: number }) =>
      await (await nodeFs()).mkdir(path, options),
  ),
  rm: op(
    "rm",
    true,
    async (path: string, options: { recursive?: boolean; force?: boolean }): Promise<void> =>
      await (await nodeFs()).rm(path, options),
  ),
  stat: op("stat", false, async (path: string) => await (await nodeFs()).stat(path)),
  /** What `path` is, without following a symbolic link. */
  lstatInfo: op("lstat", false, (path: string) => pathInfo(path, false)),
  /** What `path` is, following symbolic links. */
  statInfo: op("stat", false, (path: string) => pathInfo(path, true)),
  readText: op("readText", true, async (path: string): Promise<string> => {
    return deno ? await deno.readTextFile(path) : await (await nodeFs()).readFile(path, "utf8");
  }),
  readDirNames: op("readDir", true, async (path: string): Promise<string[]> => {
    if (!deno) return await (await nodeFs()).readdir(path);
    const names: string[] = [];
    for await (const entry of deno.readDir(path)) names.push(entry.name);
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
  lstat: op("lstat", false, async (path: string) => await (await nodeFs()).lstat(path)),
  /** `lstat`'s identity and link bit (Deno's own call is twice as fast as `node:fs`'s). */
  lstatSync(path: string): { dev: number; ino: number; isSymbolicLink(): boolean } {
    if (!deno) return nodeFsSync().lstatSync(path);
    const stat = deno.lstatSync(path);
    return { dev: stat.dev, ino: stat.ino ?? 0, isSymbolicLink: () => stat.isSymlink };
  },
  openSync: (path: string, flags: number): number => nodeFsSync().openSync(path, flags),
  fstatSync: (fd: number): NodeFsSync.Stats => nodeFsSync().fstatSync(fd),
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
