// The adapter module the durability kit's processes and threads import for the file
// backend: the store is a data directory.

import { FileStorageAdapter } from "../../mod.ts";

/** A new, unconnected file adapter on the data directory `store`. */
export function createAdapter(store: string): FileStorageAdapter {
  return new FileStorageAdapter(store);
}
