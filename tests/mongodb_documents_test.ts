// What the MongoDB backend stores, as the plain driver (and mongosh, and the user's own
// queries) sees it: native documents, BSON dates, the indexes, the tagged form; and what
// it reads that others wrote: the original CVM's documents and version 0.1's.

import {
  assert,
  assertEquals,
  assertFalse,
  assertInstanceOf,
  assertMatch,
  assertRejects,
  assertStringIncludes,
} from "@std/assert";
import type { Db } from "mongodb";
import {
  ConnectionError,
  CorruptRecordError,
  type Execution,
  MongoDBAdapter,
  ValidationError,
} from "../mod.ts";
import { checkRecord } from "../src/records.ts";
import { TAG } from "../src/document.ts";
import {
  dropDatabase,
  freshDbName,
  reportMissingServer,
  serverTest,
  withDatabase,
  withDb,
  withPrefilled,
} from "./_mongodb.ts";
import { makeExecution, makeHistory, makeProgram } from "./_utils.ts";

reportMissingServer("mongodb_documents_test.ts");

const T0 = new Date("2026-01-02T03:04:05.678Z");
const at = (ms: number) => new Date(T0.getTime() + ms);

serverTest(
  "MongoDBAdapter stores records the plain driver finds by state, programId and step range, with BSON dates",
  async (uri) => {
    await withDatabase(uri, async ([storage], dbName) => {
      for (const [id, programId, state] of [["e1", "p1", "running"], ["e2", "p1", "done"]]) {
        await storage.saveExecution(makeExecution({ id, programId, state, created: T0 }));
      }
      await storage.saveExecution(makeExecution({ id: "e3", programId: "p2", state: "running" }));
      for (let step = 0; step < 10; step++) {
        await storage.saveHistory(makeHistory({ executionId: "e1", step, timestamp: at(step) }));
      }
      await withDb(uri, dbName, async (db) => {
        const ids = async (collection: string, filter: Record<string, unknown>) =>
          (await db.collection(collection).find(filter).sort({ id: 1 }).toArray()).map((d) => d.id);
        assertEquals(await ids("executions", { state: "running" }), ["e1", "e3"]);
        assertEquals(await ids("executions", { programId: "p1" }), ["e1", "e2"]);
        assertEquals(await ids("executions", { programId: "p1", state: "done" }), ["e2"]);
        const steps = await db.collection("history")
          .find({ executionId: "e1", step: { $gte: 3, $lte: 5 } }).sort({ step: 1 }).toArray();
        assertEquals(steps.map((h) => h.step), [3, 4, 5]);
        for (const entry of steps) assertInstanceOf(entry.timestamp, Date);
        const e1 = await db.collection("executions").findOne({ id: "e1" });
        assertInstanceOf(e1!.created, Date);
        assertEquals(e1!.created, T0);
        // Dates compare as dates on the server.
        assertEquals(
          await db.collection("history").countDocuments({ timestamp: { $gte: at(7) } }),
          3,
        );
      });
    });
  },
);

serverTest(
  "MongoDBAdapter stores one plain document per record, in every collection",
  async (uri) => {
    await withDatabase(uri, async ([storage], dbName) => {
      await storage.saveProgram(
        makeProgram({ id: "p1", bytecode: new Uint8Array([1, 2]), created: T0 }),
      );
      await storage.saveExecution(
        makeExecution({ id: "e1", programId: "p1", error: null, created: T0, updated: at(1) }),
      );
      await storage.saveHistory(makeHistory({ executionId: "e1", step: 7, timestamp: T0 }));
      await storage.appendOutput("e1", ["hello", "world"]);
      await storage.appendOutput("e1", ["again"]);
      await storage.setCurrentExecutionId("e1");
      await withDb(uri, dbName, async (db) => {
        const all = (name: string) => db.collection(name).find().sort({ _id: 1 }).toArray();
        const [program] = await all("programs");
        assertEquals(program._id, "p1");
        assertEquals(program.id, "p1");
        assertEquals(program.created, T0);
        assertEquals((program.bytecode as { sub_type: number }).sub_type, 0, "BSON binary");
        assertEquals(await all("executions"), [{
          _id: "e1",
          id: "e1",
          programId: "p1",
          state: "running",
          pc: 1,
          stack: [1],
          variables: { x: 1 },
          output: ["hello"],
          created: T0,
          error: null,
          updated: at(1),
        }]);
        assertEquals(await all("history"), [{
          _id: "e1/7/2026-01-02T03:04:05.678Z",
          executionId: "e1",
          step: 7,
          pc: 0,
          instruction: "PUSH 1",
          stack: [1],
          variables: {},
          timestamp: T0,
        }]);
        assertEquals(await all("outputs"), [
          { _id: "e1/0", executionId: "e1", start: 0, end: 2, lines: ["hello", "world"] },
          { _id: "e1/2", executionId: "e1", start: 2, end: 3, lines: ["again"] },
        ]);
        assertEquals(await all("metadata"), [{ _id: "current", currentExecutionId: "e1" }]);
      });
    });
  },
);

serverTest("MongoDBAdapter.connect() creates the contract's indexes, once", async (uri) => {
  await withDatabase(uri, async ([a], dbName) => {
    await a.disconnect();
    await a.connect();
    await withDb(uri, dbName, async (db) => {
      const keys = async (name: string) =>
        (await db.collection(name).indexes()).map((index) => ({
          key: index.key,
          unique: index.unique === true,
        }));
      assertEquals(await keys("programs"), [
        { key: { _id: 1 }, unique: false },
        { key: { id: 1 }, unique: true },
      ]);
      assertEquals(await keys("executions"), [
        { key: { _id: 1 }, unique: false },
        { key: { id: 1 }, unique: true },
        { key: { programId: 1 }, unique: false },
        { key: { state: 1 }, unique: false },
      ]);
      assertEquals(await keys("history"), [
        { key: { _id: 1 }, unique: false },
        { key: { executionId: 1, step: 1, timestamp: 1 }, unique: true },
      ]);
      assertEquals(await keys("outputs"), [
        { key: { _id: 1 }, unique: false },
        { key: { executionId: 1, end: 1 }, unique: false },
      ]);
      // Unique means unique: the server itself refuses a second document with the same id.
      await db.collection("programs").insertOne({ id: "p-dup" });
      const error = await assertRejects(() => db.collection("programs").insertOne({ id: "p-dup" }));
      assertEquals((error as { code?: number }).code, 11000);
    });
  }, 2);
});

serverTest(
  "MongoDBAdapter keeps what the server cannot hold in the tagged form, and reads it back",
  async (uri) => {
    await withDatabase(uri, async ([storage], dbName) => {
      const variables = {
        plain: "queryable",
        half: "😀".slice(0, 1),
        nan: NaN,
        negZero: -0,
        inf: -Infinity,
        matrix: [[1, 2], [3, 4]],
        "$where": "x",
        "a.b": 1,
        "nul\0": 2,
        "line\nbreak": 3,
        [TAG]: "mine",
      };
      const execution = makeExecution({ id: "e1", variables, stack: [[NaN]], pc: NaN });
      await storage.saveExecution(execution);
      assertEquals(await storage.getExecution("e1"), execution);
      await withDb(uri, dbName, async (db) => {
        const stored = await db.collection("executions").findOne({
          "variables.plain": "queryable",
        });
        assert(stored !== null, "an ordinary nested field is queryable");
        const info = await db.command({ buildInfo: 1 });
        const ferret = typeof info.ferretdbVersion === "string";
        const v = stored!.variables as Record<string, unknown>;
        assertEquals(v.half, { [TAG]: '"\\ud83d"' });
        const extra = JSON.parse(v[TAG] as string);
        assertEquals(extra[TAG], "mine", "a user key that looks like the tag is kept aside");
        assertEquals(extra["$$where"], "x");
        assertEquals(extra["a.b"], 1);
        assertEquals(extra["nul\0"], 2);
        if (ferret) {
          assertEquals(v.nan, { [TAG]: '{"$numberDouble":"NaN"}' });
          assertEquals(v.negZero, { [TAG]: '{"$numberDouble":"-0.0"}' });
          assertEquals(v.matrix, [{ [TAG]: "[1,2]" }, { [TAG]: "[3,4]" }]);
          assertEquals(extra["line\nbreak"], 3);
        } else {
          assert(Number.isNaN(v.nan), "NaN is a double on MongoDB");
          assertEquals(v.matrix, [[1, 2], [3, 4]]);
        }
      });
    });
  },
);

serverTest(
  "MongoDBAdapter never returns _id, and never adds one to the caller's objects",
  async (uri) => {
    await withDatabase(uri, async ([storage]) => {
      const records = [makeProgram(), makeExecution(), makeHistory()] as const;
      const before = records.map((record) => structuredClone(record));
      await storage.saveProgram(records[0]);
      await storage.saveExecution(records[1]);
      await storage.saveHistory(records[2]);
      await storage.saveProgram(records[0]);
      await storage.saveExecution(records[1]);
      await storage.saveHistory(records[2]);
      for (const [i, record] of records.entries()) {
        assertFalse(Object.hasOwn(record, "_id"), "the driver added _id to the caller's object");
        assertEquals(record, before[i]);
      }
      const read: object[] = [
        (await storage.getProgram("p1"))!,
        (await storage.getExecution("e1"))!,
        ...await storage.getHistory("e1"),
        ...await storage.listPrograms(),
        ...await storage.listExecutions({ programId: "p1", state: "running" }),
      ];
      assertEquals(read.length, 5);
      for (const record of read) assertFalse(Object.hasOwn(record, "_id"), "no _id");
    });
  },
);

/** Documents as the original CVM's MongoDB adapter wrote them (driver ObjectId `_id`). */
async function fillOriginal(db: Db): Promise<void> {
  await db.collection("programs").insertOne({
    id: "p1",
    name: "Original",
    source: "print(1)",
    bytecode: [{ op: 1, arg: "Hello" }],
    created: T0,
  });
  await db.collection("executions").insertMany([
    {
      id: "e1",
      programId: "p1",
      state: "waiting_cc",
      pc: 4,
      stack: [1, "two"],
      variables: { x: 1.5, when: at(1) },
      error: null,
      created: T0,
      updated: at(2),
    },
    { id: "e2", programId: "p1", state: "READY", pc: 0, stack: [], variables: {}, created: T0 },
  ]);
  await db.collection("history").insertMany([1, 2, 10].map((step) => ({
    executionId: "e1",
    step,
    pc: step,
    instruction: "NOP",
    stack: [],
    variables: {},
    timestamp: at(step),
  })));
  await db.collection("outputs").insertOne({ executionId: "e1", lines: ["one", "two"] });
  await db.collection("metadata").insertOne({ _id: "current", currentExecutionId: "e1" } as never);
}

serverTest("MongoDBAdapter reads the original CVM's documents exactly", async (uri) => {
  await withPrefilled(uri, fillOriginal, async (storage) => {
    assertEquals(await storage.getProgram("p1"), {
      id: "p1",
      name: "Original",
      source: "print(1)",
      bytecode: [{ op: 1, arg: "Hello" }],
      created: T0,
    });
    const e1: Execution = {
      id: "e1",
      programId: "p1",
      state: "waiting_cc",
      pc: 4,
      stack: [1, "two"],
      variables: { x: 1.5, when: at(1) },
      error: null,
      created: T0,
      updated: at(2),
    };
    assertEquals(await storage.getExecution("e1"), e1);
    assertEquals((await storage.listExecutions()).map((e) => e.id), ["e1", "e2"]);
    assertEquals((await storage.listExecutions({ state: "READY" })).map((e) => e.id), ["e2"]);
    assertEquals((await storage.listPrograms()).map((p) => p.id), ["p1"]);
    assertEquals((await storage.getHistory("e1")).map((h) => h.step), [1, 2, 10]);
    assertEquals((await storage.getHistory("e1", { reverse: true, limit: 1 }))[0].step, 10);
    assertEquals(await storage.getOutput("e1"), ["one", "two"]);
    assertEquals(await storage.getOutput("e1", { from: 1 }), ["two"]);
    assertEquals(await storage.getCurrentExecutionId(), "e1");
  });
});

serverTest(
  "MongoDBAdapter updates the original's documents in place and appends after them",
  async (uri) => {
    await withPrefilled(uri, fillOriginal, async (storage, db) => {
      const before = await db.collection("executions").findOne({ id: "e1" });
      const changed = { ...(await storage.getExecution("e1"))!, state: "RUNNING", pc: 5 };
      await storage.saveExecution(changed);
      assertEquals(await storage.getExecution("e1"), changed);
      const after = await db.collection("executions").find({ id: "e1" }).toArray();
      assertEquals(after.length, 1, "one document per id");
      assertEquals(after[0]._id, before!._id, "it keeps its ObjectId");
      assertEquals(after[0].state, "RUNNING");
      // History next to the original's entries, the same key twice is a no-op or a conflict.
      const entry = makeHistory({ executionId: "e1", step: 3, timestamp: at(3) });
      await storage.saveHistory(entry);
      const original = (await storage.getHistory("e1", { fromStep: 2, toStep: 2 }))[0];
      await storage.saveHistory(original);
      await assertRejects(() => storage.saveHistory({ ...original, pc: 99 }), Error, "already");
      assertEquals((await storage.getHistory("e1")).map((h) => h.step), [1, 2, 3, 10]);
      // Output continues after the original's lines.
      await storage.appendOutput("e1", ["three"]);
      assertEquals(await storage.getOutput("e1"), ["one", "two", "three"]);
      assertEquals(await storage.getOutput("e1", { from: 2 }), ["three"]);
      await storage.setCurrentExecutionId(null);
      assertEquals(await storage.getCurrentExecutionId(), null);
      assertEquals(await storage.deleteExecution("e1"), true);
      assertEquals(await storage.getExecution("e1"), null);
      assertEquals(await storage.getOutput("e1"), []);
      assertEquals(await storage.getHistory("e1"), []);
      assertEquals(await storage.deleteProgram("p1"), true);
      assertEquals(await db.collection("programs").countDocuments(), 0);
    });
  },
);

/** Documents as version 0.1 of this library wrote them: the record as JSON text. */
async function fillVersion01(db: Db): Promise<void> {
  const text = (kind: "program" | "execution" | "history", record: unknown) =>
    JSON.stringify(checkRecord(kind, record).json);
  await db.collection("programs").insertOne({
    id: "p1",
    doc: text("program", makeProgram({ id: "p1", bytecode: { "$x": [at(0)] } })),
  });
  await db.collection("executions").insertMany(["e1", "e2"].map((id) => ({
    id,
    programId: "p1",
    doc: text("execution", makeExecution({ id, state: id === "e1" ? "running" : "done" })),
  })));
  await db.collection("history").insertOne({
    executionId: "e1",
    step: 0,
    timestamp: T0,
    doc: text("history", makeHistory({ executionId: "e1", step: 0, timestamp: T0 })),
  });
}

serverTest(
  "MongoDBAdapter reads version 0.1's documents and rewrites them natively on save",
  async (uri) => {
    await withPrefilled(uri, fillVersion01, async (storage, db) => {
      const program = makeProgram({ id: "p1", bytecode: { "$x": [at(0)] } });
      assertEquals(await storage.getProgram("p1"), program);
      assertEquals(await storage.getExecution("e2"), makeExecution({ id: "e2", state: "done" }));
      // `state` lives in 0.1's text: the filter still finds them.
      assertEquals((await storage.listExecutions({ state: "done" })).map((e) => e.id), ["e2"]);
      assertEquals(
        (await storage.listExecutions({ state: "running", limit: 1 })).map((e) => e.id),
        [
          "e1",
        ],
      );
      assertEquals(await storage.getHistory("e1"), [
        makeHistory({ executionId: "e1", step: 0, timestamp: T0 }),
      ]);
      await storage.saveHistory(makeHistory({ executionId: "e1", step: 0, timestamp: T0 }));

      await storage.saveProgram(program);
      await storage.saveExecution(makeExecution({ id: "e2", state: "done" }));
      const p1 = await db.collection("programs").findOne({ id: "p1" });
      assertFalse("doc" in p1!, "rewritten natively");
      assertEquals(p1!.name, program.name);
      assertEquals(await storage.getProgram("p1"), program);
      const e2 = await db.collection("executions").findOne({ id: "e2" });
      assertEquals(e2!.state, "done");
      assertEquals((await storage.listExecutions({ state: "done" })).map((e) => e.id), ["e2"]);
    });
  },
);

serverTest(
  "MongoDBAdapter.connect() names the collection and key when old data has duplicate ids",
  async (uri) => {
    const dbName = freshDbName();
    try {
      await withDb(uri, dbName, async (db) => {
        await db.collection("executions").insertMany([
          { id: "twice", programId: "p1" },
          { id: "twice", programId: "p2" },
        ]);
      });
      const storage = new MongoDBAdapter({ uri, dbName, timeoutMS: 10_000 });
      const error = await assertRejects(() => storage.connect(), ConnectionError);
      assertStringIncludes(error.message, `collection "${dbName}.executions"`);
      assertStringIncludes(error.message, 'id "twice"');
      assertStringIncludes(error.message, 'db.executions.find({ id: "twice" })');
      assertMatch(error.message, /keep one of them .* and connect again$/);
      assertFalse(storage.isConnected());
      await storage.disconnect();
    } finally {
      await dropDatabase(uri, dbName);
    }
  },
);

serverTest(
  "MongoDBAdapter reads a damaged document as CorruptRecordError naming the collection and _id",
  async (uri) => {
    await withDatabase(uri, async ([storage], dbName) => {
      await storage.saveProgram(makeProgram({ id: "good" }));
      await withDb(uri, dbName, async (db) => {
        const good = await db.collection("programs").findOne({ id: "good" });
        await db.collection("programs").insertMany([
          { _id: "no-name", id: "no-name", source: "", bytecode: [], created: T0 } as never,
          { ...good, _id: "moved", id: "moved-elsewhere" } as never,
          { ...good, _id: "bad-tag", id: "bad-tag", bytecode: { [TAG]: "{oops" } } as never,
          { _id: "old-json", id: "old-json", doc: "{oops" } as never,
        ]);
        // Version 0.1's form, whose indexed fields disagree with its text.
        await db.collection("history").insertOne({
          executionId: "e1",
          step: 5,
          timestamp: T0,
          doc: JSON.stringify(checkRecord("history", makeHistory({ step: 6 })).json),
        });
      });
      const noName = await assertRejects(() => storage.getProgram("no-name"), CorruptRecordError);
      assertStringIncludes(noName.message, `{ _id: "no-name" } in collection "${dbName}.programs"`);
      assertStringIncludes(noName.message, 'field "name" must be a string');
      assertEquals(noName.path, `${dbName}.programs`);
      await assertRejects(() => storage.getProgram("moved"), CorruptRecordError, "holds program");
      await assertRejects(
        () => storage.getProgram("bad-tag"),
        CorruptRecordError,
        "not valid JSON",
      );
      await assertRejects(() => storage.getProgram("old-json"), CorruptRecordError, '"doc"');
      await assertRejects(() => storage.listPrograms(), CorruptRecordError);
      await assertRejects(() => storage.getHistory("e1"), CorruptRecordError, "another key");
      assertEquals((await storage.getProgram("good"))?.id, "good", "other records still read");
    });
  },
);

serverTest(
  "MongoDBAdapter rejects a record over 16 MiB as BSON before sending it, though its JSON fits",
  async (uri) => {
    await withDatabase(uri, async ([storage]) => {
      // 2.2 million small integers: about 4.4 MB as JSON, about 20 MB as BSON (each item
      // carries its index as a key).
      const stack = Array.from({ length: 2_200_000 }, (_, i) => i % 10);
      assert(JSON.stringify(stack).length < 16 * 1024 * 1024);
      const execution = makeExecution({ id: "big", stack });
      const error = await assertRejects(() => storage.saveExecution(execution), ValidationError);
      assertMatch(
        error.message,
        /^Cannot save execution "big": it is \d+ bytes as a BSON document, more than the 16777216/,
      );
      assertEquals(await storage.getExecution("big"), null);
      const lines = Array.from({ length: 3 }, () => "x".repeat(6 * 1024 * 1024));
      await assertRejects(() => storage.appendOutput("big", lines), ValidationError, "BSON");
      assertEquals(await storage.getOutput("big"), []);
      const entry = makeHistory({ variables: { blob: "y".repeat(17 * 1024 * 1024) } });
      await assertRejects(() => storage.saveHistory(entry), ValidationError, "BSON");
      assertEquals(await storage.getHistory("e1"), []);
    });
  },
);
