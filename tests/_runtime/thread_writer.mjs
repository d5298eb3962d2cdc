// A worker_threads worker, shared by the Node and Bun tests of the file backend's temp
// files: saves programs, executions and history entries through its own copy of the
// library (imported by the specifier it is given) while the main thread connects again and
// again, and reports every failure.
//
// workerData: { specifier, dataDir, writer, count }. Messages: { kind: "error", message }
// for each failed save, then { kind: "done", writes }.

import { parentPort, workerData } from "node:worker_threads";

const { specifier, dataDir, writer, count } = workerData;
const { FileStorageAdapter } = await import(specifier);
const created = new Date("2026-01-02T03:04:05.678Z");

const storage = new FileStorageAdapter(dataDir);
await storage.connect();
let writes = 0;
const attempt = async (write) => {
  try {
    await write();
    writes++;
  } catch (error) {
    parentPort.postMessage({ kind: "error", message: String(error) });
  }
};
const id = `w${writer}`;
for (let i = 0; i < count; i++) {
  await Promise.all([
    attempt(() => storage.saveProgram({ id, name: `v${i}`, source: "", bytecode: [], created })),
    attempt(() =>
      storage.saveExecution({
        id,
        programId: id,
        state: "running",
        pc: i,
        stack: [],
        variables: {},
        created,
      })
    ),
    attempt(() =>
      storage.saveHistory({
        executionId: id,
        step: i,
        pc: i,
        instruction: "NOP",
        stack: [],
        variables: {},
        timestamp: created,
      })
    ),
  ]);
}
await storage.disconnect();
parentPort.postMessage({ kind: "done", writes });
