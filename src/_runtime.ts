// The one module that knows which runtime it is on (as std's fs/_utils.ts does). Under Deno
// the library reaches for Deno's own APIs, which are faster and, unlike the `node:`
// compatibility layer, cost nothing to load at import time; elsewhere it uses Node's
// globals and built-in modules, which Node and Bun provide natively. Other modules import
// `deno`, `nodeProcess`, `windows`, `linux`, `builtin`, `readEnv`, `cwd` and `setImmediate`
// from here and never look at runtime globals themselves. Nothing here touches the disk,
// the network or the environment at import time.

/** A file opened with Deno's `open`. */
export interface DenoFile {
  write(data: Uint8Array): Promise<number>;
  writeSync(data: Uint8Array): number;
  syncData(): Promise<void>;
  sync(): Promise<void>;
  close(): void;
  tryLockSync(exclusive?: boolean): boolean;
  statSync(): { nlink: number | null };
}

/** What Deno's `stat` and `lstat` say about a path. */
export interface DenoFileInfo {
  isFile: boolean;
  isDirectory: boolean;
  isSymlink: boolean;
  size: number;
  dev: number;
  ino: number | null;
  mode: number | null;
  uid: number | null;
  mtime: Date | null;
  isFifo: boolean | null;
  isSocket: boolean | null;
  isCharDevice: boolean | null;
  isBlockDevice: boolean | null;
}

/** An entry of Deno's `readDir`. */
export interface DenoDirEntry {
  name: string;
  isFile: boolean;
  isDirectory: boolean;
  isSymlink: boolean;
}

/** Options of Deno's `open`. */
export interface DenoOpenOptions {
  read?: boolean;
  write?: boolean;
  createNew?: boolean;
  mode?: number;
}

/** The parts of the `Deno` namespace the library uses. */
export interface DenoApi {
  pid: number;
  build: { os: string };
  env: { get(name: string): string | undefined };
  permissions: {
    querySync(descriptor: { name: "run" | "read"; path?: string }): { state: string };
  };
  cwd(): string;
  execPath(): string;
  open(path: string, options: DenoOpenOptions): Promise<DenoFile>;
  openSync(path: string, options: DenoOpenOptions): DenoFile;
  rename(from: string, to: string): Promise<void>;
  renameSync(from: string, to: string): void;
  link(from: string, to: string): Promise<void>;
  linkSync(from: string, to: string): void;
  remove(path: string): Promise<void>;
  removeSync(path: string): void;
  stat(path: string): Promise<DenoFileInfo>;
  lstat(path: string): Promise<DenoFileInfo>;
  statSync(path: string): DenoFileInfo;
  lstatSync(path: string): DenoFileInfo;
  readTextFile(path: string): Promise<string>;
  readDir(path: string): AsyncIterable<DenoDirEntry>;
  readDirSync(path: string): Iterable<DenoDirEntry>;
}

/** The parts of Node's and Bun's `process` global the library uses. */
export interface NodeProcess {
  pid: number;
  platform: string;
  env: Record<string, string | undefined>;
  cwd(): string;
  kill(pid: number, signal: number): void;
  /** Loads a built-in module synchronously (Node >= 20.16, Bun, Deno). */
  getBuiltinModule?(id: string): unknown;
}

/** `Deno` when running under Deno, else `undefined`. */
export const deno: DenoApi | undefined = (globalThis as { Deno?: DenoApi }).Deno;

/**
 * Node's and Bun's `process` global; `undefined` under Deno, where reading `process` loads
 * a polyfill that costs start-up time.
 */
export const nodeProcess: NodeProcess | undefined = deno
  ? undefined
  : (globalThis as { process?: NodeProcess }).process;

/** Whether this is Windows. */
export const windows: boolean = deno
  ? deno.build.os === "windows"
  : nodeProcess?.platform === "win32";

/** Whether this is Linux. */
export const linux: boolean = deno ? deno.build.os === "linux" : nodeProcess?.platform === "linux";

/**
 * The Node built-in module `id` (`"node:os"`), loaded now if it was not yet. Built-ins are
 * loaded when first used rather than when the library is imported: under Deno, importing
 * `node:fs`, `node:os` or `node:crypto` costs 10–35 ms of start-up each, which every user
 * of the library would pay. `process.getBuiltinModule` loads one synchronously; Node
 * (>= 20.16), Bun and Deno have it.
 */
export function builtin<T>(id: string): T {
  const process = (globalThis as { process?: NodeProcess }).process;
  const module = process?.getBuiltinModule?.(id);
  if (module === undefined) {
    throw new Error(`This runtime cannot load "${id}" (it has no process.getBuiltinModule)`);
  }
  return module as T;
}

/**
 * The value of an environment variable, or `undefined` if it is unset or cannot be read
 * (under Deno without `--allow-env`).
 */
export function readEnv(name: string): string | undefined {
  try {
    if (deno) return deno.env.get(name);
    return nodeProcess?.env[name];
  } catch {
    return undefined;
  }
}

type Immediate = (callback: () => void) => unknown;
let immediate: Immediate | undefined;

/**
 * `setImmediate`: Deno, Node and Bun all have it as a global, which Deno loads from its
 * Node layer when it is first read (8 ms of start-up): it is read at the first call.
 */
export function setImmediate(callback: () => void): void {
  immediate ??= (globalThis as unknown as { setImmediate?: Immediate }).setImmediate ??
    ((next) => setTimeout(next, 0));
  immediate(callback);
}

/** The working directory. */
export function cwd(): string {
  return deno ? deno.cwd() : nodeProcess!.cwd();
}
