// Types of ./_bench.mjs, the harness shared by the Deno and Node benchmarks.

import type { Execution, History, Program } from "../mod.ts";

/** One side of a row: `run` does `ops` operations and is timed as a whole. */
export interface Variant {
  name: string;
  /** Runs before `run`, untimed. */
  before?: () => Promise<unknown> | unknown;
  run: () => Promise<unknown> | unknown;
}

/** A library operation measured against its floor. */
export interface Row {
  name: string;
  /** Operations per sample, to report time per operation. */
  ops: number;
  floor: Variant;
  library: Variant;
  /** The row's target, printed beside the figure. */
  target?: number | string;
  /** Runs before each round, untimed. */
  prepare?: () => Promise<unknown> | unknown;
}

/** A measured row. */
export interface Result {
  name: string;
  floorName: string;
  libraryName: string;
  floorMs: number;
  libraryMs: number;
  ratio: number;
  target?: number | string;
}

/** What `watch` saw. */
export interface Watched<T> {
  result: T;
  ms: number;
  /** The longest the event loop was blocked, in milliseconds. */
  stall: number;
  /** Peak growth in bytes. */
  heapGrowth: number;
  rssGrowth: number;
}

export function env(name: string): string | undefined;
export function rounds(fallback?: number): number;
export function scaled(count: number, min?: number): number;
export function measure(row: Row, count: number): Promise<Result>;
export function median(values: number[]): number;
export function table(results: Result[], count: number): string;
export function time(ms: number): string;
export function inBatches(
  total: number,
  work: (i: number) => Promise<unknown>,
  width?: number,
): Promise<void>;
export function watch<T>(work: () => Promise<T>): Promise<Watched<T>>;
export function program(id: string): Program;
export function execution(i: number): Execution;
export function entry(executionId: string, step: number): History;
export function entryFileName(step: number): string;
