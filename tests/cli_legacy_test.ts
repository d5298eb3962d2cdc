// `cvm-legacy:DIR`: a data directory written by the original CVM's file adapter, built here
// from its documented layout — `programs/{id}.json` and `executions/{id}.json` as
// `JSON.stringify(record, null, 2)` (dates as ISO strings), files named by the raw id,
// `outputs/{id}.output` (lines joined with "\n", a "\n" after each append) and
// `metadata.json` — read, and migrated into the file backend.

import { assert, assertEquals, assertRejects, assertStringIncludes } from "@std/assert";
import { join } from "node:path";
import { FileStorageAdapter, MemoryStorageAdapter, StorageError } from "../mod.ts";
import { LegacyStore } from "../src/cli/_legacy_store.ts";
import { migrateStore } from "../src/cli/migrate.ts";
import { assertSameStore, canRun, runCli } from "./_cli.ts";
import { snapshotDir, withTempDir } from "./_utils.ts";

const CREATED = new Date("2025-03-04T05:06:07.890Z");
const UPDATED = new Date("2025-03-05T00:00:00.000Z");

/** Writes a file as the original did: `JSON.stringify(record, null, 2)` at `dir/{id}.json`. */
async function writeRecord(root: string, dir: string, id: string, record: unknown): Promise<void> {
  const path = join(root, dir, `${id}.json`);
  await Deno.mkdir(join(path, ".."), { recursive: true });
  await Deno.writeTextFile(path, JSON.stringify(record, null, 2));
}

/** Appends output as the original did: `lines.join("\n") + "\n"` per call. */
async function appendOutput(root: string, id: string, lines: string[]): Promise<void> {
  const path = join(root, "outputs", `${id}.output`);
  await Deno.mkdir(join(path, ".."), { recursive: true });
  await Deno.writeTextFile(path, lines.join("\n") + "\n", { append: true });
}

/** An original CVM data directory that converts in full. */
async function writeCleanStore(root: string): Promise<void> {
  await writeRecord(root, "programs", "hello", {
    id: "hello",
    name: "Hello",
    source: 'print("hi")',
    bytecode: [{ op: "PUSH", arg: "hi" }, { op: "PRINT" }],
    created: CREATED,
    updated: UPDATED,
  });
  await writeRecord(root, "programs", "My Program", {
    id: "My Program",
    name: "Spaces",
    source: "",
    bytecode: [],
    created: CREATED,
  });
  await writeRecord(root, "executions", "run-1", {
    id: "run-1",
    programId: "hello",
    state: "waiting_cc",
    pc: 3,
    stack: ["a", 1],
    variables: { startedAt: CREATED, result: NaN, nested: { list: [1, [2]] } },
    output: ["kept in the execution"],
    error: null,
    ccPrompt: "Summarise this",
    created: CREATED,
    updated: UPDATED,
  });
  await writeRecord(root, "executions", "group/run-3", {
    id: "group/run-3",
    programId: "My Program",
    state: "COMPLETED",
    pc: 0,
    stack: [],
    variables: {},
    created: CREATED,
  });
  await appendOutput(root, "run-1", ["hello", "world"]);
  await appendOutput(root, "run-1", [""]); // printed an empty line: the original dropped it
  await appendOutput(root, "run-1", ["again"]);
  await appendOutput(root, "group/run-3", ["done"]);
  await Deno.writeTextFile(
    join(root, "metadata.json"),
    JSON.stringify({ currentExecutionId: "run-1" }, null, 2),
  );
}

/** The clean store, plus what the conversion cannot or must change. */
async function writeStoreWithProblems(root: string): Promise<void> {
  await writeCleanStore(root);
  await Deno.writeTextFile(join(root, "executions", "broken.json"), '{ "id": "broken", ');
  await writeRecord(root, "executions", "no-created", {
    id: "no-created",
    programId: "hello",
    state: "READY",
    pc: 0,
    stack: [],
    variables: {},
  });
  await writeRecord(root, "programs", "no-id", {
    name: "No id",
    source: "",
    bytecode: [],
    created: CREATED,
  });
  await appendOutput(root, "ghost", ["nobody's"]);
}

Deno.test("LegacyStore reads an original CVM directory as the original's reader did", async () => {
  await withTempDir(async (root) => {
    await writeCleanStore(root);
    const store = new LegacyStore(root);
    await store.connect();
    assertEquals((await store.listPrograms()).map((p) => p.id), ["My Program", "hello"]);
    const hello = await store.getProgram("hello");
    assertEquals(hello?.created, CREATED);
    assertEquals(hello?.updated, UPDATED);
    const run = await store.getExecution("run-1");
    assertEquals(run?.state, "waiting_cc");
    assertEquals(run?.error, null);
    assertEquals(run?.ccPrompt, "Summarise this");
    assertEquals(run?.output, ["kept in the execution"]);
    // Only created and updated were revived; NaN was written as null.
    assertEquals(run?.variables, {
      startedAt: CREATED.toISOString(),
      result: null,
      nested: { list: [1, [2]] },
    });
    assertEquals((await store.listExecutions()).map((e) => e.id), ["group/run-3", "run-1"]);
    assertEquals((await store.listExecutions({ programId: "hello" })).map((e) => e.id), ["run-1"]);
    assertEquals(await store.getOutput("run-1"), ["hello", "world", "again"]);
    assertEquals(await store.getOutput("run-1", { from: 1, limit: 1 }), ["world"]);
    assertEquals(await store.getOutput("group/run-3"), ["done"]);
    assertEquals(await store.getHistory("run-1"), []);
    assertEquals(await store.getCurrentExecutionId(), "run-1");
    assertEquals(store.problems, [{
      path: "outputs/run-1.output",
      problem: "has 1 empty line, dropped as the original CVM dropped them when reading",
      skipped: false,
    }]);
    await assertRejects(() => store.saveProgram(hello!), StorageError, "read-only");
    await assertRejects(() => store.appendOutput("run-1", ["x"]), StorageError, "read-only");
    await store.disconnect();
  });
});

Deno.test("LegacyStore reports what it cannot convert, and converts the rest", async () => {
  await withTempDir(async (root) => {
    await writeStoreWithProblems(root);
    const store = new LegacyStore(root);
    await store.connect();
    assertEquals(
      store.problems.map(({ path, skipped }) => [path, skipped]),
      [
        ["programs/no-id.json", false],
        ["executions/broken.json", true],
        ["executions/no-created.json", true],
        ["outputs/ghost.output", true],
      ],
    );
    assertStringIncludes(store.problems[0].problem, 'the file name\'s "no-id" was used');
    assertStringIncludes(store.problems[1].problem, "is not valid JSON");
    assertStringIncludes(
      store.problems[2].problem,
      'cannot be converted: field "created" is an invalid Date',
    );
    assertStringIncludes(
      store.problems[3].problem,
      'output of "ghost", which has no execution file',
    );
    assertEquals((await store.getProgram("no-id"))?.name, "No id");
    assertEquals((await store.listExecutions()).length, 2);
    await store.disconnect();
  });
});

Deno.test("migrateStore() from cvm-legacy: copies what converts and proves it equal", async () => {
  await withTempDir(async (root) => {
    await writeCleanStore(root);
    const source = new LegacyStore(root);
    await source.connect();
    const target = new MemoryStorageAdapter();
    await target.connect();
    const report = await migrateStore(source, target);
    assert(report.equal, JSON.stringify(report.proof));
    assertEquals(report.executions.copied, 2);
    assertEquals(report.outputs.appended, 4);
    await assertSameStore(source, target);
    assertEquals(await target.getOutput("run-1"), ["hello", "world", "again"]);
  });
});

Deno.test({
  name: "cvm-storage migrate --from cvm-legacy:DIR --to DIR: the file backend reads it back",
  ignore: !canRun,
  async fn() {
    await withTempDir(async (dir) => {
      const legacy = join(dir, "legacy");
      const data = join(dir, "data");
      await writeCleanStore(legacy);
      const before = await snapshotDir(legacy);
      const result = await runCli(["migrate", "--from", `cvm-legacy:${legacy}`, "--to", data]);
      assertEquals(result.code, 0, result.stderr + result.stdout);
      assertStringIncludes(result.stdout, "The copy is equal to the source");
      assertStringIncludes(result.stdout, "converted: outputs/run-1.output has 1 empty line");
      assertEquals(await snapshotDir(legacy), before, "the original directory is untouched");

      const storage = new FileStorageAdapter(data);
      await storage.connect();
      const original = new LegacyStore(legacy);
      await original.connect();
      await assertSameStore(original, storage);
      assertEquals((await storage.getExecution("group/run-3"))?.state, "COMPLETED");
      assertEquals((await storage.getProgram("hello"))?.created, CREATED);
      assertEquals(await storage.getOutput("run-1"), ["hello", "world", "again"]);
      assertEquals(await storage.getCurrentExecutionId(), "run-1");
      await storage.disconnect();

      const again = await runCli([
        "migrate",
        "--from",
        `cvm-legacy:${legacy}`,
        "--to",
        data,
        "--json",
      ]);
      assertEquals(again.code, 0, again.stderr);
      const report = JSON.parse(again.stdout);
      assertEquals([report.executions.copied, report.executions.complete], [0, 2]);
    });
  },
});

Deno.test({
  name: "cvm-storage migrate from cvm-legacy: lists what it could not convert and exits 1",
  ignore: !canRun,
  async fn() {
    await withTempDir(async (dir) => {
      const legacy = join(dir, "legacy");
      await writeStoreWithProblems(legacy);
      const result = await runCli([
        "migrate",
        "--from",
        `cvm-legacy:${legacy}`,
        "--to",
        join(dir, "data"),
      ]);
      assertEquals(result.code, 1, result.stderr);
      assertStringIncludes(
        result.stdout,
        "not converted: executions/broken.json is not valid JSON",
      );
      assertStringIncludes(
        result.stdout,
        "not converted: executions/no-created.json cannot be converted",
      );
      assertStringIncludes(result.stdout, "not converted: outputs/ghost.output");
      assertStringIncludes(result.stdout, "The copy is equal to the source");
      const verify = await runCli(["verify", `cvm-legacy:${legacy}`]);
      assertEquals(verify.code, 1);
      assertStringIncludes(verify.stdout, "executions/broken.json: is not valid JSON");
    });
  },
});
