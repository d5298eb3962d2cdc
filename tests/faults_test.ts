// Faults the OS can give: a data directory that is a file, a record directory replaced by a
// file or the data directory removed while connected, and ENOSPC/EIO injected through the
// `fs` seam at every step of the write path. Each gives a clear StorageError, leaves no
// partial or temp file, and the adapter keeps working once the cause is gone. Nothing here
// relies on permission bits (CI runs as root).

import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertRejects,
  assertStringIncludes,
} from "@std/assert";
import { join } from "node:path";
import { ConnectionError, CorruptRecordError, FileStorageAdapter, StorageError } from "../mod.ts";
import { fs } from "../src/file/_fs.ts";
import { makeExecution, makeHistory, makeProgram, snapshotDir, withTempDir } from "./_utils.ts";

let injected = 0;

/** An error shaped like the one the OS gives, counted as an injected fault. */
function fault(code: "ENOSPC" | "EIO"): Error {
  injected++;
  const text = code === "ENOSPC" ? "no space left on device" : "i/o error";
  return Object.assign(new Error(`${code}: ${text} (injected)`), { code });
}

/** Replaces `fs[key]` while `fn` runs. */
async function patched<K extends keyof typeof fs, T>(
  key: K,
  replacement: (original: (typeof fs)[K]) => unknown,
  fn: () => Promise<T>,
): Promise<T> {
  const original = fs[key];
  fs[key] = replacement(original) as (typeof fs)[K];
  try {
    return await fn();
  } finally {
    fs[key] = original;
  }
}

type NewFile = Awaited<ReturnType<typeof fs.createFile>>;
type OpenDir = Awaited<ReturnType<typeof fs.openDir>>;

/** Makes the temp files `fs.createFile` creates fail. */
function faultyFiles(
  breakFile: (file: NewFile) => void,
): (original: typeof fs.createFile) => typeof fs.createFile {
  return (original) => async (path, mode) => {
    const file = await original(path, mode);
    breakFile(file);
    return file;
  };
}

/** Makes the directories `fs.openDir` opens fail. */
function faultyDirs(
  breakDir: (dir: OpenDir) => void,
): (original: typeof fs.openDir) => typeof fs.openDir {
  return (original) => async (path) => {
    const dir = await original(path);
    breakDir(dir);
    return dir;
  };
}

/** Every temp file or directory under `dir`. */
async function temps(dir: string): Promise<string[]> {
  return [...(await snapshotDir(dir)).keys()].filter((rel) => rel.includes(".cvm-"));
}

async function seeded(dir: string): Promise<FileStorageAdapter> {
  const storage = new FileStorageAdapter(dir);
  await storage.connect();
  await storage.saveProgram(makeProgram({ name: "old" }));
  await storage.saveExecution(makeExecution({ pc: 0 }));
  await storage.saveHistory(makeHistory({ step: 0 }));
  return storage;
}

/** A write, what it changes, and how to check that it happened. */
interface Write {
  name: string;
  /** The path (relative to the data directory) the write puts in place. */
  target: string;
  run(storage: FileStorageAdapter): Promise<unknown>;
  check(storage: FileStorageAdapter): Promise<void>;
}

const WRITES: Write[] = [
  {
    name: "saveProgram",
    target: join("programs", "p1.json"),
    run: (s) => s.saveProgram(makeProgram({ name: "new", source: "x".repeat(100_000) })),
    check: async (s) =>
      assertEquals(
        await s.getProgram("p1"),
        makeProgram({ name: "new", source: "x".repeat(100_000) }),
      ),
  },
  {
    name: "saveExecution",
    target: join("executions", "e1.json"),
    run: (s) => s.saveExecution(makeExecution({ pc: 7 })),
    check: async (s) => assertEquals(await s.getExecution("e1"), makeExecution({ pc: 7 })),
  },
  {
    name: "saveHistory",
    target: join("history", "e1", "1767323045678-1.json"),
    run: (s) => s.saveHistory(makeHistory({ step: 1 })),
    check: async (s) =>
      assertEquals(await s.getHistory("e1"), [makeHistory({ step: 0 }), makeHistory({ step: 1 })]),
  },
];

/** A fault in the write path, and whether the write may have taken effect anyway. */
interface Fault {
  name: string;
  only?: string[];
  /** After the new file is in place, so the write may or may not have taken effect. */
  late?: boolean;
  inject<T>(fn: () => Promise<T>): Promise<T>;
}

const FAULTS: Fault[] = [
  {
    name: "ENOSPC creating the temp file",
    inject: (fn) => patched("createFile", () => () => Promise.reject(fault("ENOSPC")), fn),
  },
  {
    name: "ENOSPC halfway through writing the temp file",
    inject: (fn) =>
      patched(
        "createFile",
        faultyFiles((file) => {
          const writeFile = file.writeFile.bind(file);
          file.writeFile = async (data: string | Uint8Array) => {
            await writeFile(data.slice(0, data.length / 2));
            throw fault("ENOSPC");
          };
        }),
        fn,
      ),
  },
  {
    name: "EIO syncing the temp file",
    inject: (fn) =>
      patched(
        "createFile",
        faultyFiles((file) => {
          file.sync = () => Promise.reject(fault("EIO"));
        }),
        fn,
      ),
  },
  {
    // The temp file stays open (and locked) until it is in place.
    name: "EIO closing the temp file",
    late: true,
    inject: (fn) =>
      patched(
        "createFile",
        faultyFiles((file) => {
          const close = file.close.bind(file);
          file.close = async () => {
            await close();
            throw fault("EIO");
          };
        }),
        fn,
      ),
  },
  {
    name: "EIO renaming the temp file into place",
    only: ["saveProgram", "saveExecution"],
    inject: (fn) => patched("rename", () => () => Promise.reject(fault("EIO")), fn),
  },
  {
    name: "ENOSPC linking the temp file into place",
    only: ["saveHistory"],
    inject: (fn) => patched("link", () => () => Promise.reject(fault("ENOSPC")), fn),
  },
  {
    name: "EIO syncing the directory",
    late: true,
    inject: (fn) =>
      patched(
        "openDir",
        faultyDirs((dir) => {
          dir.sync = () => Promise.reject(fault("EIO"));
        }),
        fn,
      ),
  },
];

for (const write of WRITES) {
  for (const f of FAULTS) {
    if (f.only !== undefined && !f.only.includes(write.name)) continue;
    Deno.test(`FileStorageAdapter.${write.name}() on ${f.name}: StorageError, nothing partial, recovers`, async () => {
      await withTempDir(async (dir) => {
        const storage = await seeded(dir);
        const before = await snapshotDir(dir);
        const count = injected;
        const error = await assertRejects(() => f.inject(() => write.run(storage)), StorageError);
        assert(injected > count, "the fault was not hit");
        assertEquals(error.constructor, StorageError);
        assertEquals(error.code, "IO");
        assertStringIncludes(error.message, join(dir, write.target));
        assertStringIncludes(error.message, f.name.split(" ")[0]);
        assertStringIncludes(error.message, "try again");
        assertEquals((error.cause as { code?: string }).code, f.name.split(" ")[0]);
        // Once the new file is in place, the failure may hide a stored write, and says so.
        assertEquals(error.maybeStored, f.late === true);
        if (f.late) {
          assertStringIncludes(error.message, "may be stored");
          assertStringIncludes(error.message, "making the same call again is safe");
        } else {
          assert(!error.message.includes("may be stored"));
        }

        assertEquals(await temps(dir), []);
        const after = await snapshotDir(dir);
        if (f.late) {
          // The new file was in place when the directory sync failed: the record is
          // whole, old or new, and nothing else changed.
          after.set(write.target, before.get(write.target) ?? null);
          if (!before.has(write.target)) after.delete(write.target);
        }
        assertEquals(after, before);
        if (f.late) {
          // The rename or link came before the failed sync: the new version is in place.
          await write.check(storage);
        } else {
          assertEquals(await storage.getProgram("p1"), makeProgram({ name: "old" }));
          assertEquals(await storage.getExecution("e1"), makeExecution({ pc: 0 }));
          assertEquals(await storage.getHistory("e1"), [makeHistory({ step: 0 })]);
        }

        // The cause is gone: the same adapter works (a history entry that did get in
        // place is not written twice).
        assert(storage.isConnected());
        if (!(f.late && write.name === "saveHistory")) await write.run(storage);
        await write.check(storage);
        assertEquals(await temps(dir), []);
      });
    });
  }
}

Deno.test("FileStorageAdapter names the real cause when the file system keeps failing", async () => {
  await withTempDir(async (dir) => {
    const storage = await seeded(dir);
    const causes: [string, string][] = [
      ["EMFILE", "too many open files: raise its limit (ulimit -n) or make fewer calls at once"],
      ["ENFILE", "the system has too many open files"],
      ["EACCES", "permission was denied"],
      ["EROFS", "the file system is read-only"],
      ["ENOSPC", "the disk is full"],
      ["EIO", "I/O error"],
    ];
    for (const [code, cause] of causes) {
      const failure = Object.assign(new Error(`${code}: injected`), { code });
      const error = await assertRejects(
        () =>
          patched(
            "createFile",
            () => () => Promise.reject(failure),
            () => storage.saveProgram(makeProgram()),
          ),
        StorageError,
      );
      assertStringIncludes(error.message, cause);
      assertStringIncludes(error.message, code);
      assertEquals(error.maybeStored, false);
      if (code !== "ENOSPC") assert(!error.message.includes("space"), error.message);
    }
  });
});

Deno.test("FileStorageAdapter.saveHistory() on ENOSPC creating the history directory", async () => {
  await withTempDir(async (dir) => {
    const storage = await seeded(dir);
    const before = await snapshotDir(dir);
    const entry = makeHistory({ executionId: "e9" });
    const error = await assertRejects(
      () =>
        patched(
          "mkdir",
          () => () => Promise.reject(fault("ENOSPC")),
          () => storage.saveHistory(entry),
        ),
      StorageError,
    );
    assertEquals(error.code, "IO");
    assertStringIncludes(error.message, "ENOSPC");
    assertStringIncludes(error.message, join(dir, "history", "e9"));
    assertEquals(await snapshotDir(dir), before);
    assertEquals(await storage.getHistory("e9"), []);
    await storage.saveHistory(entry);
    assertEquals(await storage.getHistory("e9"), [entry]);
  });
});

Deno.test("FileStorageAdapter delete methods on EIO: StorageError, nothing lost, recovers", async () => {
  await withTempDir(async (dir) => {
    const storage = await seeded(dir);
    const before = await snapshotDir(dir);
    const eio = () => () => Promise.reject(fault("EIO"));
    for (
      const [op, key] of [
        [() => storage.deleteProgram("p1"), "unlink"],
        [() => storage.deleteExecution("e1"), "unlink"],
      ] as const
    ) {
      const error = await assertRejects(() => patched(key, eio, op), StorageError);
      assertEquals(error.code, "IO");
      assertStringIncludes(error.message, "EIO");
      assertEquals(await snapshotDir(dir), before);
    }
    // The execution file is gone before its history is renamed away: a retry finishes it.
    const error = await assertRejects(
      () => patched("rename", eio, () => storage.deleteExecution("e1")),
      StorageError,
    );
    assertStringIncludes(error.message, join(dir, "history", "e1"));
    assertEquals(await storage.getExecution("e1"), null);
    assertEquals(await storage.getHistory("e1"), [makeHistory({ step: 0 })]);
    assertEquals(await storage.deleteExecution("e1"), false);
    assertEquals(await storage.getHistory("e1"), []);
    assertEquals(await storage.deleteProgram("p1"), true);
    assertEquals(await temps(dir), []);
  });
});

Deno.test("FileStorageAdapter reads on EIO: StorageError, not null, not corrupt", async () => {
  await withTempDir(async (dir) => {
    const storage = await seeded(dir);
    // Records are read with synchronous calls (see src/file/_record_file.ts).
    const eio = (key: "readSync" | "readDirNames") =>
      key === "readSync"
        ? () => () => {
          throw fault("EIO");
        }
        : () => () => Promise.reject(fault("EIO"));
    const reads: [string, () => Promise<unknown>, "readSync" | "readDirNames"][] = [
      ["getProgram", () => storage.getProgram("p1"), "readSync"],
      ["getExecution", () => storage.getExecution("e1"), "readSync"],
      ["getHistory", () => storage.getHistory("e1"), "readSync"],
      ["listPrograms", () => storage.listPrograms(), "readSync"],
      ["listExecutions", () => storage.listExecutions(), "readSync"],
      ["getHistory", () => storage.getHistory("e1"), "readDirNames"],
      ["listPrograms", () => storage.listPrograms(), "readDirNames"],
      ["listExecutions", () => storage.listExecutions(), "readDirNames"],
    ];
    for (const [name, read, key] of reads) {
      const error = await assertRejects(
        () => patched(key, eio(key), read),
        StorageError,
        undefined,
      );
      assertEquals(error.code, "IO", `${name} with ${key} failing`);
      assertStringIncludes(error.message, "EIO");
      assertStringIncludes(error.message, dir);
    }
    assertEquals(await storage.getProgram("p1"), makeProgram({ name: "old" }));
    assertEquals((await storage.listExecutions()).length, 1);
  });
});

Deno.test("FileStorageAdapter.connect() on ENOSPC: ConnectionError, and a later connect works", async () => {
  await withTempDir(async (root) => {
    const dir = join(root, "data");
    const storage = new FileStorageAdapter(dir);
    const error = await assertRejects(
      () => patched("mkdir", () => () => Promise.reject(fault("ENOSPC")), () => storage.connect()),
      ConnectionError,
    );
    assertStringIncludes(error.message, "ENOSPC");
    assertStringIncludes(error.message, dir);
    assertEquals(storage.isConnected(), false);
    await storage.connect();
    await storage.saveProgram(makeProgram());
    assertEquals(await storage.getProgram("p1"), makeProgram());
  });
});

Deno.test("FileStorageAdapter.connect() throws ConnectionError when dataDir is a file", async () => {
  await withTempDir(async (root) => {
    const file = join(root, "data");
    await Deno.writeTextFile(file, "keep me");
    for (const dataDir of [file, join(file, "sub")]) {
      const storage = new FileStorageAdapter(dataDir);
      const error = await assertRejects(() => storage.connect(), ConnectionError);
      assertStringIncludes(error.message, dataDir);
      assertEquals(storage.isConnected(), false);
    }
    assertEquals(await Deno.readTextFile(file), "keep me");
    // The cause is gone.
    await Deno.remove(file);
    const storage = new FileStorageAdapter(file);
    await storage.connect();
    await storage.saveProgram(makeProgram());
  });
});

Deno.test("FileStorageAdapter.connect() throws ConnectionError when a record directory is a file", async () => {
  await withTempDir(async (dir) => {
    await new FileStorageAdapter(dir).connect();
    for (const sub of ["programs", "executions", "history"]) {
      await Deno.remove(join(dir, sub));
      await Deno.writeTextFile(join(dir, sub), "");
      const error = await assertRejects(
        () => new FileStorageAdapter(dir).connect(),
        ConnectionError,
      );
      assertStringIncludes(error.message, join(dir, sub));
      await Deno.remove(join(dir, sub));
      await Deno.mkdir(join(dir, sub));
    }
  });
});

Deno.test("FileStorageAdapter with a record directory replaced by a file while connected", async () => {
  await withTempDir(async (dir) => {
    const storage = await seeded(dir);
    const programs = join(dir, "programs");
    await Deno.remove(programs, { recursive: true });
    await Deno.writeTextFile(programs, "in the way");
    const before = await snapshotDir(dir);

    const save = await assertRejects(() => storage.saveProgram(makeProgram()), StorageError);
    assertEquals(save.code, "IO");
    assertStringIncludes(save.message, programs);
    const read = await assertRejects(() => storage.getProgram("p1"), StorageError);
    assertStringIncludes(read.message, programs);
    const list = await assertRejects(() => storage.listPrograms(), CorruptRecordError);
    assertEquals(list.path, programs);
    assertEquals(await snapshotDir(dir), before);
    // The other kinds carry on.
    await storage.saveExecution(makeExecution({ pc: 9 }));
    assertEquals(await storage.getExecution("e1"), makeExecution({ pc: 9 }));

    // The history directory of one execution, too.
    const e1 = join(dir, "history", "e1");
    await Deno.remove(e1, { recursive: true });
    await Deno.writeTextFile(e1, "in the way");
    const history = await assertRejects(
      () => storage.saveHistory(makeHistory({ step: 1 })),
      StorageError,
    );
    assertStringIncludes(history.message, e1);
    assertInstanceOf(
      await assertRejects(() => storage.getHistory("e1"), CorruptRecordError),
      CorruptRecordError,
    );
    assertEquals(await temps(dir), []);

    // The cause is gone.
    await Deno.remove(programs);
    await Deno.mkdir(programs);
    await Deno.remove(e1);
    await storage.saveProgram(makeProgram());
    await storage.saveHistory(makeHistory({ step: 1 }));
    assertEquals(await storage.listPrograms(), [makeProgram()]);
    assertEquals(await storage.getHistory("e1"), [makeHistory({ step: 1 })]);
  });
});

Deno.test("FileStorageAdapter with the data directory removed while connected", async () => {
  await withTempDir(async (root) => {
    const dir = join(root, "data");
    const storage = await seeded(dir);
    await Deno.remove(dir, { recursive: true });

    for (
      const write of [
        () => storage.saveProgram(makeProgram()),
        () => storage.saveExecution(makeExecution()),
        () => storage.saveHistory(makeHistory({ step: 1 })),
        () => storage.saveHistory(makeHistory({ executionId: "e2" })),
      ]
    ) {
      const error = await assertRejects(write, StorageError);
      assertEquals(error.code, "IO");
      assertStringIncludes(error.message, dir);
      assertStringIncludes(error.message, "ENOENT");
      assertStringIncludes(error.message, "the data directory still exists");
    }
    // Nothing was recreated behind the user's back.
    assertEquals([...Deno.readDirSync(root)], []);
    // Reads find nothing, as for an empty store.
    assertEquals(await storage.getProgram("p1"), null);
    assertEquals(await storage.getExecution("e1"), null);
    assertEquals(await storage.getHistory("e1"), []);
    assertEquals(await storage.listPrograms(), []);
    assertEquals(await storage.listExecutions(), []);
    assertEquals(await storage.deleteProgram("p1"), false);
    assertEquals(await storage.deleteExecution("e1"), false);

    // Restored from a backup: the same adapter carries on.
    for (const sub of ["programs", "executions", "history"]) {
      await Deno.mkdir(join(dir, sub), { recursive: true });
    }
    await storage.saveProgram(makeProgram());
    assertEquals(await storage.getProgram("p1"), makeProgram());

    // Removed again: disconnect() and connect() create it afresh.
    await Deno.remove(dir, { recursive: true });
    await storage.disconnect();
    await storage.connect();
    await storage.saveHistory(makeHistory());
    assertEquals(await storage.getHistory("e1"), [makeHistory()]);
  });
});

Deno.test("FileStorageAdapter fault summary", () => {
  console.log(`faults injected: ${injected}`);
  assert(injected >= 20);
});
