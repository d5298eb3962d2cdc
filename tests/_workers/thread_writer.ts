// A Deno Worker (a thread of the test process, sharing its process id) for
// tests/temp_files_test.ts: saves programs, executions and history entries through its own
// copy of the library while the main thread connects again and again, and reports every
// failure.
//
// Message in: { dataDir, writer, count }. Messages out: { kind: "error", message } for each
// failed save, then { kind: "done", writes }.

import { FileStorageAdapter } from "../../mod.ts";
import { makeExecution, makeHistory, makeProgram } from "../_utils.ts";

interface Start {
  dataDir: string;
  writer: number;
  count: number;
}

const scope = self as unknown as {
  onmessage: ((event: MessageEvent<Start>) => void) | null;
  postMessage(message: unknown): void;
};

scope.onmessage = async ({ data: { dataDir, writer, count } }) => {
  const storage = new FileStorageAdapter(dataDir);
  await storage.connect();
  let writes = 0;
  const attempt = async (write: () => Promise<void>) => {
    try {
      await write();
      writes++;
    } catch (error) {
      scope.postMessage({ kind: "error", message: String(error) });
    }
  };
  for (let i = 0; i < count; i++) {
    await Promise.all([
      attempt(() => storage.saveProgram(makeProgram({ id: `w${writer}`, name: `v${i}` }))),
      attempt(() => storage.saveExecution(makeExecution({ id: `w${writer}`, pc: i }))),
      attempt(() => storage.saveHistory(makeHistory({ executionId: `w${writer}`, step: i }))),
    ]);
  }
  await storage.disconnect();
  scope.postMessage({ kind: "done", writes });
};
