// Child process of tests/fsync_order_test.ts: connects (which removes stale temp files) and exits,
// with only the permissions the README documents for the file backend.
//
// Usage: deno run --allow-read --allow-write connector.ts <dataDir>

import { FileStorageAdapter } from "../../mod.ts";

const storage = new FileStorageAdapter(Deno.args[0]);
await storage.connect();
await storage.disconnect();
console.log("connected");
