/**
 * Registers compliance cases with the caller's test function, giving each case a fresh
 * adapter and cleaning it up however the case ends.
 *
 * @module
 */

import type { StorageAdapter } from "../types.ts";
import type { ComplianceOptions } from "./mod.ts";

/** One compliance test, run against one fresh adapter. */
export interface Case {
  /** "symbol + behaviour", without the adapter name. */
  name: string;
  /** Whether the harness connects the adapter first; default `true`. */
  connect?: boolean;
  /** The test body. The harness disconnects and destroys the adapter afterwards. */
  run(adapter: StorageAdapter): Promise<void>;
}

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
  if (options.destroyAdapter !== undefined && typeof options.destroyAdapter !== "function") {
    throw new TypeError(
      "Cannot register the compliance suite: options.destroyAdapter must be a function " +
        "or left out",
    );
  }
}

async function runCase(options: ComplianceOptions, item: Case): Promise<void> {
  const adapter = await options.createAdapter();
  let failed = false;
  let failure: unknown;
  try {
    if (item.connect !== false) await adapter.connect();
    await item.run(adapter);
  } catch (error) {
    failed = true;
    failure = error;
  }
  // Clean up however the test ended, but report the test's own failure first.
  try {
    await adapter.disconnect();
  } catch (error) {
    if (!failed) {
      failed = true;
      failure = error;
    }
  }
  try {
    await options.destroyAdapter?.(adapter);
  } catch (error) {
    if (!failed) {
      failed = true;
      failure = error;
    }
  }
  if (failed) throw failure;
}
