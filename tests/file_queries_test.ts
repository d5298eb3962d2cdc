// Queries on the file backend: answered from file names, opening only the files they
// select, in the same order and with the same results as the memory adapter (the
// reference).

import { assert, assertEquals } from "@std/assert";
import { join } from "node:path";
import {
  type Execution,
  FileStorageAdapter,
  type History,
  type HistoryQuery,
  MemoryStorageAdapter,
  type StorageAdapter,
} from "../mod.ts";
import { idToFileStem } from "../src/ids.ts";
import { compareCodePoints } from "../src/query.ts";
import { historyFileName, parseHistoryFileName } from "../src/file/_history_files.ts";
import { comparePrefix, stemToId } from "../src/file/_list_files.ts";
import {
  countListings,
  countOpens,
  longestStall,
  withAdapter,
  writeEntries,
} from "./_file_utils.ts";
import { makeExecution, makeHistory, makeProgram, prng } from "./_utils.ts";

Deno.test("history file names: every key has one name, and only that name reads back", () => {
  const cases: [number, number, string][] = [
    [0, 0, "0-0.json"],
    [1, 1700000000000, "1700000000000-1.json"],
    [-1, 1700000000000, "1700000000000--1.json"],
    [3, -5000, "-5000-3.json"],
    [-3, -5000, "-5000--3.json"],
    [Number.MAX_SAFE_INTEGER, 8.64e15, "8640000000000000-9007199254740991.json"],
    [Number.MIN_SAFE_INTEGER, -8.64e15, "-8640000000000000--9007199254740991.json"],
  ];
  for (const [step, time, name] of cases) {
    assertEquals(historyFileName(step, time), name);
    assertEquals(parseHistoryFileName(name), { step, time });
  }
  for (
    const name of [
      "01-1.json",
      "1-01.json",
      "-0-1.json",
      "1--0.json",
      "+1-1.json",
      "1-+1.json",
      "1e3-1.json",
      "1-1e3.json",
      " 1-1.json",
      "1-1 .json",
      "1-1.JSON",
      "1-1.json.tmp",
      "1-1",
      "1.json",
      "-1.json",
      "1---1.json",
      "1-1-1.json",
      "0x1-1.json",
      "1.5-1.json",
      "8640000000000001-1.json", // past the last valid Date
      "1-9007199254740992.json", // not a safe integer
      "99999999999999999999-1.json",
      "entry.json",
      "-.json",
      "--.json",
    ]
  ) {
    assertEquals(parseHistoryFileName(name), undefined, name);
  }
});

Deno.test("stemToId() reverses idToFileStem(), and a shortened stem gives a true prefix", () => {
  const random = prng(7);
  const alphabet = ["a", "Z", "0", "-", "_", ".", " ", "/", "é", "€", "😀", "\u0000", "CON", "~"];
  const ids = [
    "a",
    "p1",
    "My File",
    "CON",
    "con.txt",
    ".hidden",
    "trailing.",
    "~tilde",
    "😀",
    "\uffff",
    "\ufeff",
    "x\ufeffy\ufeff",
    "a".repeat(250),
    "a".repeat(256),
    "A".repeat(256),
    "é".repeat(200),
    "😀".repeat(128),
  ];
  for (let i = 0; i < 300; i++) {
    let id = "";
    const length = 1 + Math.floor(random() * 140);
    while (id.length < length) id += alphabet[Math.floor(random() * alphabet.length)];
    ids.push(id.slice(0, 256).isWellFormed() ? id.slice(0, 256) : id.slice(0, 255));
  }
  for (const id of ids) {
    const stem = idToFileStem(id);
    const found = stemToId(stem);
    if (found === undefined) throw new Error(`no id for the stem ${stem}`);
    if ("id" in found) {
      assertEquals(found.id, id);
    } else {
      assert(stem.length > 180, stem);
      assert(id.startsWith(found.prefix), `${found.prefix} is not a prefix of ${id}`);
      assert(found.prefix.length > 0);
    }
  }
  // Names no id maps to.
  for (
    const stem of [
      "P1",
      "~",
      "~p%zz",
      "~%c3",
      "~^A",
      "~a b",
      "con",
      "~p",
      "a~b",
      "x.",
      "~p%ef%bf",
    ]
  ) {
    assertEquals(stemToId(stem), undefined, stem);
  }
});

Deno.test("comparePrefix() places every id with a prefix before, after, or either side of an id", () => {
  assertEquals(comparePrefix("ab", "b"), -1);
  assertEquals(comparePrefix("ab", "aa"), 1);
  assertEquals(comparePrefix("ab", "a"), 1);
  assertEquals(comparePrefix("ab", "ab"), 0);
  assertEquals(comparePrefix("ab", "abc"), 0);
  // Code point order: U+1F600 comes after U+FFFF, though its UTF-16 units do not.
  assertEquals(comparePrefix("😀", "\uffff"), 1);
  assertEquals(comparePrefix("\uffff", "😀"), -1);
});

/** Saves the same records to a file adapter and the memory adapter. */
async function both(
  file: FileStorageAdapter,
  save: (storage: StorageAdapter) => Promise<void>,
): Promise<MemoryStorageAdapter> {
  const memory = new MemoryStorageAdapter();
  await memory.connect();
  await save(memory);
  await save(file);
  return memory;
}

Deno.test("FileStorageAdapter.getHistory() answers every query as the memory adapter does", async () => {
  await withAdapter(async (file) => {
    const random = prng(42);
    const steps = [-5, -1, -1, 0, 1, 2, 2, 2, 3, 10, 11, 100, 1000];
    const times = [-86_400_000, -1, 0, 1, 1_700_000_000_000, 8.64e15];
    const entries: History[] = [];
    for (const step of steps) {
      for (const time of times) {
        if (random() < 0.5) {
          entries.push(makeHistory({ step, timestamp: new Date(time), pc: entries.length }));
        }
      }
    }
    const memory = await both(file, async (storage) => {
      for (const entry of entries) await storage.saveHistory(entry).catch(() => {});
    });
    const keys = entries.map((e) => ({ step: e.step, timestamp: e.timestamp }));
    const pick = <T>(values: T[]) => values[Math.floor(random() * values.length)];
    for (let i = 0; i < 400; i++) {
      const query: HistoryQuery = {};
      if (random() < 0.3) query.fromStep = pick([...steps, -100, 5, 2000]);
      if (random() < 0.3) query.toStep = pick([...steps, -100, 5, 2000]);
      if (random() < 0.4) {
        query.after = random() < 0.8
          ? pick(keys)
          : { step: pick([...steps, 4]), timestamp: new Date(pick([...times, 7])) };
      }
      if (random() < 0.5) query.limit = pick([1, 2, 3, 5, 50]);
      if (random() < 0.5) query.reverse = random() < 0.5;
      assertEquals(
        await file.getHistory("e1", query),
        await memory.getHistory("e1", query),
        JSON.stringify(query),
      );
    }
  });
});

Deno.test("FileStorageAdapter.getHistory() opens only the files the query selects", async () => {
  await withAdapter(async (storage, dir) => {
    for (let step = 0; step < 200; step++) {
      await storage.saveHistory(makeHistory({ step, timestamp: new Date(1000 + step) }));
    }
    const historyDir = join(dir, "history", "e1");
    const records = (opened: string[]) => opened.filter((path) => path.startsWith(historyDir));

    const latest = await countOpens(() => storage.getHistory("e1", { reverse: true, limit: 1 }));
    assertEquals(latest.result.map((h) => h.step), [199]);
    assertEquals(records(latest.opened), [join(historyDir, historyFileName(199, 1199))]);

    const page = await countOpens(() =>
      storage.getHistory("e1", { after: { step: 49, timestamp: new Date(1049) }, limit: 10 })
    );
    assertEquals(page.result.map((h) => h.step), [50, 51, 52, 53, 54, 55, 56, 57, 58, 59]);
    assertEquals(records(page.opened).length, 10);

    const range = await countOpens(() => storage.getHistory("e1", { fromStep: 20, toStep: 24 }));
    assertEquals(records(range.opened).length, 5);

    const empty = await countOpens(() => storage.getHistory("e1", { fromStep: 500 }));
    assertEquals(empty.result, []);
    assertEquals(records(empty.opened), []);
  });
});

/** Ids of every stem kind: plain, escaped, and shortened (with shared prefixes). */
const IDS = [
  "a",
  "b-1",
  "z",
  "A",
  "Zeta",
  "é",
  "\ue000",
  "\uffff",
  "😀",
  "a".repeat(250),
  "a".repeat(255) + "b",
  "a".repeat(256),
  "z".repeat(256),
  "A".repeat(200),
  "A".repeat(200) + "B",
  "A".repeat(199) + "a",
  "A".repeat(256),
  "Á".repeat(100),
  "Á".repeat(99) + "B",
  "€".repeat(90),
  "😀".repeat(60),
  "😀".repeat(59) + "\uffff",
];

Deno.test("FileStorageAdapter lists by id in code point order, paged as the memory adapter pages", async () => {
  await withAdapter(async (file) => {
    const memory = await both(file, async (storage) => {
      for (const id of IDS) {
        await storage.saveProgram(makeProgram({ id }));
        await storage.saveExecution(
          makeExecution({
            id,
            programId: id.length % 2 ? "odd" : "even",
            state: Array.from(id).slice(0, 3).join(""),
          }),
        );
      }
    });
    const sorted = [...IDS].sort(compareCodePoints);
    assertEquals((await file.listPrograms()).map((p) => p.id), sorted);
    const afters = [
      undefined,
      ...IDS,
      "",
      "m",
      "A".repeat(150),
      "A".repeat(201),
      "😀😀",
      "\u{10ffff}",
    ];
    for (const after of afters) {
      for (const limit of [undefined, 1, 2, 3, 7]) {
        const query = { after, limit };
        assertEquals(
          (await file.listPrograms(query)).map((p) => p.id),
          (await memory.listPrograms(query)).map((p) => p.id),
          JSON.stringify(query),
        );
        for (
          const filter of [{}, { programId: "odd" }, { state: "AAA" }, {
            programId: "even",
            state: "a",
          }]
        ) {
          const executions = { ...query, ...filter };
          assertEquals(
            await file.listExecutions(executions),
            await memory.listExecutions(executions),
            JSON.stringify(executions),
          );
        }
      }
    }
  });
});

Deno.test("FileStorageAdapter.listPrograms() opens only the page's files", async () => {
  await withAdapter(async (storage, dir) => {
    for (let i = 0; i < 50; i++) await storage.saveProgram(makeProgram({ id: `p${i}` }));
    // A shortened name whose prefix puts it after any page below.
    await storage.saveProgram(makeProgram({ id: "z".repeat(256) }));
    const programs = join(dir, "programs");
    const page = await countOpens(() => storage.listPrograms({ after: "p10", limit: 5 }));
    assertEquals(page.result.map((p) => p.id), ["p11", "p12", "p13", "p14", "p15"]);
    assertEquals(page.opened.filter((path) => path.startsWith(programs)).length, 5);
  });
});

Deno.test("FileStorageAdapter.listExecutions() with a filter stops reading once the page is full", async () => {
  await withAdapter(async (storage, dir) => {
    for (let i = 0; i < 300; i++) {
      const id = `e${String(i).padStart(3, "0")}`;
      await storage.saveExecution(makeExecution({ id, state: i % 3 === 0 ? "running" : "done" }));
    }
    const executions = join(dir, "executions");
    const page = await countOpens(() => storage.listExecutions({ state: "running", limit: 2 }));
    assertEquals(page.result.map((e: Execution) => e.id), ["e000", "e003"]);
    // One batch of 64, not all 300.
    assert(page.opened.filter((path) => path.startsWith(executions)).length <= 64);
    const all = await storage.listExecutions({ state: "running" });
    assertEquals(all.length, 100);
  });
});

Deno.test("FileStorageAdapter reuses the listing of an unchanged directory, and sees every change", async () => {
  await withAdapter(async (storage, dir) => {
    for (let step = 0; step < 5; step++) await storage.saveHistory(makeHistory({ step }));
    const historyDir = join(dir, "history", "e1");
    const old = new Date(Date.now() - 60_000);
    await Deno.utime(historyDir, old, old);
    await storage.getHistory("e1"); // lists, and keeps the plan
    const latest = () => storage.getHistory("e1", { reverse: true, limit: 1 });
    const kept = await countListings(latest);
    assertEquals(kept.result[0].step, 4);
    assertEquals(kept.listings.length, 0);
    // Any change to the directory moves its modification time past the kept one.
    await storage.saveHistory(makeHistory({ step: 5 }));
    const changed = await countListings(latest);
    assertEquals(changed.result[0].step, 5);
    assertEquals(changed.listings.length, 1);
    // Another adapter (another process) deleting the execution: seen too.
    const other = new FileStorageAdapter({ dataDir: dir, fsync: false });
    await other.connect();
    await other.deleteExecution("e1");
    await other.disconnect();
    assertEquals(await storage.getHistory("e1"), []);
  });
});

Deno.test("FileStorageAdapter keeps a listing once its directory has settled for its file system's timestamp granularity", async () => {
  await withAdapter(async (storage, dir) => {
    for (let step = 0; step < 3; step++) await storage.saveHistory(makeHistory({ step }));
    const historyDir = join(dir, "history", "e1");
    const listingsFor = async (mtime: number) => {
      await Deno.utime(historyDir, new Date(mtime), new Date(mtime));
      const { listings } = await countListings(async () => {
        for (let query = 0; query < 3; query++) {
          assertEquals((await storage.getHistory("e1", { reverse: true, limit: 1 }))[0].step, 2);
        }
      });
      return listings.length;
    };
    // Milliseconds in the modification time: a fine-grained file system (ext4, XFS, APFS,
    // NTFS, tmpfs), whose times tick every few milliseconds; half a second is settled.
    const fine = Date.now() - 500;
    assertEquals(await listingsFor(fine % 1000 === 0 ? fine - 1 : fine), 1);
    // A whole second may come from a coarse one (FAT: 2 s): listed afresh for 3 s.
    assertEquals(await listingsFor(Math.floor(Date.now() / 1000) * 1000 - 1000), 3);
    assertEquals(await listingsFor(Math.floor(Date.now() / 1000) * 1000 - 4000), 1);
  });
});

const STALL_ENTRIES = Number(Deno.env.get("CVM_STALL_ENTRIES") ?? 20_000);

Deno.test(`FileStorageAdapter.getHistory() of ${STALL_ENTRIES} entries never blocks the event loop for long`, async () => {
  await withAdapter(async (storage, dir) => {
    await writeEntries(dir, STALL_ENTRIES);
    // The work runs in slices of 4 ms; a pass over every entry without a pause (decoding,
    // sorting or naming them all at once) blocks for 100 ms or more at this size. On a
    // shared machine the process may be descheduled in a slice, or the garbage collector
    // may pause: the best of three runs is what the code does. bench/file_reads.ts
    // measures 100,000 entries (CVM_STALL_ENTRIES=100000 runs this test at that size).
    const full: number[] = [];
    const latest: number[] = [];
    for (let run = 0; run < 3; run++) {
      const all = await longestStall(() => storage.getHistory("e1"));
      assertEquals(all.result.length, STALL_ENTRIES);
      assertEquals(all.result[STALL_ENTRIES - 1].step, STALL_ENTRIES - 1);
      full.push(all.stall);
      const one = await longestStall(() => storage.getHistory("e1", { reverse: true, limit: 1 }));
      assertEquals(one.result[0].step, STALL_ENTRIES - 1);
      latest.push(one.stall);
    }
    const best = (stalls: number[]) => Math.min(...stalls);
    assert(best(full) < 80, `the full read blocked the loop for ${full.join(", ")} ms`);
    assert(best(latest) < 80, `the latest-entry read blocked the loop for ${latest.join(", ")} ms`);
  });
});
