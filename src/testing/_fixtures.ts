/**
 * Records, values and ids the compliance cases share.
 *
 * @module
 */

import type { Execution, History, Program, StorageAdapter } from "../types.ts";
import { assertEquals, hasOwn } from "./_assert.ts";

/** A fixed instant, so failures are reproducible. */
export const T0 = Date.UTC(2024, 0, 2, 3, 4, 5, 678);

/** A fresh `Date` `offset` milliseconds after {@linkcode T0}. */
export function at(offset = 0): Date {
  return new Date(T0 + offset);
}

/** A valid program; `fields` are added or replace the defaults. */
export function makeProgram(id: string, fields: Record<string, unknown> = {}): Program {
  return {
    id,
    name: `Program ${id}`,
    source: 'let x = 1\nprint("x is " + x)',
    bytecode: [{ op: "PUSH", arg: 1 }, { op: "STORE", arg: "x" }, { op: "PRINT" }],
    created: at(),
    ...fields,
  } as unknown as Program;
}

/** A valid execution; `fields` are added or replace the defaults. */
export function makeExecution(
  id: string,
  programId = "p1",
  fields: Record<string, unknown> = {},
): Execution {
  return {
    id,
    programId,
    state: "running",
    pc: 2,
    stack: [1, "two"],
    variables: { x: 1 },
    output: ["x is 1"],
    created: at(),
    ...fields,
  } as unknown as Execution;
}

/** A valid history entry at `step`; its timestamp is `step` ms after `T0` by default. */
export function makeHistory(
  executionId: string,
  step: number,
  fields: Record<string, unknown> = {},
): History {
  return {
    executionId,
    step,
    pc: step,
    instruction: "PUSH",
    stack: [step],
    variables: { step },
    timestamp: at(step),
    ...fields,
  } as unknown as History;
}

/**
 * Deep copy of plain data with `Date`s, arrays, holes and `"__proto__"` own keys kept, and
 * object properties holding `undefined` dropped: the value a correct adapter returns for
 * `value`. Objects that are not plain data are kept by reference.
 */
export function expected<T>(value: T): T {
  return copy(value, new Map()) as T;
}

function copy(value: unknown, copies: Map<object, unknown>): unknown {
  if (typeof value !== "object" || value === null) return value;
  const done = copies.get(value);
  if (done !== undefined) return done;
  if (value instanceof Date) return new Date(value.getTime());
  if (Object.getPrototypeOf(value) === Uint8Array.prototype) return (value as Uint8Array).slice();
  if (Array.isArray(value)) {
    const out: unknown[] = new Array(value.length);
    copies.set(value, out);
    for (let i = 0; i < value.length; i++) {
      if (hasOwn(value, i)) out[i] = copy(value[i], copies);
    }
    return out;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== null && proto !== Object.prototype) return value;
  const out: Record<string, unknown> = {};
  copies.set(value, out);
  for (const key of Object.keys(value)) {
    const item = (Object.getOwnPropertyDescriptor(value, key) as PropertyDescriptor).value;
    if (item === undefined) continue;
    Object.defineProperty(out, key, {
      value: copy(item, copies),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

/**
 * Saves a program `"p1"`, an execution `"e1"` and a history entry of `"e1"`, and checks
 * each reads back as it was saved.
 */
export async function saveAndCheck(
  adapter: StorageAdapter,
  records: { program: Program; execution: Execution; entry: History } = {
    program: makeProgram("p1"),
    execution: makeExecution("e1", "p1"),
    entry: makeHistory("e1", 0),
  },
): Promise<void> {
  const { program, execution, entry } = records;
  await adapter.saveProgram(program);
  await adapter.saveExecution(execution);
  await adapter.saveHistory(entry);
  assertEquals(await adapter.getProgram("p1"), expected(program), "getProgram()");
  assertEquals(await adapter.getExecution("e1"), expected(execution), "getExecution()");
  assertEquals(await adapter.getHistory("e1"), [expected(entry)], "getHistory()");
}

/** An object with own `key` set to `value`, even for `"__proto__"`. */
export function withKey(key: string, value: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  Object.defineProperty(out, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
  return out;
}

/**
 * Unicode code point order, the order lists are sorted in (and the order of UTF-8 bytes):
 * unlike JavaScript's `<`, it puts U+E000–U+FFFF before the code points above U+FFFF.
 * Written here rather than imported, so the suite does not share a bug with the library.
 */
export function compareCodePoints(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const difference = x[i].codePointAt(0)! - y[i].codePointAt(0)!;
    if (difference !== 0) return difference;
  }
  return x.length - y.length;
}

/** `records` sorted by id in code point order, as lists return them. */
export function byId<T extends { id: string }>(records: readonly T[]): T[] {
  return [...records].sort((a, b) => compareCodePoints(a.id, b.id));
}

/** A copy of `items` in a fixed, scrambled order. */
export function shuffled<T>(items: readonly T[], seed = 1): T[] {
  const out = [...items];
  let state = seed >>> 0 || 1;
  for (let i = out.length - 1; i > 0; i--) {
    // xorshift32: deterministic, so a failing order can be reproduced.
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    const j = state % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** Every method of the adapter interface. */
const METHODS = [
  "connect",
  "disconnect",
  "isConnected",
  "saveProgram",
  "getProgram",
  "saveExecution",
  "getExecution",
  "saveHistory",
  "getHistory",
  "listPrograms",
  "listExecutions",
  "deleteProgram",
  "deleteExecution",
  "appendOutput",
  "getOutput",
  "getCurrentExecutionId",
  "setCurrentExecutionId",
] as const;

/**
 * A plain object whose methods call `adapter`'s, so that a case can replace some of them
 * (to record calls) without touching the adapter, whose methods may use private fields.
 */
export function delegate(adapter: StorageAdapter): StorageAdapter {
  const out: Record<string | symbol, unknown> = {};
  for (const method of METHODS) {
    out[method] = (...args: unknown[]) =>
      (adapter[method] as (...args: unknown[]) => unknown).apply(adapter, args);
  }
  out[Symbol.asyncDispose] = () => adapter[Symbol.asyncDispose]();
  return out as unknown as StorageAdapter;
}
