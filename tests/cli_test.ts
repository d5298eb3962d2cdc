// The `cvm-storage` command's core functions, in process, on the memory adapter: export and
// import, the exactly-once output copy, migration (interrupted and resumed), digests,
// inspect, show, the API check of verify, and the command line's usage errors.

import {
  assert,
  assertEquals,
  assertFalse,
  assertMatch,
  assertRejects,
  assertStringIncludes,
  assertThrows,
} from "@std/assert";
import { formatJson } from "../src/codec.ts";
import { checkRecord, decodeRecord } from "../src/records.ts";
import { documentRecord } from "../src/cli/_document.ts";
import { MemoryStorageAdapter, type StorageAdapter, StorageError } from "../mod.ts";
import { main } from "../src/cli/mod.ts";
import { appendMissingOutput } from "../src/cli/_append_missing.ts";
import { canonicalJson, summarizeStore } from "../src/cli/_digest.ts";
import { UsageError } from "../src/cli/_args.ts";
import { parseStoreSpec } from "../src/cli/_store.ts";
import { verifyThroughApi } from "../src/cli/_verify_api.ts";
import { Findings } from "../src/cli/_findings.ts";
import { exportStore } from "../src/cli/export.ts";
import { importLines } from "../src/cli/import.ts";
import { formatInspect, inspectStore } from "../src/cli/inspect.ts";
import { migrateStore } from "../src/cli/migrate.ts";
import { showItem } from "../src/cli/show.ts";
import { assertSameStore, failingAfter, fillStore, losingFirstAppendReply } from "./_cli.ts";
import { makeExecution, makeHistory, makeProgram, withTempDir } from "./_utils.ts";

async function memory(): Promise<MemoryStorageAdapter> {
  const storage = new MemoryStorageAdapter();
  await storage.connect();
  return storage;
}

async function filled(seed = 1): Promise<MemoryStorageAdapter> {
  const storage = await memory();
  await fillStore(storage, { programs: 7, executions: 23, history: 160, lines: 2600, seed });
  return storage;
}

async function exported(storage: StorageAdapter): Promise<string> {
  let text = "";
  await exportStore(storage, (chunk) => {
    text += chunk;
    return Promise.resolve();
  });
  return text;
}

async function* linesOf(text: string): AsyncGenerator<string> {
  for (const line of text.split("\n")) yield line;
}

Deno.test("exportStore() then importLines() into an empty store, then exportStore(): the same bytes", async () => {
  const source = await filled();
  const first = await exported(source);
  const target = await memory();
  const report = await importLines(target, linesOf(first));
  assertEquals(report.problems, []);
  assertEquals(report.counts.programs, 7);
  assertEquals(report.counts.executions, 23);
  assertEquals(report.counts.history, 160);
  assertEquals(report.counts.metadata, 1);
  const second = await exported(target);
  assertEquals(second, first);
  await assertSameStore(source, target);
});

Deno.test("exportStore() writes one {collection, document} line per record, outputs in chunks of 1000 lines", async () => {
  const storage = await memory();
  await storage.saveProgram(makeProgram({ created: new Date(0), bytecode: new Uint8Array([1]) }));
  await storage.saveExecution(makeExecution({ pc: NaN, variables: { $x: -0 } }));
  await storage.saveHistory(makeHistory({ step: -1 }));
  await storage.appendOutput("e1", Array.from({ length: 1500 }, (_, i) => `l${i}`));
  await storage.setCurrentExecutionId("e1");
  const lines = (await exported(storage)).trimEnd().split("\n").map((line) => JSON.parse(line));
  assertEquals(lines.map((line) => line.collection), [
    "programs",
    "executions",
    "history",
    "outputs",
    "outputs",
    "metadata",
  ]);
  assertEquals(lines[0].document._id, "p1");
  assertEquals(lines[0].document.created, { $date: "1970-01-01T00:00:00.000Z" });
  assertEquals(lines[0].document.bytecode, { $binary: { base64: "AQ==", subType: "00" } });
  // NaN, -0 and `$`-keys: as Extended JSON, or in the MongoDB mapping's tagged form.
  const execution = decodeRecord("execution", documentRecord("execution", lines[1].document), "e1");
  assertEquals([execution.pc, execution.variables], [NaN, { $x: -0 }]);
  assertEquals(lines[2].document._id, "e1/-1/2026-01-02T03:04:05.678Z");
  assertEquals(
    [
      lines[3].document._id,
      lines[3].document.start,
      lines[3].document.end,
      lines[3].document.lines.length,
    ],
    ["e1/0", 0, 1000, 1000],
  );
  assertEquals([lines[4].document.start, lines[4].document.end], [1000, 1500]);
  assertEquals(lines[5].document, { _id: "current", currentExecutionId: "e1" });
});

Deno.test("exportStore() with a collection writes its bare documents only", async () => {
  const storage = await filled();
  let text = "";
  const counts = await exportStore(storage, (chunk) => {
    text += chunk;
    return Promise.resolve();
  }, { collection: "executions" });
  const documents = text.trimEnd().split("\n").map((line) => JSON.parse(line));
  assertEquals(documents.length, 23);
  assertEquals(counts.executions, 23);
  assertEquals(counts.history, 0);
  assert(
    documents.every((document) => document._id === document.id && !("collection" in document)),
  );
  const target = await memory();
  const report = await importLines(target, linesOf(text), { collection: "executions" });
  assertEquals(report.problems, []);
  assertEquals((await target.listExecutions()).length, 23);
});

Deno.test("importLines() of the same file twice changes nothing: no duplicate output, no conflict", async () => {
  const source = await filled(2);
  const text = await exported(source);
  const target = await memory();
  await importLines(target, linesOf(text));
  const again = await importLines(target, linesOf(text));
  assertEquals(again.problems, []);
  assertEquals(await exported(target), text);
  await assertSameStore(source, target);
});

Deno.test("importLines() reports each line it cannot import by number, and imports the rest", async () => {
  const good = await memory();
  await good.saveProgram(makeProgram({ id: "ok" }));
  await good.saveExecution(makeExecution());
  await good.saveHistory(makeHistory());
  await good.appendOutput("e1", ["a", "b"]);
  const lines = (await exported(good)).trimEnd().split("\n");
  const target = await memory();
  await target.saveHistory(makeHistory({ pc: 99 })); // same key, different entry
  await target.appendOutput("e1", ["different"]);
  const text = [
    "not json",
    '{"collection":"nowhere","document":{}}',
    '{"collection":"programs","document":{"_id":"x","id":"x"}}',
    ...lines,
    "",
  ].join("\n");
  const report = await importLines(target, linesOf(text));
  assertEquals(report.problems.map((p) => p.line), [1, 2, 3, 6, 7]);
  assertMatch(report.problems[0].message, /^not valid JSON/);
  assertMatch(report.problems[1].message, /^not \{"collection"/);
  assertStringIncludes(report.problems[2].message, 'field "name"');
  assertStringIncludes(report.problems[3].message, "already stored under that key");
  assertStringIncludes(report.problems[4].message, "line 0 differs");
  assertEquals((await target.getProgram("ok"))?.id, "ok");
  assertEquals((await target.getExecution("e1"))?.id, "e1");
  assertEquals(await target.getOutput("e1"), ["different"], "nothing appended after a mismatch");
});

Deno.test("appendMissingOutput() appends each line once however often it is repeated", async () => {
  const storage = await memory();
  assertEquals(await appendMissingOutput(storage, "e1", 0, ["a", "b"]), 2);
  assertEquals(await appendMissingOutput(storage, "e1", 0, ["a", "b"]), 0);
  assertEquals(await appendMissingOutput(storage, "e1", 2, ["c", "d"]), 2);
  assertEquals(await appendMissingOutput(storage, "e1", 1, ["b", "c", "d", "e"]), 1);
  assertEquals(await storage.getOutput("e1"), ["a", "b", "c", "d", "e"]);
  await assertRejects(
    () => appendMissingOutput(storage, "e1", 1, ["x"]),
    StorageError,
    "line 1 differs",
  );
  await assertRejects(
    () => appendMissingOutput(storage, "e2", 3, ["x"]),
    StorageError,
    "fewer than the 3 lines",
  );
  assertEquals(await storage.getOutput("e2"), []);
});

Deno.test("appendMissingOutput() after a lost reply (maybeStored) reads again and appends nothing twice", async () => {
  const inner = await memory();
  const storage = losingFirstAppendReply(inner);
  assertEquals(await appendMissingOutput(storage, "e1", 0, ["a", "b"]), 0);
  assertEquals(await inner.getOutput("e1"), ["a", "b"]);
});

Deno.test("migrateStore() copies every collection and proves the copy equal; a second run copies nothing", async () => {
  const source = await filled(3);
  const target = await memory();
  const report = await migrateStore(source, target, { pageSize: 7 });
  assert(report.equal, JSON.stringify(report.proof));
  assertEquals(report.problems, []);
  assertEquals(report.executions, { copied: 23, complete: 0 });
  assertEquals(report.history.saved, 160);
  assertEquals(report.outputs.appended, 2600);
  assertEquals(report.proof.map((row) => [row.collection, row.source.count]), [
    ["programs", 7],
    ["executions", 23],
    ["history", 160],
    ["outputs", 2600],
    ["metadata", 1],
  ]);
  await assertSameStore(source, target);
  const again = await migrateStore(source, target, { pageSize: 7 });
  assert(again.equal);
  assertEquals(again.programs, { copied: 0, unchanged: 7 });
  assertEquals(again.executions, { copied: 0, complete: 23 });
  assertEquals([again.history.saved, again.outputs.appended, again.current.changed], [0, 0, false]);
});

Deno.test("migrateStore() interrupted after any number of writes and run again ends equal, nothing duplicated", async () => {
  const source = await filled(4);
  let writes = 0;
  await migrateStore(source, failingAfter(await memory(), Infinity, () => writes++));
  assert(writes > 200, `${writes} writes`);
  for (let crashAfter = 0; crashAfter < writes; crashAfter += Math.ceil(writes / 17)) {
    const target = await memory();
    await assertRejects(
      () => migrateStore(source, failingAfter(target, crashAfter), { pageSize: 5, concurrency: 3 }),
      Error,
      "simulated crash",
    );
    const report = await migrateStore(source, target, { pageSize: 5, concurrency: 3 });
    assert(report.equal, `after a crash at write ${crashAfter}: ${JSON.stringify(report.proof)}`);
    await assertSameStore(source, target);
  }
});

Deno.test("migrateStore() leaves an execution uncopied when the target holds a different history entry", async () => {
  const source = await memory();
  await source.saveExecution(makeExecution());
  await source.saveHistory(makeHistory());
  const target = await memory();
  await target.saveHistory(makeHistory({ pc: 42 }));
  const report = await migrateStore(source, target);
  assertFalse(report.equal);
  assertEquals(report.problems.length, 1);
  assertStringIncludes(report.problems[0], "already stored under that key");
  assertEquals(report.executions.copied, 0);
  assertEquals(await target.getExecution("e1"), null, "not marked as copied");
  assertEquals(report.proof.find((row) => row.collection === "history")?.equal, false);
});

Deno.test("summarizeStore() digests do not depend on field order, and change with any value", async () => {
  const a = await memory();
  const b = await memory();
  await a.saveExecution(makeExecution({ variables: { x: 1, y: 2 } }));
  await b.saveExecution({ ...makeExecution({ variables: { y: 2, x: 1 } }) });
  assertEquals(await summarizeStore(a), await summarizeStore(b));
  await b.saveExecution(makeExecution({ variables: { y: 2, x: -0 } }));
  assert(
    (await summarizeStore(a)).executions.sha256 !== (await summarizeStore(b)).executions.sha256,
  );
  assertEquals(
    canonicalJson({ b: [1, { d: 1, c: 2 }], a: null }),
    '{"a":null,"b":[1,{"c":2,"d":1}]}',
  );
});

Deno.test("inspectStore() counts each collection, executions by state, and the newest executions", async () => {
  const storage = await filled(5);
  const report = await inspectStore(storage, { newest: 3 });
  assertEquals(report.collections.programs.count, 7);
  assertEquals(report.collections.executions.count, 23);
  assertEquals(report.collections.history.count, 160);
  assertEquals(report.collections.outputs.count, 2600);
  assertEquals(report.collections.metadata.count, 1);
  assertEquals(Object.values(report.states).reduce((a, b) => a + b, 0), 23);
  assertEquals(report.states.ready, 4);
  assertEquals(report.newest.length, 3);
  // Executions are created a second apart, and every third updated half a second later.
  assertEquals(report.newest.map((e) => e.id), ["e/22/..", "Exec 21", "exec-00020"]);
  assertEquals(report.current, await storage.getCurrentExecutionId());
  const text = formatInspect(report, "memory");
  assertMatch(text, /\n {2}history +160 +[\d.]+ KiB +[0-9a-f]{16}\n/);
  assertEquals(report.collections, await summarizeStore(storage), "inspect shows the digests");
});

Deno.test("showItem() prints a record as the codec's pretty Extended JSON", async () => {
  const storage = await memory();
  const program = makeProgram({ bytecode: new Uint8Array([1, 2]), extra: NaN });
  await storage.saveProgram(program);
  await storage.saveHistory(makeHistory({ step: 1 }));
  await storage.saveHistory(makeHistory({ step: 2 }));
  await storage.appendOutput("e1", ["one", "two"]);
  let text = "";
  const write = (chunk: string) => {
    text += chunk;
    return Promise.resolve();
  };
  assert(await showItem(storage, "program", "p1", write));
  assertEquals(text, formatJson(checkRecord("program", program).json));
  assertStringIncludes(text, '"bytecode": { "$binary": { "base64": "AQI=", "subType": "00" } }');
  text = "";
  assert(await showItem(storage, "history", "e1", write, { history: { reverse: true, limit: 1 } }));
  assertEquals(JSON.parse(text).map((entry: { step: number }) => entry.step), [2]);
  text = "";
  assert(await showItem(storage, "output", "e1", write, { json: true }));
  assertEquals(JSON.parse(text), ["one", "two"]);
  text = "";
  assertFalse(await showItem(storage, "execution", "nope", write));
  assertFalse(await showItem(storage, "output", "nope", write, { json: true }));
  assertEquals(text, "[]\n");
});

Deno.test("verifyThroughApi() reports history keys out of order or there twice, and failing reads", async () => {
  const storage = await memory();
  await storage.saveExecution(makeExecution());
  await storage.saveExecution(makeExecution({ id: "e2" }));
  const entries = [makeHistory({ step: 2 }), makeHistory({ step: 1 }), makeHistory({ step: 1 })];
  const broken = new Proxy(storage, {
    get(target, property) {
      const value = Reflect.get(target, property, target);
      if (property === "getHistory") {
        return (id: string) =>
          id === "e1" ? Promise.resolve(entries) : Promise.reject(new StorageError("cannot read"));
      }
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  const findings = new Findings();
  const counts = await verifyThroughApi(broken, findings);
  assertEquals(counts.executions, 2);
  assertEquals(findings.list.map((f) => [f.where, f.message]), [
    ['history of "e1"', "the key (step 1, 2026-01-02T03:04:05.678Z) is out of order"],
    ['history of "e1"', "the key (step 1, 2026-01-02T03:04:05.678Z) is there twice"],
    ['history of "e2"', "cannot read"],
  ]);
});

Deno.test("parseStoreSpec() reads directories, file: and file:// URLs, MongoDB URIs and cvm-legacy:", () => {
  assertEquals(parseStoreSpec(undefined, "x"), { kind: "default" });
  assertEquals(parseStoreSpec("./data", "x"), { kind: "file", dataDir: "./data" });
  assertEquals(parseStoreSpec("file:data", "x"), { kind: "file", dataDir: "data" });
  assertEquals(parseStoreSpec("file:///tmp/a%20b", "x"), { kind: "file", dataDir: "/tmp/a b" });
  assertEquals(parseStoreSpec("C:\\data", "x"), { kind: "file", dataDir: "C:\\data" });
  assertEquals(parseStoreSpec("mongodb+srv://u:p@h/db", "x"), {
    kind: "mongodb",
    uri: "mongodb+srv://u:p@h/db",
  });
  assertEquals(parseStoreSpec("cvm-legacy:/old", "x"), { kind: "legacy", dataDir: "/old" });
  assertThrows(() => parseStoreSpec("ftp://x", "x"), UsageError, 'unknown store "ftp:…"');
  assertThrows(() => parseStoreSpec("", "x"), UsageError);
  assertThrows(() => parseStoreSpec("file:", "x"), UsageError);
});

/** Runs `main` in process, capturing its output. */
async function run(args: string[], env: Record<string, string | undefined> = {}) {
  let stdout = "";
  let stderr = "";
  const code = await main(args, {
    stdout: (text) => void (stdout += text),
    stderr: (text) => void (stderr += text),
    env,
  });
  return { code, stdout, stderr };
}

Deno.test("main() prints help for every command with --help, exit status 0", async () => {
  const top = await run(["--help"]);
  assertEquals(top.code, 0);
  for (const command of ["inspect", "show", "verify", "export", "import", "migrate"]) {
    assertStringIncludes(top.stdout, `  ${command} `);
    const help = await run([command, "--help"]);
    assertEquals(help.code, 0, command);
    assertMatch(help.stdout, new RegExp(`^Usage: cvm-storage ${command}`), command);
    assertEquals((await run(["help", command])).stdout, help.stdout);
  }
  const none = await run([]);
  assertEquals(none.code, 2);
  assertStringIncludes(none.stderr, "Usage: cvm-storage <command>");
});

Deno.test("main() exits with status 2 and says what is wrong for a wrong command line", async () => {
  const cases: [string[], RegExp][] = [
    [["frobnicate"], /unknown command "frobnicate"; the commands are inspect, show/],
    [["inspect", "--bogus"], /Unknown option '--bogus'/],
    [["inspect", "a", "b"], /takes at most 1 positional argument; unexpected "b"/],
    [["inspect", "a", "--store", "b"], /name the store once/],
    [["inspect", "--newest", "0"], /--newest must be a positive integer, not "0"/],
    [["show", "widget", "x"], /cannot show "widget"/],
    [["show", "program"], /"show program" needs an id/],
    [["show", "current", "x"], /"show current" takes no id/],
    [["show", "history", "e1", "--from-step", "1.5"], /--from-step must be an integer/],
    [["export", "--collection", "stuff"], /unknown collection "stuff"/],
    [["import"], /"import" needs an argument/],
    [["migrate", "--from", "a"], /migrate needs both --from STORE and --to STORE/],
    [["migrate", "--from", "a", "--to", "cvm-legacy:b"], /cvm-legacy: stores are read-only/],
    [["verify", "gopher://x"], /unknown store "gopher:…"/],
  ];
  for (const [args, message] of cases) {
    const result = await run(args);
    assertEquals(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
    assertMatch(result.stderr, /^error: /);
    assertMatch(result.stderr, message);
    assertMatch(result.stderr, /Run "cvm-storage( \w+)? --help" for usage\.\n$/);
    assertEquals(result.stdout, "");
  }
});

Deno.test("main() exits with status 1 for a missing data directory, and creates none", async () => {
  await withTempDir(async (dir) => {
    const missing = `${dir}/nothing-here`;
    for (
      const args of [["inspect", missing], ["show", "program", "p1", "-s", missing], [
        "export",
        "-s",
        missing,
      ]]
    ) {
      const result = await run(args);
      assertEquals(result.code, 1, args.join(" "));
      assertStringIncludes(result.stderr, `error: There is no data directory at "${missing}"`);
    }
    await assertRejects(() => Deno.stat(missing), Deno.errors.NotFound);
  });
});

Deno.test("main() without a store opens what createStorage() would, from the environment", async () => {
  await withTempDir(async (dir) => {
    const result = await run(["inspect", "--json"], { CVM_DATA_DIR: dir });
    assertEquals(result.code, 0, result.stderr);
    assertEquals(JSON.parse(result.stdout).store, `file:${dir}`);
    const memoryType = await run(["inspect"], { CVM_STORAGE_TYPE: "memory" });
    assertEquals(memoryType.code, 2);
    assertStringIncludes(memoryType.stderr, 'CVM_STORAGE_TYPE is "memory"');
    const noUri = await run(["inspect"], { CVM_STORAGE_TYPE: "mongodb" });
    assertEquals(noUri.code, 1);
    assertStringIncludes(noUri.stderr, "needs a connection string");
  });
});
