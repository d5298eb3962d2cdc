// The MongoDB backend's bulk reads (src/_bulk.ts), for the command-line tool: one cursor
// over a collection, answering item for item what getHistory and getOutput answer for
// each execution id, ids in code point order, orphans included, damaged documents as
// their execution's error in place.

import { assert, assertEquals, assertInstanceOf, assertRejects } from "@std/assert";
import {
  type BulkHistoryItem,
  type BulkOutputItem,
  type BulkReader,
  bulkReader,
} from "../src/_bulk.ts";
import { compareCodePoints } from "../src/query.ts";
import {
  CorruptRecordError,
  type History,
  MemoryStorageAdapter,
  MongoDBAdapter,
  NotConnectedError,
  type StorageAdapter,
} from "../mod.ts";
import {
  offlineTest,
  reportMissingServer,
  serverTest,
  withDatabase,
  withDb,
  withPrefilled,
} from "./_mongodb.ts";
import { makeExecution, makeHistory } from "./_utils.ts";

reportMissingServer("mongodb_bulk_test.ts");

const T0 = new Date("2026-01-02T03:04:05.678Z");
const at = (ms: number) => new Date(T0.getTime() + ms);

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

function reader(storage: StorageAdapter): BulkReader {
  const bulk = bulkReader(storage);
  if (bulk === undefined) throw new Error("the MongoDB backend offers no bulk reads");
  return bulk;
}

/** The bulk items grouped by execution, ids in the order they came. */
function byExecution<T extends { executionId: string }>(items: T[]): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const group = groups.get(item.executionId) ?? [];
    if (group.length === 0) groups.set(item.executionId, group);
    group.push(item);
  }
  return groups;
}

/** Asserts that each id comes in one run, ascending in code point order. */
function assertIdOrder(items: { executionId: string }[]): void {
  for (let i = 1; i < items.length; i++) {
    assert(
      compareCodePoints(items[i - 1].executionId, items[i].executionId) <= 0,
      `${JSON.stringify(items[i - 1].executionId)} before ${JSON.stringify(items[i].executionId)}`,
    );
  }
}

// Ids whose code point order differs from UTF-16 order ("\uffff" < "😀" by code point),
// from case order, and from the order of their prefix ("a" < "a b" < "a/b").
const IDS = ["😀", "\uffff", "é", "a/b", "a b", "a", "Z", "e1", "e10", "e2"];

offlineTest(
  "bulkReader() finds the MongoDB backend's reads, and none on the memory adapter",
  () => {
    const mongo = new MongoDBAdapter("mongodb://127.0.0.1:1/x");
    const bulk = reader(mongo);
    assertEquals(typeof bulk.history, "function");
    assertEquals(bulkReader(new MemoryStorageAdapter()), undefined);
    assertEquals(Object.keys(mongo), [], "no enumerable member");
    return Promise.resolve();
  },
);

offlineTest(
  "MongoDBAdapter bulk reads reject with NotConnectedError before connect()",
  async () => {
    const bulk = reader(new MongoDBAdapter("mongodb://127.0.0.1:1/x"));
    await assertRejects(() => bulk.history().next(), NotConnectedError);
    await assertRejects(() => bulk.outputs().next(), NotConnectedError);
  },
);

serverTest(
  "MongoDBAdapter bulk reads yield what getHistory() and getOutput() answer, every execution id in code point order, orphans too",
  async (uri) => {
    await withDatabase(uri, async ([storage]) => {
      // Executions for half of the ids: the others' history and output are orphans.
      for (const [i, id] of IDS.entries()) {
        if (i % 2 === 0) await storage.saveExecution(makeExecution({ id }));
        for (const [k, step] of [10, 2, -1, 2].entries()) {
          await storage.saveHistory(
            makeHistory({
              executionId: id,
              step,
              timestamp: at(i * 100 + k),
              variables: { n: NaN },
            }),
          );
        }
        await storage.appendOutput(id, [`${id} 0`, "", "\ud83d"]);
        if (i % 3 === 0) await storage.appendOutput(id, [`${id} 3`]);
      }
      const bulk = reader(storage);

      const history = await collect(bulk.history());
      assertIdOrder(history);
      const entries = byExecution(history);
      assertEquals([...entries.keys()], [...IDS].sort(compareCodePoints));
      for (const id of IDS) {
        const items = entries.get(id)!;
        assert(items.every((item) => item.error === undefined));
        assertEquals(items.map((item) => item.entry), await storage.getHistory(id));
        assertEquals(items.map((item) => item.entry!.step), [-1, 2, 2, 10]);
      }

      const outputs = await collect(bulk.outputs());
      assertIdOrder(outputs);
      const runs = byExecution(outputs);
      assertEquals([...runs.keys()], [...IDS].sort(compareCodePoints));
      for (const id of IDS) {
        const lines: string[] = [];
        for (const run of runs.get(id)!) {
          assertEquals(run.from, lines.length);
          lines.push(...run.lines!);
        }
        assertEquals(lines, await storage.getOutput(id));
      }

      const some = await collect(bulk.outputs({ executionIds: ["a", "😀", "none"] }));
      assertEquals([...byExecution(some).keys()], ["a", "😀"]);
    });
  },
);

serverTest(
  "MongoDBAdapter bulk reads read the original CVM's and version 0.1's documents as getHistory() and getOutput() do",
  async (uri) => {
    await withPrefilled(uri, async (db) => {
      await db.collection("history").insertMany([
        // The original's: ObjectId `_id`, native fields.
        ...[1, 10, 2].map((step) => ({
          executionId: "e1",
          step,
          pc: step,
          instruction: "NOP",
          stack: [],
          variables: {},
          timestamp: at(step),
        })),
        // Version 0.1's: the record as JSON text beside its key.
        {
          executionId: "e1",
          step: 3,
          timestamp: at(3),
          doc: JSON.stringify({
            executionId: "e1",
            step: 3,
            pc: 3,
            instruction: "OLD",
            stack: [],
            variables: {},
            timestamp: { $date: at(3).toISOString() },
          }),
        },
      ]);
      await db.collection("outputs").insertOne({ executionId: "e1", lines: ["one", "two"] });
    }, async (storage) => {
      await storage.appendOutput("e1", ["three"]);
      await storage.appendOutput("e2", ["other"]);
      const bulk = reader(storage);
      const history = await collect(bulk.history());
      assertEquals(history.map((item) => item.entry), await storage.getHistory("e1"));
      assertEquals(history.map((item) => item.entry!.step), [1, 2, 3, 10]);
      assertEquals(await collect(bulk.outputs()), [
        { executionId: "e1", from: 0, lines: ["one", "two"] },
        { executionId: "e1", from: 2, lines: ["three"] },
        { executionId: "e2", from: 0, lines: ["other"] },
      ]);
    });
  },
);

serverTest(
  "MongoDBAdapter bulk reads yield a damaged document as its execution's error, in place, and read on",
  async (uri) => {
    await withDatabase(uri, async ([storage], dbName) => {
      for (const id of ["e1", "e2", "e3"]) {
        await storage.saveHistory(makeHistory({ executionId: id, step: 1 }));
        await storage.saveHistory(makeHistory({ executionId: id, step: 3 }));
        await storage.appendOutput(id, ["a"]);
        await storage.appendOutput(id, ["b"]);
      }
      await withDb(uri, dbName, async (db) => {
        const entry = await db.collection("history").findOne({ executionId: "e2", step: 1 });
        await db.collection("history").insertOne({
          ...entry,
          _id: "e2/2/x",
          step: 2,
          instruction: 42,
        } as never);
        await db.collection("outputs").updateOne({ _id: "e2/0" } as never, {
          $set: { lines: [7] },
        });
        // No getHistory() call can reach an entry without a string execution id.
        await db.collection("history").insertOne(
          { ...entry, _id: "stray", executionId: 5 } as never,
        );
      });
      const bulk = reader(storage);
      const history: BulkHistoryItem[] = await collect(bulk.history());
      assertEquals(
        history.map((item) => [item.executionId, item.entry?.step ?? "error"]),
        [["e1", 1], ["e1", 3], ["e2", 1], ["e2", "error"], ["e2", 3], ["e3", 1], ["e3", 3]],
      );
      const error = history[3].error!;
      assertInstanceOf(error, CorruptRecordError);
      const direct = await assertRejects(() => storage.getHistory("e2"), CorruptRecordError);
      assertEquals(error.message, direct.message);

      const outputs: BulkOutputItem[] = await collect(bulk.outputs());
      assertEquals(
        outputs.map((item) => [item.executionId, item.lines ?? "error"]),
        [["e1", ["a"]], ["e1", ["b"]], ["e2", "error"], ["e3", ["a"]], ["e3", ["b"]]],
      );
      const outputError = await assertRejects(() => storage.getOutput("e2"), CorruptRecordError);
      assertEquals(outputs[2].error!.message, outputError.message);
    });
  },
);

serverTest(
  "MongoDBAdapter.appendOutput() after a bulk read of some executions' output appends after their last line",
  async (uri) => {
    await withPrefilled(uri, async (db) => {
      await db.collection("outputs").insertOne({ executionId: "legacy", lines: ["one", "two"] });
    }, async (storage) => {
      await storage.appendOutput("e1", ["a", "b"]);
      await storage.appendOutput("e1", ["c"]);
      const ids = ["e1", "legacy", "empty"];
      await collect(reader(storage).outputs({ executionIds: ids }));
      for (const id of ids) await storage.appendOutput(id, [`${id} next`]);
      assertEquals(await storage.getOutput("e1"), ["a", "b", "c", "e1 next"]);
      assertEquals(await storage.getOutput("legacy"), ["one", "two", "legacy next"]);
      assertEquals(await storage.getOutput("empty"), ["empty next"]);
      // Each document in its place in the chain: a range read finds the right lines.
      assertEquals(await storage.getOutput("e1", { from: 3 }), ["e1 next"]);
      assertEquals(await storage.getOutput("legacy", { from: 2 }), ["legacy next"]);
    });
  },
);

serverTest(
  "MongoDBAdapter.appendOutput() after a bulk read still appends after lines another writer added since",
  async (uri) => {
    await withDatabase(uri, async ([reading, writing]) => {
      await reading.appendOutput("e1", ["a"]);
      await collect(reader(reading).outputs({ executionIds: ["e1", "e2"] }));
      await writing.appendOutput("e1", ["b", "c"]);
      await writing.appendOutput("e2", ["x"]);
      await reading.appendOutput("e1", ["d"]);
      await reading.appendOutput("e2", ["y"]);
      assertEquals(await reading.getOutput("e1"), ["a", "b", "c", "d"]);
      assertEquals(await reading.getOutput("e2"), ["x", "y"]);
    }, 2);
  },
);

serverTest("MongoDBAdapter bulk reads stop cleanly when the caller stops early", async (uri) => {
  await withDatabase(uri, async ([storage]) => {
    const entries: History[] = [];
    for (let step = 0; step < 1200; step++) entries.push(makeHistory({ step }));
    for (let i = 0; i < entries.length; i += 100) {
      await Promise.all(entries.slice(i, i + 100).map((entry) => storage.saveHistory(entry)));
    }
    let read = 0;
    for await (const item of reader(storage).history()) {
      assertEquals(item.entry?.step, read);
      if (++read === 1100) break;
    }
    // The sanitizers check that the cursor is closed and nothing is left running.
    assertEquals(read, 1100);
  });
});
