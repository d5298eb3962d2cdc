/**
 * Registers compliance cases with the caller's test function, giving each case a fresh
 * adapter and cleaning it up however the case ends.
 *
 * @module
 */

import type { StorageAdapter } from "../types.ts";
import type { Case, CaseContext, ComplianceOptions } from "./_types.ts";

/** Registers every case with `options.test`. */
export function register(options: ComplianceOptions, cases: readonly Case[]): void {
  checkOptions(options);
  const prefix = options.name ? `${options.name}: ` : "";
  for (const item of cases) {
    options.test(`${prefix}${item.name}`, () => runCase(options, item));
  }
}

function checkOptions(options: ComplianceOptions): void {
  if (typeof options !== "object" || options === null) {
    throw new TypeError("Cannot register the compliance suite: pass an options object");
  }
  if (typeof options.test !== "function") {
    throw new TypeError(
      "Cannot register the compliance suite: options.test must be a function such as " +
        "Deno.test, or test from node:test or bun:test",
    );
  }
  if (typeof options.createAdapter !== "function") {
    throw new TypeError(
      "Cannot register the compliance suite: options.createAdapter must be a function " +
        "that returns a fresh, unconnected, empty adapter",
    );
  }
  for (const hook of ["reopenAdapter", "destroyAdapter"] as const) {
    if (options[hook] !== undefined && typeof options[hook] !== "function") {
      throw new TypeError(
        `Cannot register the compliance suite: options.${hook} must be a function or left out`,
      );
    }
  }
}

async function runCase(options: ComplianceOptions, item: Case): Promise<void> {
  const original = await options.createAdapter();
  let current = original;
  const context: CaseContext = {
    reopens: options.reopenAdapter !== undefined,
    async restart() {
      await current.disconnect();
      if (options.reopenAdapter !== undefined) {
        const next = await options.reopenAdapter(current);
        if (next === current || next === original) {
          throw new TypeError(
            "options.reopenAdapter returned the adapter it was given; return a new adapter " +
              "on the same store, or leave reopenAdapter out to reuse the instance",
          );
        }
        current = next;
      }
      await current.connect();
      return current;
    },
  };
  const failures: unknown[] = [];
  try {
    if (item.connect !== false) await original.connect();
    await item.run(original, context);
  } catch (error) {
    failures.push(error);
  }
  // Clean up however the test ended, but report the test's own failure first.
  for (const adapter of new Set<StorageAdapter>([current, original])) {
    try {
      await adapter.disconnect();
    } catch (error) {
      failures.push(error);
    }
  }
  try {
    await options.destroyAdapter?.(original);
  } catch (error) {
    failures.push(error);
  }
  if (failures.length > 0) throw failures[0];
}
