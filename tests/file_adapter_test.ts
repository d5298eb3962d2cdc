// File-backend behaviour beyond the shared compliance suite: the layout on disk, the JSON
// format, modes, fsync, temp files, and ids that try to escape the data directory.

import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertMatch,
  assertNotEquals,
  assertRejects,
  assertStringIncludes,
} from "@std/assert";
import { join, resolve } from "node:path";
import { ConflictError, ConnectionError, FileStorageAdapter } from "../mod.ts";
import { fs } from "../src/file/_fs.ts";
import {
  allSettled,
  makeExecution,
  makeHistory,
  makeProgram,
  snapshotDir,
  withTempDir,
} from "./_utils.ts";

const posix = Deno.build.os !== "windows";
/** Larger than any pid a system hands out (Linux caps them at 2^22, macOS at 99999). */
const DEAD_PID = 99_999_999;

async function withAdapter(
  fn: (storage: FileStorageAdapter, dir: string) => Promise<void>,
  options: { fsync?: boolean } = {},
): Promise<void> {
  await withTempDir(async (dir) => {
    const storage = new FileStorageAdapter({ dataDir: dir, ...options });
    await storage.connect();
    try {
      await fn(storage, dir);
    } finally {
      await storage.disconnect();
    }
  });
}

/** Every file and directory under `dir`, relative, sorted. */
async function tree(dir: string): Promise<string[]> {
  return [...(await snapshotDir(dir)).keys()].sort();
}

function tempFileName(pid: number): string {
  const hex = Array.from(crypto.getRandomValues(new Uint8Array(8)))
    .map((byte) => byte.toString(16).padStart(2, "0")).join("");
  return `.cvm-${pid}-${hex}.tmp`;
}

Deno.test("FileStorageAdapter stores records in the seed's layout, plain ids verbatim", async () => {
  await withAdapter(async (storage, dir) => {
    await storage.saveProgram(makeProgram({ id: "hello" }));
    await storage.saveExecution(makeExecution({ id: "e1", programId: "hello" }));
    await storage.saveHistory(makeHistory({ executionId: "e1", step: 3 }));
    await storage.saveHistory(
      makeHistory({ executionId: "e1", step: 10, timestamp: new Date(1767323045679) }),
    );
    await storage.saveProgram(makeProgram({ id: "my-prog_2.v1" }));
    assertEquals(await tree(dir), [
      "executions/",
      "executions/e1.json",
      "history/",
      "history/e1/",
      "history/e1/1767323045678-3.json",
      "history/e1/1767323045679-10.json",
      "programs/",
      "programs/hello.json",
      "programs/my-prog_2.v1.json",
    ]);
  });
});

Deno.test("FileStorageAdapter encodes other ids readably", async () => {
  await withAdapter(async (storage, dir) => {
    const ids = ["My File", "CON", "nul.txt", "a.", ".a", "x/y", "ü"];
    for (const id of ids) await storage.saveProgram(makeProgram({ id }));
    await storage.saveHistory(makeHistory({ executionId: "Run 1" }));
    assertEquals(await tree(join(dir, "programs")), [
      "~%2ea.json",
      "~%c3%bc.json",
      "~^c^o^n.json",
      "~^my%20^file.json",
      "~a%2e.json",
      "~nul.txt.json",
      "~x%2fy.json",
    ]);
    assertEquals(await tree(join(dir, "history")), [
      "~^run%201/",
      "~^run%201/1767323045678-0.json",
    ]);
    assertEquals((await storage.listPrograms()).map((p) => p.id), [...ids].sort());
  });
});

Deno.test("FileStorageAdapter writes pretty-printed JSON with a one-line {$date} for every Date", async () => {
  await withAdapter(async (storage, dir) => {
    const created = new Date("2026-01-02T03:04:05.678Z");
    const nested = new Date("1969-12-31T23:59:59.999Z");
    await storage.saveExecution(
      makeExecution({ id: "e1", created, variables: { when: nested, list: [nested] } }),
    );
    const text = await Deno.readTextFile(join(dir, "executions", "e1.json"));
    const expected = {
      id: "e1",
      programId: "p1",
      state: "running",
      pc: 1,
      stack: [1],
      variables: {
        when: { $date: "1969-12-31T23:59:59.999Z" },
        list: [{ $date: "1969-12-31T23:59:59.999Z" }],
      },
      output: ["hello"],
      created: { $date: "2026-01-02T03:04:05.678Z" },
    };
    assertEquals(JSON.parse(text), expected);
    // Pretty-printed, with each Date on one line.
    assertStringIncludes(text, '\n  "id": "e1",\n  "programId": "p1",\n');
    assertStringIncludes(text, '\n    "when": { "$date": "1969-12-31T23:59:59.999Z" },\n');
    assertStringIncludes(
      text,
      '\n    "list": [\n      { "$date": "1969-12-31T23:59:59.999Z" }\n    ]\n',
    );
    assertStringIncludes(text, '\n  "created": { "$date": "2026-01-02T03:04:05.678Z" }\n}\n');
  });
});

Deno.test("FileStorageAdapter.dataDir is absolute, a relative path resolved against the cwd", () => {
  assertEquals(new FileStorageAdapter("rel/data").dataDir, resolve(Deno.cwd(), "rel/data"));
  assertEquals(
    new FileStorageAdapter({ dataDir: "./a/../b/" }).dataDir,
    resolve(Deno.cwd(), "b"),
  );
  assertEquals(new FileStorageAdapter("/srv/cvm/").dataDir, resolve("/srv/cvm"));
});

/** Counts the `sync()` calls made through the `fs` seam while `fn` runs. */
async function countSyncs(fn: () => Promise<void>): Promise<{ files: number; dirs: number }> {
  const counts = { files: 0, dirs: 0 };
  const { createFile, openDir } = fs;
  const counted = <H extends { sync(): Promise<void> }>(handle: H, kind: "files" | "dirs") => {
    const sync = handle.sync.bind(handle);
    handle.sync = () => {
      counts[kind]++;
      return sync();
    };
    return handle;
  };
  fs.createFile = async (path, mode) => counted(await createFile(path, mode), "files");
  fs.openDir = async (path) => counted(await openDir(path), "dirs");
  try {
    await fn();
  } finally {
    Object.assign(fs, { createFile, openDir });
  }
  return counts;
}

Deno.test("FileStorageAdapter fsyncs each file and its directory by default", async () => {
  await withAdapter(async (storage) => {
    const counts = await countSyncs(async () => {
      await storage.saveProgram(makeProgram());
      await storage.saveExecution(makeExecution());
      await storage.saveHistory(makeHistory());
    });
    assertEquals(counts.files, 3);
    // Three directories for the writes, and history/ for the new history/e1/.
    assertEquals(counts.dirs, 4);
    const deletes = await countSyncs(async () => {
      await storage.deleteProgram("p1");
      await storage.deleteExecution("e1");
    });
    assertEquals(deletes, { files: 0, dirs: 3 });
  });
});

Deno.test("FileStorageAdapter with fsync: false never fsyncs, and still writes atomically", async () => {
  await withAdapter(async (storage, dir) => {
    const counts = await countSyncs(async () => {
      await storage.saveProgram(makeProgram());
      await storage.saveExecution(makeExecution());
      await storage.saveHistory(makeHistory());
      await storage.deleteExecution("e1");
    });
    assertEquals(counts, { files: 0, dirs: 0 });
    assertEquals(await tree(dir), ["executions/", "history/", "programs/", "programs/p1.json"]);
    assertEquals(await storage.getProgram("p1"), makeProgram());
  }, { fsync: false });
});

Deno.test({
  name: "FileStorageAdapter creates directories 0700 and files 0600",
  ignore: !posix,
  async fn() {
    await withTempDir(async (root) => {
      const dir = join(root, "a", "data");
      const storage = new FileStorageAdapter(dir);
      await storage.connect();
      await storage.saveProgram(makeProgram());
      await storage.saveExecution(makeExecution());
      await storage.saveHistory(makeHistory());
      await storage.saveHistory(makeHistory({ step: 1 }));
      const modes: Record<string, string> = {};
      for (const rel of ["", ...await tree(dir)]) {
        const mode = (await Deno.stat(join(dir, rel))).mode! & 0o777;
        modes[rel] = mode.toString(8);
      }
      assertEquals(modes, {
        "": "700",
        "executions/": "700",
        "executions/e1.json": "600",
        "history/": "700",
        "history/e1/": "700",
        "history/e1/1767323045678-0.json": "600",
        "history/e1/1767323045678-1.json": "600",
        "programs/": "700",
        "programs/p1.json": "600",
      });
      assertEquals(((await Deno.stat(join(root, "a"))).mode! & 0o777).toString(8), "700");
    });
  },
});

Deno.test("FileStorageAdapter never shows temp files through a read or a list", async () => {
  await withAdapter(async (storage, dir) => {
    await storage.saveProgram(makeProgram());
    await storage.saveHistory(makeHistory());
    const valid = await Deno.readTextFile(join(dir, "programs", "p1.json"));
    const entry = await Deno.readTextFile(join(dir, "history", "e1", "1767323045678-0.json"));
    // Temp files in flight: half-written ones, and complete ones not yet renamed.
    await Deno.writeTextFile(join(dir, "programs", tempFileName(Deno.pid)), valid.slice(0, 20));
    await Deno.writeTextFile(
      join(dir, "programs", tempFileName(Deno.pid)),
      valid.replace('"p1"', '"p2"'),
    );
    await Deno.writeTextFile(join(dir, "executions", tempFileName(Deno.pid)), "{");
    await Deno.writeTextFile(
      join(dir, "history", "e1", tempFileName(Deno.pid)),
      entry.replace('"step": 0', '"step": 1'),
    );
    await Deno.mkdir(join(dir, "history", `.cvm-${Deno.pid}-0123456789abcdef.del`));
    assertEquals(await storage.listPrograms(), [makeProgram()]);
    assertEquals(await storage.getProgram("p2"), null);
    assertEquals(await storage.listExecutions(), []);
    assertEquals(await storage.getHistory("e1"), [makeHistory()]);
    // An id that looks like a temp file is an ordinary id.
    const id = `.cvm-${DEAD_PID}-0123456789abcdef.tmp`;
    await storage.saveProgram(makeProgram({ id }));
    await storage.saveHistory(makeHistory({ executionId: id }));
    const again = new FileStorageAdapter(dir);
    await again.connect();
    assertEquals((await again.listPrograms()).map((p) => p.id), [id, "p1"]);
    assertEquals(await again.getHistory(id), [makeHistory({ executionId: id })]);
  });
});

Deno.test("FileStorageAdapter.saveProgram() from many promises at once keeps one whole version", async () => {
  await withAdapter(async (storage, dir) => {
    const versions = Array.from(
      { length: 50 },
      (_, i) => makeProgram({ name: `v${i}`, source: "x".repeat(1000 * (i + 1)) }),
    );
    await allSettled(versions.map((program) => storage.saveProgram(program)));
    const saved = await storage.getProgram("p1");
    if (saved === null) throw new Error("the program is missing");
    assertEquals(saved, versions[Number(saved.name.slice(1))]);
    assertEquals(await tree(dir), ["executions/", "history/", "programs/", "programs/p1.json"]);
  });
});

Deno.test("FileStorageAdapter.saveHistory() from many promises at once: exactly one wins", async () => {
  await withAdapter(async (storage, dir) => {
    const entries = Array.from({ length: 30 }, (_, i) => makeHistory({ pc: i }));
    const results = await Promise.allSettled(entries.map((entry) => storage.saveHistory(entry)));
    const won = results.filter((result) => result.status === "fulfilled");
    assertEquals(won.length, 1);
    for (const result of results) {
      if (result.status === "rejected") assertInstanceOf(result.reason, ConflictError);
    }
    const stored = await storage.getHistory("e1");
    assertEquals(stored.length, 1);
    assertEquals(stored[0], entries[stored[0].pc]);
    assertEquals(await tree(join(dir, "history")), ["e1/", "e1/1767323045678-0.json"]);
  });
});

Deno.test("FileStorageAdapter keeps ids that try to escape inside the data directory", async () => {
  await withTempDir(async (root) => {
    const dir = join(root, "data");
    const storage = new FileStorageAdapter(dir);
    await storage.connect();
    const ids = [
      "../x",
      "../../x",
      "/etc/passwd",
      "..\\x",
      "..\\..\\x",
      "C:\\x",
      "a\0b",
      "\0",
      "..",
      ".",
      "programs/../../x",
      "x/../../../y",
      "~",
      "%2e%2e",
    ];
    for (const id of ids) {
      await storage.saveProgram(makeProgram({ id }));
      await storage.saveExecution(makeExecution({ id, programId: id }));
      await storage.saveHistory(makeHistory({ executionId: id }));
    }
    assertEquals((await tree(root)).filter((rel) => !rel.startsWith("data/")), []);
    const paths = await tree(dir);
    assertEquals(paths.filter((rel) => /^programs\/[^/]+\.json$/.test(rel)).length, ids.length);
    assertEquals(paths.filter((rel) => /^executions\/[^/]+\.json$/.test(rel)).length, ids.length);
    assertEquals(
      paths.filter((rel) => /^history\/[^/]+\/[^/]+\.json$/.test(rel)).length,
      ids.length,
    );
    for (const id of ids) {
      assertEquals(await storage.getProgram(id), makeProgram({ id }));
      assertEquals(await storage.getExecution(id), makeExecution({ id, programId: id }));
      assertEquals(await storage.getHistory(id), [makeHistory({ executionId: id })]);
    }
    assertEquals((await storage.listPrograms()).map((p) => p.id), [...ids].sort());
    for (const id of ids) {
      assertEquals(await storage.deleteExecution(id), true);
      assertEquals(await storage.deleteProgram(id), true);
    }
    assertEquals(await tree(root), [
      "data/",
      "data/executions/",
      "data/history/",
      "data/programs/",
    ]);
  });
});

Deno.test("FileStorageAdapter.connect() throws ConnectionError when dataDir is a file", async () => {
  await withTempDir(async (root) => {
    const file = join(root, "data");
    await Deno.writeTextFile(file, "not a directory");
    const storage = new FileStorageAdapter(file);
    const error = await assertRejects(() => storage.connect(), ConnectionError);
    assertStringIncludes(error.message, `"${file}"`);
    assertMatch(error.message, /dataDir or CVM_DATA_DIR/);
    assertEquals(storage.isConnected(), false);
    assertEquals(await Deno.readTextFile(file), "not a directory");
  });
});

Deno.test("FileStorageAdapter.connect() is idempotent and safe to call concurrently", async () => {
  await withTempDir(async (root) => {
    const dir = join(root, "nested", "data");
    const storage = new FileStorageAdapter(dir);
    await Promise.all([storage.connect(), storage.connect(), storage.connect()]);
    await storage.connect();
    assert(storage.isConnected());
    await storage.saveProgram(makeProgram());
    assertNotEquals(await storage.getProgram("p1"), null);
    assertEquals(await tree(dir), ["executions/", "history/", "programs/", "programs/p1.json"]);
  });
});

Deno.test("FileStorageAdapter.deleteExecution() removes its history directory entirely", async () => {
  await withAdapter(async (storage, dir) => {
    await storage.saveExecution(makeExecution());
    for (let step = 0; step < 5; step++) await storage.saveHistory(makeHistory({ step }));
    await storage.saveHistory(makeHistory({ executionId: "e2" }));
    assertEquals(await storage.deleteExecution("e1"), true);
    assertEquals(await tree(join(dir, "history")), ["e2/", "e2/1767323045678-0.json"]);
    assertEquals(await storage.getHistory("e1"), []);
    // History without an execution file is still removed.
    assertEquals(await storage.deleteExecution("e2"), false);
    assertEquals(await tree(join(dir, "history")), []);
  });
});
