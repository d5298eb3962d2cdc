// Helpers shared by the project's own tests.

import { join } from "node:path";
import type { Execution, History, Program } from "../mod.ts";

/** A valid program; `overrides` replace or add fields. */
export function makeProgram(overrides: Partial<Program> & Record<string, unknown> = {}): Program {
  return {
    id: "p1",
    name: "Program",
    source: "PUSH 1\nPRINT",
    bytecode: [{ op: "PUSH", arg: 1 }, { op: "PRINT" }],
    created: new Date("2026-01-02T03:04:05.678Z"),
    ...overrides,
  };
}

/** A valid execution; `overrides` replace or add fields. */
export function makeExecution(
  overrides: Partial<Execution> & Record<string, unknown> = {},
): Execution {
  return {
    id: "e1",
    programId: "p1",
    state: "running",
    pc: 1,
    stack: [1],
    variables: { x: 1 },
    output: ["hello"],
    created: new Date("2026-01-02T03:04:05.678Z"),
    ...overrides,
  };
}

/** A valid history entry; `overrides` replace or add fields. */
export function makeHistory(overrides: Partial<History> & Record<string, unknown> = {}): History {
  return {
    executionId: "e1",
    step: 0,
    pc: 0,
    instruction: "PUSH 1",
    stack: [1],
    variables: {},
    timestamp: new Date("2026-01-02T03:04:05.678Z"),
    ...overrides,
  };
}

/** Runs `fn` with a fresh temp directory, removed afterwards. */
export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "cvm-storage-test-" });
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Every path under `dir` (relative), with file contents, for before/after comparisons. */
export async function snapshotDir(dir: string): Promise<Map<string, string | null>> {
  const out = new Map<string, string | null>();
  const walk = async (sub: string): Promise<void> => {
    for await (const entry of Deno.readDir(`${dir}/${sub}`)) {
      const rel = sub === "" ? entry.name : `${sub}/${entry.name}`;
      if (entry.isDirectory) {
        out.set(`${rel}/`, null);
        await walk(rel);
      } else {
        out.set(rel, await Deno.readTextFile(`${dir}/${rel}`));
      }
    }
  };
  await walk("");
  return out;
}

/**
 * Like `Promise.all`, but waits for every promise before throwing the first failure, so
 * that no write is still running when a test's temp directory is removed.
 */
export async function allSettled<T>(promises: Promise<T>[]): Promise<T[]> {
  const results = await Promise.allSettled(promises);
  for (const result of results) if (result.status === "rejected") throw result.reason;
  return results.map((result) => (result as PromiseFulfilledResult<T>).value);
}

/** A small seeded PRNG (mulberry32): the same seed gives the same sequence. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Any name the file backend (or a broken variant of it) uses for temp files. */
const TEMP_NAME = /^\.cvm-/;

/** Every temp file or directory of the file backend under `dir`, relative to it, sorted. */
export async function findTemps(dir: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (sub: string) => {
    for await (const entry of Deno.readDir(join(dir, sub))) {
      const rel = sub === "" ? entry.name : `${sub}/${entry.name}`;
      if (TEMP_NAME.test(entry.name)) found.push(rel);
      else if (entry.isDirectory) await walk(rel);
    }
  };
  await walk("");
  return found.sort();
}
