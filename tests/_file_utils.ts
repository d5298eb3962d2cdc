// Helpers for the file backend's read-side tests.

import { FileStorageAdapter } from "../mod.ts";
import { fs } from "../src/file/_fs.ts";
import { join } from "../src/_path.ts";
import { historyFileName } from "../src/file/_history_files.ts";
import { withTempDir } from "./_utils.ts";

/** Runs `fn` with a connected adapter on a fresh temp data directory. */
export async function withAdapter(
  fn: (storage: FileStorageAdapter, dir: string) => Promise<void>,
  options: { fsync?: boolean } = {},
): Promise<void> {
  await withTempDir(async (dir) => {
    const storage = new FileStorageAdapter({ dataDir: dir, fsync: false, ...options });
    await storage.connect();
    try {
      await fn(storage, dir);
    } finally {
      await storage.disconnect();
    }
  });
}

/**
 * Runs `fn` and returns the paths it opened through the `fs` seam (both the synchronous
 * and the asynchronous `open`) together with its result.
 */
export async function countOpens<T>(
  fn: () => Promise<T>,
): Promise<{ opened: string[]; result: T }> {
  const opened: string[] = [];
  const { open, openSync } = fs;
  fs.open = ((path: string, ...rest: unknown[]) => {
    opened.push(String(path));
    return (open as (...args: unknown[]) => unknown)(path, ...rest);
  }) as typeof fs.open;
  fs.openSync = ((path: string, ...rest: unknown[]) => {
    opened.push(String(path));
    return (openSync as (...args: unknown[]) => unknown)(path, ...rest);
  }) as typeof fs.openSync;
  try {
    return { result: await fn(), opened };
  } finally {
    fs.open = open;
    fs.openSync = openSync;
  }
}

/**
 * Runs `fn` and returns the directory listings it made through the `fs` seam (each with
 * whether it was one synchronous call) together with its result.
 */
export async function countListings<T>(
  fn: () => Promise<T>,
): Promise<{ listings: { path: string; sync: boolean }[]; result: T }> {
  const listings: { path: string; sync: boolean }[] = [];
  const { readDirNames } = fs;
  fs.readDirNames = (...args: Parameters<typeof readDirNames>) => {
    listings.push({ path: args[0], sync: args[1] === true });
    return readDirNames(...args);
  };
  try {
    return { result: await fn(), listings };
  } finally {
    fs.readDirNames = readDirNames;
  }
}

/** Rejects when `promise` has not settled within `ms`: a hang fails the test, never stalls it. */
export async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Whether this test run may start programs (`mkfifo`, child processes). */
export const canRun = Deno.permissions.querySync({ name: "run" }).state === "granted";

/** Creates a FIFO (named pipe) at `path` with `mkfifo`. */
export async function mkfifo(path: string): Promise<void> {
  const { code, stderr } = await new Deno.Command("mkfifo", { args: [path], stderr: "piped" })
    .output();
  if (code !== 0) throw new Error(`mkfifo failed: ${new TextDecoder().decode(stderr)}`);
}

/**
 * Measures the longest stretch the event loop was blocked while `fn` ran, from a 1 ms
 * interval timer's lateness.
 */
export async function longestStall<T>(fn: () => Promise<T>): Promise<{ stall: number; result: T }> {
  let last = performance.now();
  let stall = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    stall = Math.max(stall, now - last);
    last = now;
  }, 1);
  try {
    const result = await fn();
    stall = Math.max(stall, performance.now() - last);
    return { stall, result };
  } finally {
    clearInterval(timer);
  }
}

/** Copies the files under `from` into the existing directory `to`. */
export async function copyDir(from: URL, to: string): Promise<void> {
  for await (const entry of Deno.readDir(from)) {
    const source = new URL(entry.name + (entry.isDirectory ? "/" : ""), from);
    const target = `${to}/${entry.name}`;
    if (entry.isDirectory) {
      await Deno.mkdir(target);
      await copyDir(source, target);
    } else {
      await Deno.copyFile(source, target);
    }
  }
}

/**
 * Writes `count` entries of execution `e1` straight into the data directory `dir`, as many a
 * VM run leaves behind: steps 0, 1, …, timestamps one millisecond apart.
 */
export async function writeEntries(dir: string, count: number): Promise<void> {
  const historyDir = join(dir, "history", "e1");
  await Deno.mkdir(historyDir, { recursive: true });
  for (let step = 0; step < count; step++) {
    const time = 1_700_000_000_000 + step;
    const text = JSON.stringify({
      executionId: "e1",
      step,
      pc: step,
      instruction: "PUSH",
      stack: [step],
      variables: { x: step, name: "value" },
      timestamp: { $date: new Date(time).toISOString() },
    });
    Deno.writeTextFileSync(join(historyDir, historyFileName(step, time)), text);
  }
}
