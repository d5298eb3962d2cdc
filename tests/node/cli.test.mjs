// The `cvm-storage` bin of the built package, run by Node in a fresh project that installed
// only the package (no mongodb driver): help, inspect, verify, export, import, export
// again (the same bytes), migrate with its proof, and the exit status of a usage error.

import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createStorage } from "@cvm/storage";

const BIN = join(process.cwd(), "node_modules", ".bin", "cvm-storage");

/** Runs the bin; resolves with its exit status and output. */
function run(args) {
  return new Promise((resolve) => {
    execFile(
      BIN,
      args,
      { env: { PATH: process.env.PATH, HOME: process.env.HOME } },
      (error, stdout, stderr) => {
        resolve({ code: error ? error.code : 0, stdout, stderr });
      },
    );
  });
}

async function withStore(fn) {
  const dir = await mkdtemp(join(tmpdir(), "cvm-storage-cli-"));
  try {
    const storage = createStorage({ dataDir: join(dir, "source") });
    await storage.connect();
    await storage.saveProgram({
      id: "p1",
      name: "P",
      source: "",
      bytecode: new Uint8Array([1, 2]),
      created: new Date(0),
    });
    await storage.saveExecution({
      id: "Run 1",
      programId: "p1",
      state: "READY",
      pc: NaN,
      stack: [[1, 2]],
      variables: { half: "\ud83d", $x: -0 },
      error: null,
      created: new Date(1),
    });
    await storage.saveHistory({
      executionId: "Run 1",
      step: -1,
      pc: 0,
      instruction: "CC",
      stack: [],
      variables: {},
      timestamp: new Date(2),
    });
    await storage.appendOutput("Run 1", ["hello", ""]);
    await storage.setCurrentExecutionId("Run 1");
    await storage.disconnect();
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test("cvm-storage --help exits 0 and lists the commands", async () => {
  const { code, stdout } = await run(["--help"]);
  assert.equal(code, 0);
  for (const command of ["inspect", "show", "verify", "export", "import", "migrate"]) {
    assert.match(stdout, new RegExp(`\\n  ${command} `));
  }
});

test("cvm-storage inspect, verify and show read a file store", async () => {
  await withStore(async (dir) => {
    const inspect = await run(["inspect", join(dir, "source"), "--json"]);
    assert.equal(inspect.code, 0, inspect.stderr);
    const report = JSON.parse(inspect.stdout);
    assert.deepEqual(
      Object.values(report.collections).map((c) => c.count),
      [1, 1, 1, 2, 1],
    );
    const verify = await run(["verify", join(dir, "source")]);
    assert.equal(verify.code, 0, verify.stdout);
    const show = await run(["show", "execution", "Run 1", "-s", join(dir, "source")]);
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /"pc": \{ "\$numberDouble": "NaN" \}/);
  });
});

test("cvm-storage export, import, export: the same bytes; migrate proves its copy", async () => {
  await withStore(async (dir) => {
    const first = join(dir, "first.jsonl");
    const second = join(dir, "second.jsonl");
    assert.equal((await run(["export", "-s", join(dir, "source"), "-o", first])).code, 0);
    const imported = await run(["import", first, "-s", join(dir, "copy")]);
    assert.equal(imported.code, 0, imported.stdout + imported.stderr);
    assert.equal((await run(["export", "-s", join(dir, "copy"), "-o", second])).code, 0);
    assert.deepEqual(await readFile(second), await readFile(first));
    const migrated = await run([
      "migrate",
      "--from",
      join(dir, "source"),
      "--to",
      join(dir, "moved"),
    ]);
    assert.equal(migrated.code, 0, migrated.stdout + migrated.stderr);
    assert.match(migrated.stdout, /The copy is equal to the source/);
  });
});

test("cvm-storage exits 2 for a wrong command line", async () => {
  const { code, stderr } = await run(["migrate", "--from", "x"]);
  assert.equal(code, 2);
  assert.match(stderr, /^error: migrate needs both --from STORE and --to STORE\n/);
});
