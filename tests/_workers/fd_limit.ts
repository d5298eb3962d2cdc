// Child process of tests/fd_limit_test.ts, run under a low `ulimit -n`: 3,000 concurrent
// saves, then 20 concurrent listPrograms of the 1,000 programs saved, and prints one JSON
// line: {"saves": ok, "savesFailed": n, "lists": ok, "listsFailed": n, "errors": [first few]}.
//
// Usage: deno run --allow-read --allow-write fd_limit.ts <dataDir>

import { FileStorageAdapter } from "../../mod.ts";
import { makeExecution, makeHistory, makeProgram } from "../_utils.ts";

const PER_KIND = 1000;
const LISTS = 20;

const storage = new FileStorageAdapter(Deno.args[0]);
await storage.connect();
const errors: string[] = [];
const count = async (calls: Promise<unknown>[]) => {
  const results = await Promise.allSettled(calls);
  let failed = 0;
  for (const result of results) {
    if (result.status === "fulfilled") continue;
    failed++;
    if (errors.length < 5) errors.push(String(result.reason));
  }
  return [results.length - failed, failed];
};
const saves: Promise<unknown>[] = [];
for (let i = 0; i < PER_KIND; i++) {
  saves.push(storage.saveProgram(makeProgram({ id: `p${i}` })));
  saves.push(storage.saveExecution(makeExecution({ id: `e${i % 50}`, pc: i })));
  saves.push(storage.saveHistory(makeHistory({ executionId: `e${i % 50}`, step: i })));
}
const [savesOk, savesFailed] = await count(saves);
const lists = Array.from({ length: LISTS }, async () => {
  const programs = await storage.listPrograms();
  if (programs.length !== PER_KIND) throw new Error(`listed ${programs.length} programs`);
});
const [listsOk, listsFailed] = await count(lists);
await storage.disconnect();
console.log(JSON.stringify({
  saves: savesOk,
  savesFailed,
  lists: listsOk,
  listsFailed,
  errors,
}));
