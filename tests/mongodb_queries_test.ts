// Queries on the MongoDB backend: run on the server with the contract's indexes, and
// answering exactly what the memory adapter (the reference) answers for the same data.
// Also output appends from several adapters at once.

import { assert, assertEquals } from "@std/assert";
import {
  type Execution,
  type History,
  type HistoryQuery,
  MemoryStorageAdapter,
  type StorageAdapter,
} from "../mod.ts";
import { historyQuery, listQuery } from "../src/mongodb/_queries.ts";
import { reportMissingServer, serverTest, withDatabase } from "./_mongodb.ts";
import { makeExecution, makeHistory, makeProgram, prng } from "./_utils.ts";

reportMissingServer("mongodb_queries_test.ts");

Deno.test("historyQuery() bounds steps, continues after a key, and sorts by the index", () => {
  assertEquals(historyQuery("e1", { reverse: false }), {
    filter: { executionId: "e1" },
    sort: { step: 1, timestamp: 1 },
    limit: undefined,
  });
  assertEquals(
    historyQuery("e1", {
      fromStep: 2,
      toStep: 9,
      after: { step: 4, time: 0 },
      limit: 5,
      reverse: true,
    }),
    {
      filter: {
        executionId: "e1",
        step: { $gte: 2, $lte: 9 },
        $or: [{ step: { $lt: 4 } }, { step: 4, timestamp: { $lt: new Date(0) } }],
      },
      sort: { step: -1, timestamp: -1 },
      limit: 5,
    },
  );
});

Deno.test("listQuery() pages by id and filters on programId and state", () => {
  assertEquals(listQuery({}), { filter: {}, sort: { id: 1 }, limit: undefined, checkState: false });
  assertEquals(listQuery({ after: "e5", limit: 10, programId: "p1", state: "running" }), {
    filter: { id: { $gt: "e5" }, programId: "p1", state: { $in: ["running", null] } },
    sort: { id: 1 },
    limit: 10,
    checkState: true,
  });
});

/** Saves the same records in both adapters. */
async function fill(adapters: StorageAdapter[], records: {
  executions?: Execution[];
  history?: History[];
  programs?: string[];
}): Promise<void> {
  for (const storage of adapters) {
    for (const id of records.programs ?? []) await storage.saveProgram(makeProgram({ id }));
    for (const execution of records.executions ?? []) await storage.saveExecution(execution);
    for (const entry of records.history ?? []) await storage.saveHistory(entry);
  }
}

serverTest(
  "MongoDBAdapter.getHistory() answers every query as the memory adapter does",
  async (uri) => {
    await withDatabase(uri, async ([storage]) => {
      const reference = new MemoryStorageAdapter();
      await reference.connect();
      const random = prng(7);
      const history: History[] = [];
      // Many entries share a step (and some steps are negative), so cursors must use both keys.
      for (let i = 0; i < 60; i++) {
        const step = Math.floor(random() * 12) - 2;
        history.push(makeHistory({ executionId: "e1", step, pc: i, timestamp: new Date(i * 7) }));
      }
      history.push(makeHistory({ executionId: "e2", step: 0, timestamp: new Date(1) }));
      await fill([storage, reference], { history });

      const queries: HistoryQuery[] = [{}, { reverse: true, limit: 1 }, { limit: 1 }];
      for (let i = 0; i < 40; i++) {
        const query: HistoryQuery = {};
        if (random() < 0.5) query.fromStep = Math.floor(random() * 12) - 3;
        if (random() < 0.5) query.toStep = Math.floor(random() * 12) - 3;
        if (random() < 0.5) query.limit = 1 + Math.floor(random() * 8);
        if (random() < 0.5) query.reverse = true;
        if (random() < 0.6) {
          const entry = history[Math.floor(random() * 60)];
          query.after = { step: entry.step, timestamp: entry.timestamp };
        }
        queries.push(query);
      }
      for (const query of queries) {
        assertEquals(
          await storage.getHistory("e1", query),
          await reference.getHistory("e1", query),
          JSON.stringify(query),
        );
      }
      // Paging with `after` visits every entry once, in order, both ways.
      for (const reverse of [false, true]) {
        const seen: History[] = [];
        for (let page = await storage.getHistory("e1", { limit: 7, reverse }); page.length > 0;) {
          seen.push(...page);
          const last = page[page.length - 1];
          page = await storage.getHistory("e1", { limit: 7, reverse, after: last });
        }
        assertEquals(seen, await reference.getHistory("e1", { reverse }));
      }
      assertEquals(await storage.getHistory("nothing"), []);
    });
  },
);

serverTest(
  "MongoDBAdapter lists in code point order, paged and filtered, as the memory adapter does",
  async (uri) => {
    await withDatabase(uri, async ([storage]) => {
      const reference = new MemoryStorageAdapter();
      await reference.connect();
      // U+FF5E sorts before U+1F600 by code point, after it in UTF-16 order.
      const ids = ["b", "a", "～", "😀", "A", "a b", "é", "e\u0301", "z", "\u0000x", "ｚ"];
      const executions = ids.map((id, i) =>
        makeExecution({
          id,
          programId: i % 3 === 0 ? "p1" : "p2",
          state: i % 2 === 0 ? "running" : "READY",
        })
      );
      await fill([storage, reference], { executions, programs: ids });
      assertEquals(
        (await storage.listPrograms()).map((p) => p.id),
        (await reference.listPrograms()).map((p) => p.id),
      );
      const listed = (await storage.listExecutions()).map((e) => e.id);
      assert(listed.indexOf("～") < listed.indexOf("😀"), listed.join(" "));
      for (
        const query of [
          {},
          { limit: 3 },
          { after: "a", limit: 4 },
          { after: "～" },
          { programId: "p1" },
          { state: "READY", limit: 2 },
          { programId: "p2", state: "running", after: "a" },
          { after: "\uffff" },
        ]
      ) {
        assertEquals(
          await storage.listExecutions(query),
          await reference.listExecutions(query),
          JSON.stringify(query),
        );
        if (!("programId" in query) && !("state" in query)) {
          assertEquals(await storage.listPrograms(query), await reference.listPrograms(query));
        }
      }
    });
  },
);

serverTest("MongoDBAdapter.getOutput() answers ranges as the memory adapter does", async (uri) => {
  await withDatabase(uri, async ([storage]) => {
    const reference = new MemoryStorageAdapter();
    await reference.connect();
    const calls = [["a", "b", "c"], ["d"], [], ["e", "f"], ["\ud83d", ""], ["g"]];
    for (const adapter of [storage, reference]) {
      for (const lines of calls) await adapter.appendOutput("e1", lines);
    }
    for (let from = 0; from <= 10; from++) {
      for (const limit of [undefined, 1, 2, 3, 5, 20]) {
        const query = { from, limit };
        assertEquals(
          await storage.getOutput("e1", query),
          await reference.getOutput("e1", query),
          JSON.stringify(query),
        );
      }
    }
    assertEquals(await storage.getOutput("none"), []);
  });
});

serverTest(
  "MongoDBAdapter.appendOutput() from several adapters keeps every call whole, in order, none lost",
  async (uri) => {
    await withDatabase(uri, async (adapters) => {
      const calls = 8;
      await Promise.all(adapters.map(async (storage, writer) => {
        await Promise.all(Array.from({ length: calls }, async (_, call) => {
          await storage.appendOutput("e1", [0, 1, 2].map((line) => `${writer}.${call}.${line}`));
        }));
      }));
      const lines = await adapters[0].getOutput("e1");
      assertEquals(lines.length, adapters.length * calls * 3);
      for (let i = 0; i < lines.length; i += 3) {
        const [writer, call] = lines[i].split(".");
        assertEquals(lines.slice(i, i + 3), [0, 1, 2].map((l) => `${writer}.${call}.${l}`));
      }
      assertEquals(new Set(lines).size, lines.length);
      // An adapter whose idea of the end is stale still appends after everything stored.
      await adapters[1].appendOutput("e1", ["from 1"]);
      await adapters[0].appendOutput("e1", ["from 0"]);
      assertEquals((await adapters[2].getOutput("e1")).slice(-2), ["from 1", "from 0"]);
      assertEquals(await adapters[2].getOutput("e1", { from: lines.length + 1 }), ["from 0"]);
      // Deleting the execution deletes its output; appending starts again at line 0.
      assertEquals(await adapters[0].deleteExecution("e1"), false);
      assertEquals(await adapters[1].getOutput("e1"), []);
      await adapters[0].appendOutput("e1", ["new"]);
      assertEquals(await adapters[1].getOutput("e1"), ["new"]);
    }, 4);
  },
);
