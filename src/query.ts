/**
 * Queries: checking the options callers pass, the orders every backend returns, and
 * selecting a page from records already in order.
 *
 * @module
 */

import { ValidationError } from "./errors.ts";
import { idProblem, VALID_ID } from "./ids.ts";

/** A checked {@linkcode HistoryQuery}, with `after` as a key in milliseconds. */
export interface HistoryPlan {
  fromStep?: number;
  toStep?: number;
  after?: { step: number; time: number };
  limit?: number;
  reverse: boolean;
}

/** A checked {@linkcode ExecutionQuery} (and {@linkcode ListQuery}). */
export interface ListPlan {
  after?: string;
  limit?: number;
  programId?: string;
  state?: string;
}

/** A checked {@linkcode OutputQuery}. */
export interface OutputPlan {
  from: number;
  limit?: number;
}

const HISTORY_KEYS = ["fromStep", "toStep", "after", "limit", "reverse"];
const LIST_KEYS = ["after", "limit"];
const EXECUTION_KEYS = ["after", "limit", "programId", "state"];
const OUTPUT_KEYS = ["from", "limit"];

/**
 * Checks a history query.
 *
 * @param query What the caller passed (`undefined` for none).
 * @param context Names the call for error messages, e.g. `Cannot get history of "e1"`.
 * @returns The checked query.
 * @throws {ValidationError} For anything but an object of the documented options.
 */
export function checkHistoryQuery(query: unknown, context: string): HistoryPlan {
  const options = readOptions(query, context, HISTORY_KEYS, "a HistoryQuery");
  const plan: HistoryPlan = { reverse: false };
  const { fromStep, toStep, after, limit, reverse } = options;
  if (fromStep !== undefined) plan.fromStep = safeInteger(fromStep, context, "fromStep");
  if (toStep !== undefined) plan.toStep = safeInteger(toStep, context, "toStep");
  if (after !== undefined) plan.after = historyKey(after, context);
  if (limit !== undefined) plan.limit = positiveInteger(limit, context, "limit");
  if (reverse !== undefined) {
    if (typeof reverse !== "boolean") invalid(context, "reverse", reverse, "true or false");
    plan.reverse = reverse;
  }
  return plan;
}

/**
 * Checks a list query, or an execution query when `filters` is true.
 *
 * @param query What the caller passed (`undefined` for none).
 * @param context Names the call for error messages.
 * @param filters Whether `programId` and `state` are allowed.
 * @returns The checked query.
 * @throws {ValidationError} For anything but an object of the documented options.
 */
export function checkListQuery(query: unknown, context: string, filters: boolean): ListPlan {
  const options = filters
    ? readOptions(query, context, EXECUTION_KEYS, "an ExecutionQuery")
    : readOptions(query, context, LIST_KEYS, "a ListQuery");
  const plan: ListPlan = {};
  const { after, limit, programId, state } = options;
  if (after !== undefined) {
    if (typeof after !== "string") invalid(context, "after", after, "an id (a string)");
    plan.after = after;
  }
  if (limit !== undefined) plan.limit = positiveInteger(limit, context, "limit");
  if (programId !== undefined) {
    if (idProblem(programId) !== undefined) invalid(context, "programId", programId, VALID_ID);
    plan.programId = programId as string;
  }
  if (state !== undefined) {
    if (idProblem(state) !== undefined) invalid(context, "state", state, VALID_ID);
    plan.state = state as string;
  }
  return plan;
}

/**
 * Checks an output query.
 *
 * @param query What the caller passed (`undefined` for none).
 * @param context Names the call for error messages.
 * @returns The checked query; `from` defaults to 0.
 * @throws {ValidationError} For anything but an object of the documented options.
 */
export function checkOutputQuery(query: unknown, context: string): OutputPlan {
  const options = readOptions(query, context, OUTPUT_KEYS, "an OutputQuery");
  const plan: OutputPlan = { from: 0 };
  if (options.from !== undefined) {
    const from = options.from;
    if (!Number.isSafeInteger(from) || (from as number) < 0) {
      invalid(context, "from", from, "a non-negative integer");
    }
    plan.from = from as number;
  }
  if (options.limit !== undefined) plan.limit = positiveInteger(options.limit, context, "limit");
  return plan;
}

/** Reads the allowed options once each; `undefined` values count as absent. */
function readOptions(
  query: unknown,
  context: string,
  allowed: readonly string[],
  type: string,
): Record<string, unknown> {
  if (query === undefined) return {};
  const options: Record<string, unknown> = {};
  try {
    // Inside the try: Array.isArray throws on a revoked proxy.
    // A plain object, or an instance of the caller's own class; not a built-in such as a
    // `Date` or `Map`, whose contents are no options.
    if (
      query === null || typeof query !== "object" || Array.isArray(query) ||
      Object.prototype.toString.call(query) !== "[object Object]"
    ) {
      throw new ValidationError(
        `${context}: the query must be ${type} object or left out, not ${describe(query)}`,
      );
    }
    for (const key of Object.keys(query)) {
      const value = (query as Record<string, unknown>)[key];
      if (value === undefined) continue;
      if (!allowed.includes(key)) {
        throw new ValidationError(
          `${context}: the query has an unknown option ${JSON.stringify(key)}; ${type} takes ` +
            allowed.map((name) => `"${name}"`).join(", "),
        );
      }
      options[key] = value;
    }
  } catch (error) {
    if (error instanceof ValidationError) throw error;
    throw new ValidationError(
      `${context}: the query could not be read (${String(error)}); pass a plain object`,
    );
  }
  return options;
}

function historyKey(after: unknown, context: string): { step: number; time: number } {
  let step: unknown;
  let timestamp: unknown;
  let time = NaN;
  try {
    if (after === null || typeof after !== "object" || Array.isArray(after)) {
      invalid(context, "after", after, "a history key { step, timestamp }, such as an entry");
    }
    ({ step, timestamp } = after as { step?: unknown; timestamp?: unknown });
    if (timestamp instanceof Date) time = Date.prototype.getTime.call(timestamp);
  } catch (error) {
    if (error instanceof ValidationError) throw error;
    throw new ValidationError(
      `${context}: query option "after" could not be read (${String(error)}); pass a history ` +
        "key { step, timestamp }, such as an entry",
    );
  }
  if (!Number.isSafeInteger(step)) invalid(context, "after.step", step, "a safe integer");
  if (Number.isNaN(time)) invalid(context, "after.timestamp", timestamp, "a valid Date");
  return { step: step as number, time };
}

function safeInteger(value: unknown, context: string, name: string): number {
  if (!Number.isSafeInteger(value)) invalid(context, name, value, "a safe integer");
  return value as number;
}

function positiveInteger(value: unknown, context: string, name: string): number {
  if (!Number.isSafeInteger(value) || (value as number) < 1) {
    invalid(context, name, value, "a positive integer");
  }
  return value as number;
}

function invalid(context: string, name: string, value: unknown, expected: string): never {
  throw new ValidationError(
    `${context}: query option "${name}" is ${describe(value)}; pass ${expected}`,
  );
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  switch (typeof value) {
    case "object": {
      const tag = Object.prototype.toString.call(value).slice(8, -1);
      return tag === "Object" ? "an object" : `a ${tag}`;
    }
    case "string":
      return value.length > 40 ? "a string" : `the string ${JSON.stringify(value)}`;
    case "number":
      return String(value);
    default:
      return `a ${typeof value}`;
  }
}

/**
 * Orders strings by Unicode code point, the order of their UTF-8 bytes (which MongoDB and
 * file systems use), rather than JavaScript's UTF-16 order.
 *
 * @param a A string.
 * @param b Another string.
 * @returns A negative number, zero or a positive number, for `Array.prototype.sort`.
 */
export function compareCodePoints(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (U+D800–U+DFFF) encode code points above U+FFFF: they sort after
    // U+E000–U+FFFF, which UTF-16 order puts after them.
    if (x >= 0xd800 && y >= 0xd800) return shift(x) - shift(y);
    return x - y;
  }
  return a.length - b.length;
}

function shift(unit: number): number {
  return unit >= 0xe000 ? unit - 0x800 : unit + 0x2000;
}

/**
 * Orders history keys: by step, then by time.
 *
 * @returns A negative number, zero or a positive number.
 */
export function compareHistoryKeys(
  stepA: number,
  timeA: number,
  stepB: number,
  timeB: number,
): number {
  return stepA - stepB || timeA - timeB;
}

/**
 * Selects a history query's entries from keys in ascending order.
 *
 * @param sorted Entries ascending by step, then time.
 * @param plan The checked query.
 * @param key Reads an entry's step and time.
 * @returns The selected entries, in the query's order.
 */
export function selectHistory<T>(
  sorted: ArrayLike<T>,
  plan: HistoryPlan,
  key: (entry: T) => { step: number; time: number },
): T[] {
  const { fromStep, toStep, after, limit, reverse } = plan;
  // Index range [lo, hi) of entries inside the step range and past the cursor.
  let lo = fromStep === undefined ? 0 : lowerBound(sorted, (e) => key(e).step >= fromStep);
  let hi = toStep === undefined ? sorted.length : lowerBound(sorted, (e) => key(e).step > toStep);
  if (after !== undefined) {
    const order = (e: T) => {
      const k = key(e);
      return compareHistoryKeys(k.step, k.time, after.step, after.time);
    };
    // Ascending: the entries past the cursor; descending: those before it.
    if (reverse) hi = Math.min(hi, lowerBound(sorted, (e) => order(e) >= 0));
    else lo = Math.max(lo, lowerBound(sorted, (e) => order(e) > 0));
  }
  if (lo >= hi) return [];
  const count = Math.min(hi - lo, limit ?? Infinity);
  const out: T[] = new Array(count);
  for (let i = 0; i < count; i++) out[i] = sorted[reverse ? hi - 1 - i : lo + i];
  return out;
}

/**
 * Selects a list query's page from records ascending by id in code point order.
 *
 * @param sorted Records ascending by id.
 * @param plan The checked query (filters are the caller's).
 * @param id Reads a record's id.
 * @returns The page.
 */
export function selectPage<T>(
  sorted: readonly T[],
  plan: ListPlan,
  id: (record: T) => string,
): T[] {
  const after = plan.after;
  const lo = after === undefined
    ? 0
    : lowerBound(sorted, (record) => compareCodePoints(id(record), after) > 0);
  return sorted.slice(lo, plan.limit === undefined ? undefined : lo + plan.limit);
}

/** The first index whose entry satisfies `test`, which is false then true along `sorted`. */
export function lowerBound<T>(sorted: ArrayLike<T>, test: (entry: T) => boolean): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (test(sorted[mid])) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
