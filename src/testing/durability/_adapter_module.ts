/**
 * Loads the module the durability kit's caller names, which creates the adapter under
 * test: in the parent test and in every child process and thread.
 *
 * @module
 */

import type { StorageAdapter } from "../../types.ts";

/** Creates an unconnected adapter on the store named by `store`. */
export type CreateAdapter = (store: string) => StorageAdapter | Promise<StorageAdapter>;

/**
 * Imports `specifier` and returns its `createAdapter` export (or its default export).
 *
 * @throws {TypeError} When the module exports neither as a function.
 */
export async function loadAdapterModule(specifier: string): Promise<CreateAdapter> {
  const module = await import(specifier) as { createAdapter?: unknown; default?: unknown };
  const create = module.createAdapter ?? module.default;
  if (typeof create !== "function") {
    throw new TypeError(
      `The adapter module "${specifier}" must export a function createAdapter(store) ` +
        "(or a default export) that returns a new, unconnected adapter on that store",
    );
  }
  return async (store) => {
    const adapter = await (create as CreateAdapter)(store);
    if (adapter === null || typeof adapter !== "object" || typeof adapter.connect !== "function") {
      throw new TypeError(
        `createAdapter() of "${specifier}" returned ${String(adapter)}, not an adapter`,
      );
    }
    return adapter;
  };
}
