// The `cvm-storage` command on stores with bulk reads (src/_bulk.ts; the MongoDB backend
// has them), in process, on a memory adapter that offers them too: export, inspect, the
// digests, verify and migrate read history and output in one pass per collection, never
// execution by execution, and answer exactly what they answer through the public API;
// orphans are skipped the same way on both paths (and reported by migrate and verify).

import {
  assert,
  assertEquals,
  assertFalse,
  assertRejects,
  assertStringIncludes,
} from "@std/assert";
import { BULK, type BulkOutputItem } from "../src/_bulk.ts";
import {
  CorruptRecordError,
  type History,
  MemoryStorageAdapter,
  type StorageAdapter,
} from "../mod.ts";
import { appendMissingOutput } from "../src/cli/_append_missing.ts";
import { summarizeStore } from "../src/cli/_digest.ts";
import { ByExecution, OUTPUT_PAGE, outputPages } from "../src/cli/_execution_reads.ts";
import { Findings } from "../src/cli/_findings.ts";
import { verifyThroughApi } from "../src/cli/_verify_api.ts";
import { exportStore } from "../src/cli/export.ts";
import { inspectStore } from "../src/cli/inspect.ts";
import { formatMigrate, migrateStore } from "../src/cli/migrate.ts";
import {
  assertSameStore,
  BulkMemoryAdapter,
  failingAfter,
  fillStore,
  losingFirstAppendReply,
} from "./_cli.ts";
import { makeExecution, makeHistory } from "./_utils.ts";
import { reportMissingServer, serverTest, withDatabase } from "./_mongodb.ts";
import { StorageError } from "../src/errors.ts";

reportMissingServer("cli_bulk_test.ts");

const FILL = { programs: 7, executions: 23, history: 160, lines: 2600 };

/** Fills a store, and gives one execution more than a page of output. */
async function fill<T extends StorageAdapter>(storage: T, seed: number): Promise<T> {
  await storage.connect();
  await fillStore(storage, { ...FILL, seed });
  await storage.appendOutput(
    "Exec 1",
    Array.from({ length: 2 * OUTPUT_PAGE + 7 }, (_, i) => `${i}`),
  );
  return storage;
}

/** History and output under ids with no execution record: before, between and after them. */
async function addOrphans(storage: StorageAdapter): Promise<void> {
  for (const executionId of ["0 first", "Exec 10/orphan", "zz last"]) {
    await storage.saveHistory(makeHistory({ executionId, step: 3 }));
    await storage.appendOutput(executionId, ["orphan line"]);
  }
}

async function exported(storage: StorageAdapter): Promise<string> {
  let text = "";
  await exportStore(storage, (chunk) => {
    text += chunk;
    return Promise.resolve();
  });
  return text;
}

/** The adapter without its bulk reads: the command reads it execution by execution. */
function withoutBulk<T extends StorageAdapter>(storage: T): T {
  return new Proxy(storage, {
    get(target, property) {
      if (property === BULK) return undefined;
      const value = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

Deno.test("exportStore(), summarizeStore() and inspectStore() read a store with bulk reads as they read it through the public API, orphans skipped", async () => {
  const bulk = await fill(new BulkMemoryAdapter({ runLines: 3 }), 1);
  await addOrphans(bulk);
  const plain = await fill(new MemoryStorageAdapter(), 1);
  const text = await exported(bulk);
  assertEquals(text, await exported(plain));
  assertFalse(text.includes("orphan"));
  assertEquals(await summarizeStore(bulk), await summarizeStore(plain));
  assertEquals(await inspectStore(bulk), await inspectStore(plain));
  assertEquals(bulk.reads.getHistory + bulk.reads.getOutput, 0, "no per-execution reads");
  assertEquals(await exported(withoutBulk(bulk)), text);
  assert(bulk.reads.getHistory + bulk.reads.getOutput > 0);
});

Deno.test("migrateStore() between stores with bulk reads reads no execution's history or output one by one, and proves the copy equal", async () => {
  const source = await fill(new BulkMemoryAdapter(), 2);
  const target = new BulkMemoryAdapter();
  await target.connect();
  const report = await migrateStore(source, target, { pageSize: 7 });
  assert(report.equal, JSON.stringify(report.proof));
  assertEquals(report.problems, []);
  assertEquals(report.orphans, []);
  assertEquals(report.executions, { copied: 23, complete: 0 });
  assertEquals(report.history.saved, 160);
  assertEquals(report.outputs.appended, FILL.lines + 2 * OUTPUT_PAGE + 7);
  assertEquals(source.reads, { getHistory: 0, getOutput: 0, getExecution: 0, getProgram: 0 });
  assertEquals(target.reads, { getHistory: 0, getOutput: 0, getExecution: 0, getProgram: 0 });
  await assertSameStore(source, target);
  const again = await migrateStore(source, target, { pageSize: 7 });
  assert(again.equal);
  assertEquals(again.executions, { copied: 0, complete: 23 });
  assertEquals([again.history.saved, again.outputs.appended], [0, 0]);
  const recheck = await migrateStore(source, target, { pageSize: 7, recheck: true });
  assert(recheck.equal);
  assertEquals([recheck.executions.copied, recheck.outputs.appended], [23, 0]);
});

for (
  const [name, makeSource, makeTarget] of [
    ["bulk → bulk", () => new BulkMemoryAdapter(), () => new BulkMemoryAdapter()],
    ["bulk → plain", () => new BulkMemoryAdapter(), () => new MemoryStorageAdapter()],
    ["plain → bulk", () => new MemoryStorageAdapter(), () => new BulkMemoryAdapter()],
  ] as const
) {
  Deno.test(`migrateStore() ${name} interrupted after any number of writes and run again ends equal, nothing duplicated`, async () => {
    const source = await fill(makeSource(), 4);
    let writes = 0;
    const counted = makeTarget();
    await counted.connect();
    await migrateStore(source, failingAfter(counted, Infinity, () => writes++), { pageSize: 5 });
    assert(writes > 200, `${writes} writes`);
    for (let crashAfter = 0; crashAfter < writes; crashAfter += Math.ceil(writes / 17)) {
      const target = makeTarget();
      await target.connect();
      await assertRejects(
        () =>
          migrateStore(source, failingAfter(target, crashAfter), { pageSize: 5, concurrency: 3 }),
        Error,
        "simulated crash",
      );
      const report = await migrateStore(source, target, { pageSize: 5, concurrency: 3 });
      assert(report.equal, `after a crash at write ${crashAfter}: ${JSON.stringify(report.proof)}`);
      assertEquals(report.problems, []);
      await assertSameStore(source, target);
    }
  });
}

Deno.test("migrateStore() from a store with bulk reads reports its orphans, copies the rest and proves it equal", async () => {
  const source = await fill(new BulkMemoryAdapter(), 5);
  await addOrphans(source);
  const target = new MemoryStorageAdapter();
  await target.connect();
  const report = await migrateStore(source, target, { pageSize: 4 });
  assert(report.equal, JSON.stringify(report.proof));
  assertEquals(report.orphans, [
    { collection: "history", path: 'history { executionId: "0 first" }' },
    { collection: "history", path: 'history { executionId: "Exec 10/orphan" }' },
    { collection: "history", path: 'history { executionId: "zz last" }' },
    { collection: "outputs", path: 'outputs { executionId: "0 first" }' },
    { collection: "outputs", path: 'outputs { executionId: "Exec 10/orphan" }' },
    { collection: "outputs", path: 'outputs { executionId: "zz last" }' },
  ]);
  assertEquals(await target.getHistory("Exec 10/orphan"), []);
  const text = formatMigrate(report, { orphans: report.orphans, legacy: [] });
  assertStringIncludes(
    text,
    'not copied: outputs { executionId: "zz last" } is outputs of an execution id that has no ' +
      "execution record",
  );
});

Deno.test("migrateStore() into a store with bulk reads leaves an execution uncopied when the target holds different output", async () => {
  const source = new BulkMemoryAdapter();
  await source.connect();
  await source.saveExecution(makeExecution());
  await source.saveExecution(makeExecution({ id: "e2" }));
  await source.appendOutput("e1", ["a", "b"]);
  await source.appendOutput("e2", ["c"]);
  const target = new BulkMemoryAdapter();
  await target.connect();
  await target.appendOutput("e1", ["a", "x"]);
  await target.appendOutput("e2", ["c"]);
  const report = await migrateStore(source, target);
  assertFalse(report.equal);
  assertEquals(report.problems.length, 1);
  assertStringIncludes(report.problems[0], 'execution "e1"');
  assertStringIncludes(report.problems[0], "line 1 differs");
  assertEquals(report.executions.copied, 1);
  assertEquals(await target.getExecution("e1"), null, "not marked as copied");
  assertEquals(await target.getOutput("e2"), ["c"], "nothing appended twice");
  assertEquals(target.reads.getOutput, 1, "only the assertion above read output one by one");
});

Deno.test("migrateStore() into a store with bulk reads saves no history entry the target holds already, and reports one it holds differently", async () => {
  const source = await fill(new BulkMemoryAdapter(), 8);
  const target = new BulkMemoryAdapter();
  await target.connect();
  const entries = await source.getHistory("Exec 5");
  for (const entry of entries.slice(1)) await target.saveHistory(entry);
  const other = await source.getHistory("e/2/..");
  await target.saveHistory({ ...other[0], pc: -1 });
  const expected = await assertRejects(() => target.saveHistory(other[0]));
  const saved: string[] = [];
  const counting = new Proxy(target, {
    get(inner, property) {
      const value = Reflect.get(inner, property, inner);
      if (property === "saveHistory") {
        return (entry: History) => {
          saved.push(entry.executionId);
          return inner.saveHistory(entry);
        };
      }
      return typeof value === "function" ? value.bind(inner) : value;
    },
  });
  const report = await migrateStore(source, counting, { pageSize: 5 });
  assertEquals(report.problems, [(expected as Error).message]);
  assertEquals(saved.filter((id) => id === "Exec 5").length, 1, "only the entry not there yet");
  assertEquals(saved.filter((id) => id === "e/2/..").length, other.length - 1);
  assertEquals(report.history.saved, 159, "held entries count as saved, the conflict not");
  assertEquals(await target.getExecution("e/2/.."), null, "not marked as copied");
  assertEquals(await target.getHistory("Exec 5"), entries);
});

Deno.test("migrateStore() from a store with bulk reads fails on a damaged record as it does through the public API", async () => {
  const source = await fill(new BulkMemoryAdapter(), 6);
  const damage = new CorruptRecordError('Cannot read history of execution "Exec 5": damaged');
  source.breakExecution("Exec 5", damage);
  for (const from of [source, withoutBulk(source)]) {
    const target = new MemoryStorageAdapter();
    await target.connect();
    const error = await assertRejects(() => migrateStore(from, target, { pageSize: 6 }));
    assertEquals(error, damage);
  }
});

Deno.test("verifyThroughApi() on a store with bulk reads reports what it reports through the public API, and notes orphans", async () => {
  const storage = await fill(new BulkMemoryAdapter(), 7);
  storage.breakExecution("Exec 5", new CorruptRecordError("damaged"));
  const plainFindings = new Findings();
  const plainCounts = await verifyThroughApi(withoutBulk(storage), plainFindings);
  await addOrphans(storage);
  const findings = new Findings();
  const counts = await verifyThroughApi(storage, findings);
  assertEquals(counts, plainCounts);
  assertEquals(
    findings.list.filter((f) => f.severity === "problem"),
    plainFindings.list,
  );
  assertEquals(plainFindings.list.map((f) => [f.where, f.message]), [
    ['history of "Exec 5"', "damaged"],
    ['output of "Exec 5"', "damaged"],
  ]);
  assertEquals(
    findings.list.filter((f) => f.severity === "note").map((f) => f.where),
    [
      'history of "0 first"',
      'history of "Exec 10/orphan"',
      'history of "zz last"',
      'output of "0 first"',
      'output of "Exec 10/orphan"',
      'output of "zz last"',
    ],
  );
  assertStringIncludes(findings.list.find((f) => f.severity === "note")!.message, "orphan");
});

Deno.test("outputPages() regroups runs into pages from each execution's first line, and ends an execution at its error", async () => {
  const error = new StorageError("damaged");
  async function* runs(): AsyncGenerator<BulkOutputItem> {
    for (let from = 0; from < 2 * OUTPUT_PAGE + 1; from += 7) {
      const count = Math.min(7, 2 * OUTPUT_PAGE + 1 - from);
      yield {
        executionId: "a",
        from,
        lines: Array.from({ length: count }, (_, i) => `${from + i}`),
      };
    }
    yield { executionId: "b", from: 0, lines: ["b0"] };
    yield { executionId: "c", from: 0, lines: ["c0"] };
    yield { executionId: "c", error };
    yield { executionId: "c", from: 1, lines: ["c1"] };
    yield { executionId: "d", from: 0, lines: ["d0"] };
  }
  const pages = [];
  for await (const page of outputPages(runs(), (id) => id !== "b")) pages.push(page);
  assertEquals(
    pages.map((p) => [p.executionId, p.from, p.lines?.length, p.lines?.[0], p.error]),
    [
      ["a", 0, OUTPUT_PAGE, "0", undefined],
      ["a", OUTPUT_PAGE, OUTPUT_PAGE, `${OUTPUT_PAGE}`, undefined],
      ["a", 2 * OUTPUT_PAGE, 1, `${2 * OUTPUT_PAGE}`, undefined],
      ["c", undefined, undefined, undefined, error],
      ["d", 0, 1, "d0", undefined],
    ],
  );
});

Deno.test("ByExecution reads up to an execution at a time, and refuses ids out of code point order", async () => {
  async function* items() {
    for (const executionId of ["a", "b", "b", "\uffff", "😀", "c"]) yield { executionId };
  }
  const stream = new ByExecution(items(), "history");
  const ids = async (last?: string) => {
    const out: string[] = [];
    for await (const item of stream.through(last)) out.push(item.executionId);
    return out;
  };
  assertEquals(await ids("a"), ["a"]);
  assertEquals(await ids("a"), []);
  assertEquals(await ids("b"), ["b", "b"]);
  const error = await assertRejects(() => ids(), StorageError);
  assertStringIncludes(error.message, 'gave execution "c" after "😀", not in code point order');
  await stream.close();
});

Deno.test("appendMissingOutput() with the target's lines known appends each line once and reads nothing", async () => {
  const storage = new BulkMemoryAdapter();
  await storage.connect();
  await storage.appendOutput("e1", ["a", "b"]);
  const known = ["a", "b"];
  assertEquals(await appendMissingOutput(storage, "e1", 0, ["a", "b", "c"], { known }), 1);
  assertEquals(await appendMissingOutput(storage, "e1", 2, ["c", "d"], { known }), 1);
  assertEquals(known, ["a", "b", "c", "d"]);
  await assertRejects(
    () => appendMissingOutput(storage, "e1", 1, ["x"], { known }),
    StorageError,
    "line 1 differs",
  );
  await assertRejects(
    () => appendMissingOutput(storage, "e1", 9, ["x"], { known }),
    StorageError,
    "fewer than the 9 lines",
  );
  assertEquals(storage.reads.getOutput, 0);
  assertEquals(await storage.getOutput("e1"), ["a", "b", "c", "d"]);
});

Deno.test("appendMissingOutput() with the target's lines known reads them again after a lost reply", async () => {
  const inner = new BulkMemoryAdapter();
  await inner.connect();
  const storage = losingFirstAppendReply(inner);
  const known: string[] = [];
  assertEquals(await appendMissingOutput(storage, "e1", 0, ["a", "b"], { known }), 0);
  assertEquals(known, ["a", "b"]);
  assertEquals(await inner.getOutput("e1"), ["a", "b"]);
});

serverTest(
  "migrateStore() memory → MongoDB (interrupted, resumed) → memory reads MongoDB in bulk, reports its orphans and proves each copy equal",
  async (uri) => {
    await withDatabase(uri, async ([mongo]) => {
      const source = await fill(new BulkMemoryAdapter(), 9);
      let writes = 0;
      await assertRejects(
        () =>
          migrateStore(source, failingAfter(mongo, 150, () => writes++), {
            pageSize: 5,
            concurrency: 3,
          }),
        Error,
        "simulated crash",
      );
      assertEquals(writes, 150);
      const there = await migrateStore(source, mongo, { pageSize: 5 });
      assert(there.equal, JSON.stringify(there.proof));
      assertEquals(there.problems, []);
      assert(there.executions.complete > 0, "resumed");
      await assertSameStore(source, mongo);

      await addOrphans(mongo);
      const back = new MemoryStorageAdapter();
      await back.connect();
      const report = await migrateStore(mongo, back, { pageSize: 4 });
      assert(report.equal, JSON.stringify(report.proof));
      assertEquals(report.orphans.map((o) => o.path), [
        'history { executionId: "0 first" }',
        'history { executionId: "Exec 10/orphan" }',
        'history { executionId: "zz last" }',
        'outputs { executionId: "0 first" }',
        'outputs { executionId: "Exec 10/orphan" }',
        'outputs { executionId: "zz last" }',
      ]);
      await assertSameStore(source, back);
      const findings = new Findings();
      await verifyThroughApi(mongo, findings);
      assertEquals(findings.list.filter((f) => f.severity === "problem"), []);
      assertEquals(findings.list.length, 6, "the orphans, noted");
    });
  },
);
