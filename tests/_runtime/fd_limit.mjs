// Child process of the Node and Bun file-descriptor tests, run under a low `ulimit -n`:
// 3,000 concurrent saves, then 20 concurrent listPrograms of the 1,000 programs saved,
// through the library imported by the specifier given. Prints one JSON line:
// {"saves": ok, "savesFailed": n, "lists": ok, "listsFailed": n, "errors": [first few]}.
//
// Usage: node fd_limit.mjs <specifier> <dataDir>

import process from "node:process";

const [specifier, dataDir] = process.argv.slice(2);
const { FileStorageAdapter } = await import(specifier);
const created = new Date("2026-01-02T03:04:05.678Z");
const PER_KIND = 1000;

const storage = new FileStorageAdapter(dataDir);
await storage.connect();
const errors = [];
const count = async (calls) => {
  const results = await Promise.allSettled(calls);
  const failed = results.filter((result) => result.status === "rejected");
  for (const result of failed.slice(0, 5 - errors.length)) errors.push(String(result.reason));
  return [results.length - failed.length, failed.length];
};
const saves = [];
for (let i = 0; i < PER_KIND; i++) {
  const executionId = `e${i % 50}`;
  saves.push(storage.saveProgram({ id: `p${i}`, name: "P", source: "", bytecode: [], created }));
  saves.push(storage.saveExecution({
    id: executionId,
    programId: "p0",
    state: "running",
    pc: i,
    stack: [],
    variables: {},
    created,
  }));
  saves.push(storage.saveHistory({
    executionId,
    step: i,
    pc: i,
    instruction: "NOP",
    stack: [],
    variables: {},
    timestamp: created,
  }));
}
const [saved, savesFailed] = await count(saves);
const [lists, listsFailed] = await count(Array.from({ length: 20 }, async () => {
  const programs = await storage.listPrograms();
  if (programs.length !== PER_KIND) throw new Error(`listed ${programs.length} programs`);
}));
await storage.disconnect();
console.log(JSON.stringify({ saves: saved, savesFailed, lists, listsFailed, errors }));
