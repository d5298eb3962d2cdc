// Child process of tests/data_dir_test.ts, run as an unprivileged user: connects to the
// data directory on the command line and saves a program, and prints what happened as one
// JSON line: {"connect": outcome, "save": outcome}, an outcome being "ok" or the error's
// name, code and message.
//
// Usage: deno run --no-config --allow-read --allow-write unprivileged.ts <dataDir>

import { FileStorageAdapter } from "../../mod.ts";

type Outcome = "ok" | { name: string; code?: string; message: string };

async function outcome(work: () => Promise<unknown>): Promise<Outcome> {
  try {
    await work();
    return "ok";
  } catch (error) {
    const { name, message, code } = error as Error & { code?: string };
    return { name, code, message };
  }
}

const storage = new FileStorageAdapter(Deno.args[0]);
const connect = await outcome(() => storage.connect());
const save = connect === "ok"
  ? await outcome(() =>
    storage.saveProgram({ id: "p1", name: "P", source: "", bytecode: [], created: new Date() })
  )
  : "not tried";
console.log(JSON.stringify({ connect, save }));
