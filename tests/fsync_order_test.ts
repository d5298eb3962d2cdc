// Durability of the file backend that a kill cannot show: the order of the file-system
// calls (through the `fs` seam of src/file/_fs.ts), and which temp files connect() may
// remove. The SIGKILL and many-process proofs are the durability kit's: see
// tests/crash_test.ts and tests/concurrency_test.ts.

import { assert, assertEquals } from "@std/assert";
import { dirname, join } from "node:path";
import { FileStorageAdapter } from "../mod.ts";
import { fs } from "../src/file/_fs.ts";
import { findTemps, makeExecution, makeHistory, makeProgram, withTempDir } from "./_utils.ts";
import { canSpawn, spawnWorker } from "./_workers/_spawn.ts";

// --- Durability: the order of file-system calls -----------------------------------------
//
// A kill cannot lose what the kernel already has; power loss can. These tests record the
// calls the adapter makes and check, for every write, that when its promise resolves the
// new content was fsynced before it was moved into place, and that every directory entry
// on its path that changed was fsynced in its parent afterwards.

interface FsEvent {
  op: "open" | "write" | "sync" | "syncStart" | "rename" | "link" | "unlink" | "mkdir";
  path: string;
  from?: string;
}

/** Runs `fn` with every call through the `fs` seam recorded, once it has completed. */
async function recordFs<T>(fn: (events: FsEvent[]) => Promise<T>): Promise<T> {
  const original = { ...fs };
  const events: FsEvent[] = [];
  fs.createFile = async (path, mode) => {
    const file = await original.createFile(path, mode);
    events.push({ op: "open", path });
    const { writeFile, sync } = file;
    file.writeFile = async (...args) => {
      await writeFile.apply(file, args);
      events.push({ op: "write", path });
    };
    file.sync = async () => {
      await sync.call(file);
      events.push({ op: "sync", path });
    };
    return file;
  };
  fs.openDir = async (path) => {
    const dir = await original.openDir(path);
    events.push({ op: "open", path });
    const { sync } = dir;
    dir.sync = async () => {
      // A directory fsync covers the entries made before it started.
      events.push({ op: "syncStart", path });
      await sync.call(dir);
      events.push({ op: "sync", path });
    };
    return dir;
  };
  fs.rename = async (from, to) => {
    await original.rename(from, to);
    events.push({ op: "rename", path: String(to), from: String(from) });
  };
  fs.link = async (from, to) => {
    await original.link(from, to);
    events.push({ op: "link", path: String(to), from: String(from) });
  };
  fs.unlink = async (path) => {
    await original.unlink(path);
    events.push({ op: "unlink", path: String(path) });
  };
  fs.mkdir = (async (path: string, options?: { recursive?: boolean; mode?: number }) => {
    const result = await original.mkdir(path, options);
    events.push({ op: "mkdir", path: String(path) });
    return result;
  }) as typeof fs.mkdir;
  try {
    return await fn(events);
  } finally {
    Object.assign(fs, original);
  }
}

/** Whether `events` holds a directory sync of `path` that started after index `after`. */
function syncedAfter(events: FsEvent[], path: string, after: number): boolean {
  const start = events.findIndex((event, i) =>
    i > after && event.op === "syncStart" && event.path === path
  );
  return start !== -1 &&
    events.some((event, i) => i > start && event.op === "sync" && event.path === path);
}

/**
 * Checks that `target` was written durably by the calls in `events`: through a temp file
 * fsynced after its last write and before it was moved to `target`, with the directory of
 * `target`, and the parent of every directory created for it (and of each of
 * `unsyncedDirs`, created earlier but never made durable), fsynced afterwards.
 */
function assertDurableWrite(events: FsEvent[], target: string, unsyncedDirs: string[] = []) {
  const what = `the write of "${target}"`;
  const direct = events.findIndex((event) => event.op === "write" && event.path === target);
  assert(direct === -1, `${what} wrote the target in place instead of through a temp file`);
  const move = events.findLastIndex((event) =>
    (event.op === "rename" || event.op === "link") && event.path === target
  );
  assert(move !== -1, `${what} never moved a temp file to the target`);
  const temp = events[move].from!;
  assert(dirname(temp) === dirname(target), `${what} used a temp file in another directory`);
  const lastWrite = events.findLastIndex((event, i) =>
    i < move && event.op === "write" && event.path === temp
  );
  assert(lastWrite !== -1, `${what} moved a temp file it never wrote`);
  assert(
    events.slice(lastWrite + 1, move).some((event) => event.op === "sync" && event.path === temp),
    `${what} moved the temp file into place before fsyncing it: power loss could leave an ` +
      "empty or partial record",
  );
  assert(
    syncedAfter(events, dirname(target), move),
    `${what} resolved before fsyncing "${dirname(target)}": power loss could undo it`,
  );
  for (const [i, event] of events.entries()) {
    if (event.op === "mkdir" && target.startsWith(`${event.path}/`)) {
      assert(
        syncedAfter(events, dirname(event.path), i),
        `${what} resolved before fsyncing "${dirname(event.path)}" after creating ` +
          `"${event.path}": power loss could drop the directory and the record with it`,
      );
    }
  }
  for (const dir of unsyncedDirs) {
    assert(
      syncedAfter(events, dirname(dir), -1),
      `${what} resolved without fsyncing "${dirname(dir)}", so "${dir}" (created by a writer ` +
        "that died before fsyncing it) and the record inside may vanish on power loss",
    );
  }
}

Deno.test("FileStorageAdapter fsyncs each record before moving it into place, and its directory after", async () => {
  await withTempDir(async (dir) => {
    const storage = new FileStorageAdapter(dir);
    await storage.connect();
    try {
      const cases: [string, string, () => Promise<void>][] = [
        ["saveProgram() new", "programs/p1.json", () => storage.saveProgram(makeProgram())],
        [
          "saveProgram() replace",
          "programs/p1.json",
          () => storage.saveProgram(makeProgram({ name: "again" })),
        ],
        ["saveExecution() new", "executions/e1.json", () => storage.saveExecution(makeExecution())],
        [
          "saveExecution() replace",
          "executions/e1.json",
          () => storage.saveExecution(makeExecution({ pc: 2 })),
        ],
        [
          "saveHistory() first entry",
          "history/e1/1767323045678-0.json",
          () => storage.saveHistory(makeHistory()),
        ],
        [
          "saveHistory() next entry",
          "history/e1/1767323045678-1.json",
          () => storage.saveHistory(makeHistory({ step: 1 })),
        ],
      ];
      for (const [name, target, write] of cases) {
        await recordFs(async (events) => {
          await write();
          try {
            assertDurableWrite(events, join(dir, target));
          } catch (error) {
            throw new Error(`${name}: ${(error as Error).message}`, { cause: error });
          }
        });
      }
    } finally {
      await storage.disconnect();
    }
  });
});

Deno.test("FileStorageAdapter.saveHistory() from many promises at once shares directory fsyncs, each write durable", async () => {
  await withTempDir(async (dir) => {
    const storage = new FileStorageAdapter(dir);
    await storage.connect();
    try {
      const WRITES = 100;
      await recordFs(async (events) => {
        const resolved: number[] = [];
        await Promise.all(
          Array.from({ length: WRITES }, async (_, step) => {
            await storage.saveHistory(makeHistory({ step }));
            resolved[step] = events.length;
          }),
        );
        const e1 = join(dir, "history", "e1");
        for (let step = 0; step < WRITES; step++) {
          // Only what had happened when this write resolved counts.
          const seen = events.slice(0, resolved[step]);
          assertDurableWrite(seen, join(e1, `1767323045678-${step}.json`));
        }
        const dirSyncs = events.filter((e) => e.op === "sync" && e.path === e1).length;
        const parentSyncs = events.filter((e) =>
          e.op === "sync" && e.path === join(dir, "history")
        ).length;
        console.log(`${WRITES} concurrent writes: ${dirSyncs} fsyncs of their directory`);
        // All of them started before any was in place, those waiting for one of the 64
        // descriptors too: one epoch, one fsync, as a hand-written batch.
        assertEquals(dirSyncs, 1, `${dirSyncs} directory fsyncs for ${WRITES} writes`);
        assertEquals(parentSyncs, 1, "the new directory's entry was fsynced once");
      });
      assertEquals((await storage.getHistory("e1")).length, WRITES);
    } finally {
      await storage.disconnect();
    }
  });
});

Deno.test("FileStorageAdapter.deleteProgram() and deleteExecution() fsync the directory before resolving", async () => {
  await withTempDir(async (dir) => {
    const storage = new FileStorageAdapter(dir);
    await storage.connect();
    try {
      await storage.saveProgram(makeProgram());
      await storage.saveExecution(makeExecution());
      await storage.saveHistory(makeHistory());
      await recordFs(async (events) => {
        assert(await storage.deleteProgram("p1"));
        const unlink = events.findIndex((e) => e.op === "unlink");
        assert(unlink !== -1 && syncedAfter(events, join(dir, "programs"), unlink));
      });
      await recordFs(async (events) => {
        assert(await storage.deleteExecution("e1"));
        const unlink = events.findIndex((e) => e.op === "unlink");
        assert(unlink !== -1 && syncedAfter(events, join(dir, "executions"), unlink));
        const hide = events.findIndex((e) => e.op === "rename" && e.from?.endsWith("/e1"));
        assert(hide !== -1 && syncedAfter(events, join(dir, "history"), hide));
      });
    } finally {
      await storage.disconnect();
    }
  });
});

Deno.test({
  name: "FileStorageAdapter.saveHistory() makes durable a history directory a killed writer left",
  async fn() {
    await withTempDir(async (dir) => {
      const storage = new FileStorageAdapter(dir);
      await storage.connect();
      try {
        // What a writer killed between mkdir and the fsync of its parent leaves behind.
        const orphan = join(dir, "history", "e1");
        await Deno.mkdir(orphan);
        await recordFs(async (events) => {
          await storage.saveHistory(makeHistory());
          assertDurableWrite(events, join(orphan, "1767323045678-0.json"), [orphan]);
        });
      } finally {
        await storage.disconnect();
      }
    });
  },
});

// Temp files in 0.1's form carry no lock: only the pid says whether their writer is gone.
// With only --allow-read and --allow-write, Deno cannot ask (/proc needs --allow-all,
// process.kill() --allow-run), so connect() must keep such a leftover however old: its
// writer may be alive. One that can tell removes it. (Today's temp files are judged by
// their lock, which needs no permission: tests/temp_files_test.ts.)
Deno.test({
  name:
    "FileStorageAdapter.connect() keeps temp files of writers it cannot check, and one that can check removes them",
  ignore: !canSpawn,
  async fn() {
    await withTempDir(async (dir) => {
      // A process that has exited and been waited for: its pid is dead.
      const first = spawnWorker("connector.ts", [dir]);
      const { status, stderr } = await first.finish();
      assert(status.success, stderr);
      const pid = first.child.pid;
      const fresh = join("programs", `.cvm-${pid}-00000000000000ff.tmp`);
      const old = join("executions", `.cvm-${pid}-0123456789abcdef.tmp`);
      const doomed = join("history", `.cvm-${pid}-fedcba9876543210.del`);
      await Deno.writeTextFile(join(dir, fresh), "{");
      await Deno.writeTextFile(join(dir, old), "{");
      await Deno.mkdir(join(dir, doomed, "nested"), { recursive: true });
      const dayAgo = new Date(Date.now() - 24 * 60 * 60 * 1000);
      await Deno.utime(join(dir, old), dayAgo, dayAgo);
      await Deno.utime(join(dir, doomed), dayAgo, dayAgo);

      const blind = await spawnWorker("connector.ts", [dir]).finish();
      assert(blind.status.success, blind.stderr);
      assertEquals(await findTemps(dir), [doomed, old, fresh].sort());

      const seeing = spawnWorker("connector.ts", [dir], {
        permissions: ["--allow-read", "--allow-write", "--allow-run"],
      });
      const result = await seeing.finish();
      assert(result.status.success, result.stderr);
      assertEquals(await findTemps(dir), []);
    });
  },
});

Deno.test({
  name: "FileStorageAdapter.connect() makes a data directory it creates durable",
  async fn() {
    await withTempDir(async (dir) => {
      const dataDir = join(dir, "new", "data");
      const storage = new FileStorageAdapter(dataDir);
      await recordFs(async (events) => {
        await storage.connect();
        const created = events.findIndex((e) => e.op === "mkdir" && e.path === dataDir);
        assert(created !== -1, `connect() did not create "${dataDir}"`);
        for (const made of [join(dir, "new"), dataDir]) {
          assert(
            syncedAfter(events, dirname(made), created),
            `connect() resolved before fsyncing "${dirname(made)}" after creating "${made}"`,
          );
        }
      });
      await storage.disconnect();
    });
  },
});
