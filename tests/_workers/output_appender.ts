// Child process of tests/file_output_test.ts: appends output lines to one execution, each
// call's lines naming the writer, the call and the line, and reports each call once it is
// acknowledged.
//
// Usage: deno run --allow-read --allow-write output_appender.ts <dataDir> <writer> <calls>
//          <lines per call> <line length> <fsync: 0|1>
//
// Prints {"kind":"ready"} once connected, {"kind":"acked","call":i} after each call
// returns, {"kind":"error",…} for a failure, and {"kind":"done"} at the end. <calls> of 0
// appends until killed.

import { FileStorageAdapter } from "../../mod.ts";
import { report } from "./_stdin.ts";

const [dataDir, writerArg, callsArg, linesArg, lengthArg, fsyncArg] = Deno.args;
const writer = Number(writerArg);
const calls = Number(callsArg) || Infinity;
const perCall = Number(linesArg);
const padding = "x".repeat(Number(lengthArg));

const storage = new FileStorageAdapter({ dataDir, fsync: fsyncArg === "1" });
await storage.connect();
report({ kind: "ready", writer });
for (let call = 0; call < calls; call++) {
  const lines = Array.from(
    { length: perCall },
    (_, line) => `${writer} ${call} ${line} ${padding}`,
  );
  try {
    await storage.appendOutput("shared", lines);
    report({ kind: "acked", writer, call });
  } catch (error) {
    report({ kind: "error", writer, call, message: String(error) });
  }
}
report({ kind: "done", writer });
await storage.disconnect();
