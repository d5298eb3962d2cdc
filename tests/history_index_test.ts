// The index of a long history (src/file/_history_index.ts): another adapter or process
// answers from it without listing the directory, and never from one that is stale,
// damaged, or another directory's.

import { assert, assertEquals } from "@std/assert";
import { join } from "../src/_path.ts";
import { fs } from "../src/file/_fs.ts";
import { isHistoryIndexName, MIN_INDEXED } from "../src/file/_history_index.ts";
import { FileStorageAdapter } from "../mod.ts";
import { countListings, countOpens, within, writeEntries } from "./_file_utils.ts";
import { makeHistory, withTempDir } from "./_utils.ts";

const ENTRIES = MIN_INDEXED;
const LAST = ENTRIES - 1;

/** Sets a directory's modification time a minute back (with milliseconds): settled. */
function settle(dir: string, minutes = 1): void {
  const old = new Date(Date.now() - minutes * 60_000 - 123);
  Deno.utimeSync(dir, old, old);
}

/**
 * Runs `fn` on a new adapter (as another process would) over `dir`, counting the
 * directory listings it makes and the files it opens.
 */
async function onNewAdapter<T>(
  dir: string,
  fn: (storage: FileStorageAdapter) => Promise<T>,
): Promise<{ result: T; listings: number; opened: string[] }> {
  const storage = new FileStorageAdapter({ dataDir: dir, fsync: false });
  await storage.connect();
  try {
    const { result: { result, opened }, listings } = await countListings(() =>
      countOpens(() => within(10_000, "the query", fn(storage)))
    );
    return { result, listings: listings.length, opened };
  } finally {
    await storage.disconnect();
  }
}

const latest = (storage: FileStorageAdapter) =>
  storage.getHistory("e1", { reverse: true, limit: 1 }).then((entries) => entries[0]?.step);

/** A store with a settled history of `ENTRIES` entries of `e1`, and its index written. */
async function indexedStore(dir: string): Promise<{ historyDir: string; index: string }> {
  await writeEntries(dir, ENTRIES);
  const historyDir = join(dir, "history", "e1");
  const index = join(dir, "history", ".e1.idx");
  settle(historyDir);
  const first = await onNewAdapter(dir, latest);
  assertEquals(first.result, LAST);
  assertEquals(first.listings, 1, "the first adapter lists the directory");
  assert((await Deno.lstat(index)).isFile, "and writes the index");
  return { historyDir, index };
}

Deno.test("A new adapter answers a settled long history from its index: no listing, one record file opened", async () => {
  await withTempDir(async (dir) => {
    const { historyDir } = await indexedStore(dir);
    const next = await onNewAdapter(dir, latest);
    assertEquals(next.result, LAST);
    assertEquals(next.listings, 0);
    assertEquals(next.opened.filter((path) => path.startsWith(historyDir + "/")).length, 1);
    // Every query, not only the latest entry.
    const all = await onNewAdapter(dir, (storage) => storage.getHistory("e1"));
    assertEquals(all.listings, 0);
    assertEquals(all.result.map((entry) => entry.step), [...Array(ENTRIES).keys()]);
    const range = await onNewAdapter(
      dir,
      (storage) => storage.getHistory("e1", { fromStep: 10, toStep: 12 }),
    );
    assertEquals(range.result.map((entry) => entry.step), [10, 11, 12]);
  });
});

Deno.test("An index is not used once its directory changed; the next settled listing replaces it", async () => {
  await withTempDir(async (dir) => {
    const { historyDir, index } = await indexedStore(dir);
    const before = await Deno.readFile(index);
    // Another process adds an entry: the directory's modification time moves.
    const added = await onNewAdapter(
      dir,
      (storage) => storage.saveHistory(makeHistory({ executionId: "e1", step: ENTRIES })),
    );
    assertEquals(added.listings, 0);
    const changed = await onNewAdapter(dir, latest);
    assertEquals(changed.result, ENTRIES);
    assertEquals(changed.listings, 1);
    // Settled again (at another time): listed once more, and the index rewritten.
    settle(historyDir, 2);
    assertEquals((await onNewAdapter(dir, latest)).listings, 1);
    assert(!equalBytes(await Deno.readFile(index), before), "the index was rewritten");
    const next = await onNewAdapter(dir, latest);
    assertEquals([next.result, next.listings], [ENTRIES, 0]);
  });
});

Deno.test("A damaged, foreign or misplaced index is ignored, never hangs, and is replaced", async () => {
  await withTempDir(async (dir) => {
    const { historyDir, index } = await indexedStore(dir);
    const good = await Deno.readFile(index);
    const flipped = good.slice();
    flipped[good.length - 3] ^= 1;
    const cases: [string, () => Promise<void>][] = [
      ["empty", () => Deno.writeFile(index, new Uint8Array())],
      ["cut in half", () => Deno.writeFile(index, good.subarray(0, good.length >> 1))],
      ["zero-filled", () => Deno.writeFile(index, new Uint8Array(good.length))],
      ["one bit flipped in the entries", () => Deno.writeFile(index, flipped)],
      ["one byte longer", () => Deno.writeFile(index, new Uint8Array([...good, 0]))],
      ["text", () => Deno.writeTextFile(index, "not an index\n")],
      ["a symbolic link to a good index", async () => {
        await Deno.writeFile(join(dir, "elsewhere.idx"), good);
        await Deno.symlink(join(dir, "elsewhere.idx"), index);
      }],
      ["a FIFO", async () => {
        const made = await new Deno.Command("mkfifo", { args: [index] }).output();
        assert(made.success, "mkfifo");
      }],
    ];
    for (const [what, damage] of cases) {
      await Deno.remove(index);
      await damage();
      settle(historyDir);
      const read = await onNewAdapter(dir, latest);
      assertEquals([read.result, read.listings], [LAST, 1], `an index that is ${what}`);
      // The listing wrote a good index in its place.
      const info = await Deno.lstat(index);
      assert(info.isFile, `an index that was ${what} is replaced by a file`);
      assertEquals((await onNewAdapter(dir, latest)).listings, 0, `after ${what}`);
    }
    // A directory where the index belongs: ignored, and left alone.
    await Deno.remove(index);
    await Deno.mkdir(index);
    settle(historyDir);
    for (let run = 0; run < 2; run++) {
      assertEquals((await onNewAdapter(dir, latest)).listings, 1, "a directory at the index");
    }
  });
});

Deno.test("An index copied beside another history, or into another store, is ignored", async () => {
  await withTempDir(async (dir) => {
    const { index } = await indexedStore(dir);
    // A short history whose directory has the index of another one.
    const storage = new FileStorageAdapter({ dataDir: dir, fsync: false });
    await storage.connect();
    for (let step = 0; step < 3; step++) {
      await storage.saveHistory(makeHistory({ executionId: "e2", step }));
    }
    await storage.disconnect();
    await Deno.copyFile(index, join(dir, "history", ".e2.idx"));
    settle(join(dir, "history", "e2"));
    const other = await onNewAdapter(
      dir,
      (storage) => storage.getHistory("e2", { reverse: true, limit: 1 }),
    );
    assertEquals([other.result[0].step, other.listings], [2, 1]);
    // A copy of the whole store: new directories, so no index matches.
    await withTempDir(async (copy) => {
      const copied = await new Deno.Command("cp", { args: ["-a", `${dir}/.`, copy] }).output();
      assert(copied.success, "cp -a");
      const read = await onNewAdapter(copy, latest);
      assertEquals([read.result, read.listings], [LAST, 1]);
    });
  });
});

/** The directories `connect()` lists (for temp files) on a new adapter over `dir`. */
async function listedByConnect(dir: string): Promise<string[]> {
  const readDirEntries = fs.readDirEntries;
  const listed: string[] = [];
  fs.readDirEntries = (...args: Parameters<typeof readDirEntries>) => {
    listed.push(args[0]);
    return readDirEntries(...args);
  };
  const storage = new FileStorageAdapter({ dataDir: dir, fsync: false });
  try {
    await storage.connect();
  } finally {
    fs.readDirEntries = readDirEntries;
    await storage.disconnect();
  }
  return listed;
}

Deno.test("connect() lists no history directory a valid index vouches for, and cleans one that changed", async () => {
  await withTempDir(async (dir) => {
    const { historyDir, index } = await indexedStore(dir);
    const listed = await listedByConnect(dir);
    assert(listed.includes(join(dir, "history")), "history/ itself is listed");
    assert(!listed.includes(historyDir), "the indexed history is not");
    // A writer that died mid-write left a temp file: the directory changed since the index.
    const temp = join(historyDir, `.cvm-99999999-x-l${"0123456789abcdef"}.tmp`);
    await Deno.writeTextFile(temp, "{");
    assert((await listedByConnect(dir)).includes(historyDir));
    assert(!await Deno.lstat(temp).then(() => true, () => false), "the dead temp file is gone");
    // A settled listing that sees any hidden file writes no index: the index vouches for none.
    const before = await Deno.readFile(index);
    await Deno.writeTextFile(join(historyDir, ".notes"), "mine");
    settle(historyDir, 3);
    assertEquals((await onNewAdapter(dir, latest)).listings, 1);
    assertEquals(await Deno.readFile(index), before, "the stale index was not rewritten");
    assertEquals((await onNewAdapter(dir, latest)).listings, 1);
    assert((await listedByConnect(dir)).includes(historyDir));
  });
});

Deno.test("deleteExecution() removes the history's index with it", async () => {
  await withTempDir(async (dir) => {
    const { index } = await indexedStore(dir);
    const deleted = await onNewAdapter(dir, (storage) => storage.deleteExecution("e1"));
    assertEquals(deleted.result, false); // no execution record, only history
    await Deno.lstat(index).then(
      () => assert(false, "the index outlived its history"),
      (error) => assert(error instanceof Deno.errors.NotFound),
    );
    assertEquals((await onNewAdapter(dir, latest)).result, undefined);
  });
});

Deno.test("isHistoryIndexName() tells index files from history directories and temp files", () => {
  for (const name of [".e1.idx", ".~^my%20^file.idx"]) assert(isHistoryIndexName(name), name);
  for (const name of ["e1", "e1.idx", ".idx", ".cvm-1-00.tmp", "~idx"]) {
    assert(!isHistoryIndexName(name), name);
  }
});

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}
