// The MongoDB driver is loaded by MongoDBAdapter.connect() and by nothing else.
//
// 1. A subprocess whose import map sends `mongodb` to a module that does not exist imports
//    mod.ts, uses the file backend, and only then finds out, from connect(), that the
//    driver is missing: importing the library never touched it. Needs --allow-run.
// 2. In this process, connect() performs the real `import("mongodb")` through the
//    project's import map, against a port where no server listens: the error must be
//    about the server, not about loading the driver. A broken `imports` entry would only
//    show up at run time, here. Needs --allow-net --allow-env.

import {
  assert,
  assertEquals,
  assertFalse,
  assertMatch,
  assertRejects,
  assertStringIncludes,
} from "@std/assert";
import { join } from "node:path";
import { ConnectionError, MongoDBAdapter } from "../mod.ts";
import { withTempDir } from "./_utils.ts";

const granted = (name: "env" | "net" | "run") =>
  Deno.permissions.querySync({ name }).state === "granted";

const MOD_URL = new URL("../mod.ts", import.meta.url).href;

const CHILD = `
import { ConnectionError, createStorage, MongoDBAdapter } from ${JSON.stringify(MOD_URL)};

const storage = createStorage({ type: "file", dataDir: Deno.args[0] });
await storage.connect();
await storage.saveProgram({
  id: "p1",
  name: "Lazy",
  source: "",
  bytecode: [],
  created: new Date(0),
});
const program = await storage.getProgram("p1");
await storage.disconnect();

const mongo = new MongoDBAdapter({ uri: "mongodb://127.0.0.1:1/x", serverSelectionTimeoutMS: 500 });
let outcome;
try {
  await mongo.connect();
  outcome = { connected: true };
} catch (error) {
  outcome = {
    name: error.name,
    isConnectionError: error instanceof ConnectionError,
    code: error.code,
    message: error.message,
  };
}
console.log(JSON.stringify({ program, outcome, connected: mongo.isConnected() }));
`;

Deno.test({
  name: "MongoDBAdapter.connect() without the driver throws ConnectionError saying how to " +
    "add it, and the file backend works without it" +
    (granted("run") ? "" : " (ignored: needs --allow-run)"),
  ignore: !granted("run"),
  sanitizeOps: true,
  sanitizeResources: true,
  async fn() {
    await withTempDir(async (dir) => {
      const missing = new URL(`file://${join(dir, "no-such-driver", "mongodb.js")}`).href;
      await Deno.writeTextFile(
        join(dir, "deno.json"),
        JSON.stringify({ imports: { mongodb: missing } }, null, 2),
      );
      await Deno.writeTextFile(join(dir, "child.ts"), CHILD);
      const data = join(dir, "data");
      const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--quiet",
          "--no-lock",
          `--config=${join(dir, "deno.json")}`,
          "--allow-read",
          "--allow-write",
          "--allow-env",
          "--allow-net",
          join(dir, "child.ts"),
          data,
        ],
        cwd: dir,
        stdout: "piped",
        stderr: "piped",
      }).output();
      const out = new TextDecoder().decode(stdout);
      const err = new TextDecoder().decode(stderr);
      assertEquals(code, 0, `the child failed:\n${out}\n${err}`);
      const result = JSON.parse(out.trim().split("\n").at(-1)!);

      assertEquals(result.program?.name, "Lazy", "the file backend saved and read a program");
      assertEquals(result.program?.created, new Date(0).toISOString());
      assert(
        (await Deno.stat(join(data, "programs", "p1.json"))).isFile,
        "programs/p1.json was written",
      );

      const { outcome } = result;
      assertEquals(outcome.name, "ConnectionError", JSON.stringify(outcome));
      assert(outcome.isConnectionError, "instanceof ConnectionError");
      assertEquals(outcome.code, "CONNECTION");
      assertMatch(outcome.message, /^Cannot load the MongoDB driver, the "mongodb" package/);
      assertStringIncludes(outcome.message, "deno add npm:mongodb");
      assertStringIncludes(outcome.message, "npm install mongodb");
      assertFalse(result.connected, "isConnected() after the failed connect()");
    });
  },
});

Deno.test({
  name: "MongoDBAdapter.connect() loads the real driver through the import map" +
    (granted("net") && granted("env") ? "" : " (ignored: needs --allow-net --allow-env)"),
  ignore: !granted("net") || !granted("env"),
  sanitizeOps: true,
  sanitizeResources: true,
  async fn() {
    const storage = new MongoDBAdapter({
      uri: "mongodb://127.0.0.1:1/x",
      serverSelectionTimeoutMS: 300,
    });
    const error = await assertRejects(() => storage.connect(), ConnectionError);
    // The driver loaded: the error is the server's, not the import's.
    assertFalse(error.message.includes("Cannot load the MongoDB driver"), error.message);
    assertMatch(error.message, /^Cannot connect to MongoDB at "mongodb:\/\/127\.0\.0\.1:1\/x": /);
    assertEquals((error.cause as Error).name, "MongoServerSelectionError");
  },
});
