// The file-system calls the file backend makes, in one object so that tests can inject
// faults (ENOSPC, EIO) into the write path. It is also the one place that knows which
// runtime it is on: under Deno, `Deno.readTextFile` and `Deno.readDir` read many small
// files about twice as fast as `node:fs`. Error codes (`error.code === "ENOENT"`) are the
// same either way.

import * as nodeFs from "node:fs/promises";
import * as nodeFsSync from "node:fs";

interface DenoFs {
  readTextFile(path: string): Promise<string>;
  lstatSync(path: string): { dev: number; ino: number | null; isSymlink: boolean };
  readDir(path: string): AsyncIterable<{ name: string }>;
}

const deno = (globalThis as { Deno?: DenoFs }).Deno;

/** The file-system operations the file backend uses. Replace one to inject a fault. */
export const fs = {
  open: nodeFs.open,
  rename: nodeFs.rename,
  link: nodeFs.link,
  unlink: nodeFs.unlink,
  mkdir: nodeFs.mkdir,
  rm: nodeFs.rm,
  stat: nodeFs.stat,
  async readText(path: string): Promise<string> {
    return deno ? await deno.readTextFile(path) : await nodeFs.readFile(path, "utf8");
  },
  async readDirNames(path: string): Promise<string[]> {
    if (!deno) return await nodeFs.readdir(path);
    const names: string[] = [];
    for await (const entry of deno.readDir(path)) names.push(entry.name);
    return names;
  },

  // Reads (see `_record_file.ts`): `lstat` never follows a link; the synchronous calls
  // serve the fast path for small record files, which holds one descriptor at a time and
  // falls back to `open` (above) when the descriptor table is full.
  lstat: nodeFs.lstat,
  /** `lstat`'s identity and link bit (Deno's own call is twice as fast as `node:fs`'s). */
  lstatSync(path: string): { dev: number; ino: number; isSymbolicLink(): boolean } {
    if (!deno) return nodeFsSync.lstatSync(path);
    const stat = deno.lstatSync(path);
    return { dev: stat.dev, ino: stat.ino ?? 0, isSymbolicLink: () => stat.isSymlink };
  },
  openSync: nodeFsSync.openSync,
  fstatSync: nodeFsSync.fstatSync,
  readSync: nodeFsSync.readSync,
  closeSync: nodeFsSync.closeSync,
};

/** The `code` of a file-system error (`"ENOENT"`), or `undefined`. */
export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}
