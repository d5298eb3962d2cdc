// Temp files and the writers that own them (the rule is in src/file/_temp_files.ts).
// Deno Workers (and Node worker_threads, in tests/node/workers.test.mjs) share their process
// id with the main thread, so nothing that goes by the process id alone may remove a temp
// file: these tests write from Workers while the main thread connects again and again, plant
// leftovers of live and dead writers, and race a `connect` against a writer's first moments.

import { assert, assertEquals } from "@std/assert";
import { join } from "node:path";
import { FileStorageAdapter } from "../mod.ts";
import { fs } from "../src/file/_fs.ts";
import { makeExecution, makeHistory, makeProgram, withTempDir } from "./_utils.ts";
import { canSpawn, spawnWorker } from "./_workers/_spawn.ts";

/** Larger than any pid a system hands out (Linux caps them at 2^22, macOS at 99999). */
const DEAD_PID = 99_999_999;
const runGranted = Deno.permissions.querySync({ name: "run" }).state === "granted";

function hex(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(8)))
    .map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** A temp file name as a Deno writer (pid space unknown: `x`) makes it. */
function denoTemp(pid: number, mode: "l" | "u", suffix = "tmp"): string {
  return `.cvm-${pid}-x-${mode}${hex()}.${suffix}`;
}

/** A temp file name as version 0.1 made it. */
function oldTemp(pid: number, suffix = "tmp"): string {
  return `.cvm-${pid}-${hex()}.${suffix}`;
}

/** Every path under `dir`, relative, sorted; directories end in `/`. Reads no file. */
async function tree(dir: string, sub = ""): Promise<string[]> {
  const found: string[] = [];
  for await (const entry of Deno.readDir(join(dir, sub))) {
    const rel = sub === "" ? entry.name : `${sub}/${entry.name}`;
    if (entry.isDirectory) found.push(`${rel}/`, ...await tree(dir, rel));
    else found.push(rel);
  }
  return found.sort();
}

/** Plants `rel` under `dir` with a half-written record. */
async function plant(dir: string, rel: string): Promise<void> {
  await Deno.writeTextFile(join(dir, rel), '{"id": "half a rec');
}

/** Connects a fresh adapter on `dir` and returns the paths `connect` removed. */
async function removedByConnect(dir: string): Promise<string[]> {
  const before = await tree(dir);
  const storage = new FileStorageAdapter(dir);
  await storage.connect();
  await storage.disconnect();
  const after = new Set(await tree(dir));
  return before.filter((rel) => !after.has(rel)).sort();
}

const WORKERS = 4;
const SAVES = 60;

interface Report {
  kind: "error" | "done";
  message?: string;
  writes?: number;
}

Deno.test("FileStorageAdapter.connect() on the main thread never removes a Worker's temp files", async () => {
  await withTempDir(async (dir) => {
    await new FileStorageAdapter(dir).connect();
    const errors: string[] = [];
    let writes = 0;
    let connects = 0;
    const workers = Array.from(
      { length: WORKERS },
      () => new Worker(new URL("./_workers/thread_writer.ts", import.meta.url), { type: "module" }),
    );
    try {
      const done = workers.map((worker, writer) =>
        new Promise<void>((resolve) => {
          worker.onmessage = ({ data }: MessageEvent<Report>) => {
            if (data.kind === "error") errors.push(data.message!);
            else {
              writes += data.writes!;
              resolve();
            }
          };
          worker.onerror = (event) => {
            errors.push(`worker ${writer} failed: ${event.message}`);
            event.preventDefault();
            resolve();
          };
          worker.postMessage({ dataDir: dir, writer, count: SAVES });
        })
      );
      let finished = false;
      const all = Promise.all(done).then(() => finished = true);
      while (!finished) {
        const storage = new FileStorageAdapter(dir);
        await storage.connect();
        await storage.disconnect();
        connects++;
      }
      await all;
    } finally {
      for (const worker of workers) worker.terminate();
    }
    console.log(`${writes} saves from ${WORKERS} Workers during ${connects} connects`);
    assertEquals(errors, []);
    assertEquals(writes, WORKERS * SAVES * 3);
    assert(connects > 10, `only ${connects} connects ran during the saves`);
    const storage = new FileStorageAdapter(dir);
    await storage.connect();
    for (let w = 0; w < WORKERS; w++) {
      assertEquals(
        await storage.getProgram(`w${w}`),
        makeProgram({ id: `w${w}`, name: `v${SAVES - 1}` }),
      );
      assertEquals(
        await storage.getExecution(`w${w}`),
        makeExecution({ id: `w${w}`, pc: SAVES - 1 }),
      );
      const history = await storage.getHistory(`w${w}`);
      assertEquals(history.length, SAVES);
      assertEquals(history[SAVES - 1], makeHistory({ executionId: `w${w}`, step: SAVES - 1 }));
    }
    await storage.disconnect();
    assertEquals((await tree(dir)).filter((rel) => rel.includes(".cvm-")), []);
  });
});

Deno.test("FileStorageAdapter.connect() removes unlocked temp files of other processes and keeps everything else", async () => {
  await withTempDir(async (dir) => {
    const first = new FileStorageAdapter(dir);
    await first.connect();
    await first.saveProgram(makeProgram());
    await first.saveHistory(makeHistory());
    await first.disconnect();
    // Locked-mode files of another process whose lock no one holds: their writer closed
    // them or died. No permission beyond reading and writing is needed to tell.
    const stale = [
      join(dir, denoTemp(DEAD_PID, "l")),
      join("programs", denoTemp(DEAD_PID, "l")),
      join("executions", denoTemp(1, "l")),
      join("history", denoTemp(DEAD_PID, "l")),
      join("history", "e1", denoTemp(DEAD_PID, "l")),
    ].map((rel) => rel.replace(`${dir}/`, ""));
    for (const rel of stale) await plant(dir, rel);
    const kept = [
      // This process's own, in any form: a Worker or another copy of the library in this
      // process may be writing it.
      join("programs", denoTemp(Deno.pid, "l")),
      join("programs", denoTemp(Deno.pid, "u")),
      join("history", "e1", oldTemp(Deno.pid)),
      // Unlocked files of a pid space that cannot be told from this one's.
      join("executions", denoTemp(DEAD_PID, "u")),
      join("executions", `.cvm-${DEAD_PID}-0123456789ab-u${hex()}.tmp`),
      join("executions", `.cvm-${DEAD_PID}-0123456789ab-l${hex()}.del`),
      // Not temp files at all.
      join("programs", "notes.txt"),
      join("programs", ".cvm-123-0123456789abcdef.json"),
      join("programs", ".cvm-abc-0123456789abcdef.tmp"),
      join("programs", ".cvm-123-0123.tmp"),
      join("programs", ".cvm-123-0123456789ABCDEF.tmp"),
      join("programs", ".cvm-123-y-l0123456789abcdef.tmp"),
      join("programs", "cvm-123-0123456789abcdef.tmp"),
      join("history", "e1", "README"),
      "stray.tmp",
    ];
    for (const rel of kept) await plant(dir, rel);
    // Named like a temp file but not a file: a FIFO is never opened, a directory never
    // removed as a temp file.
    const fifo = join("programs", denoTemp(DEAD_PID, "l"));
    const posix = Deno.build.os !== "windows";
    if (posix) {
      const made = await new Deno.Command("mkfifo", { args: [join(dir, fifo)] }).output();
      assert(made.success);
    }
    await Deno.mkdir(join(dir, "programs", denoTemp(DEAD_PID, "l")));

    assertEquals(await removedByConnect(dir), stale.sort());
    if (posix) assertEquals((await Deno.lstat(join(dir, fifo))).isFifo, true);
    const second = new FileStorageAdapter(dir);
    await second.connect();
    assertEquals(await second.getProgram("p1"), makeProgram());
    assertEquals(await second.getHistory("e1"), [makeHistory()]);
    await second.disconnect();
  });
});

Deno.test({
  name: "FileStorageAdapter.connect() removes 0.1's temp files of dead processes with --allow-run",
  ignore: !runGranted || Deno.build.os === "windows",
  async fn() {
    await withTempDir(async (dir) => {
      await new FileStorageAdapter(dir).connect();
      const dead = [
        join("programs", oldTemp(DEAD_PID)),
        join("executions", oldTemp(DEAD_PID)),
        join("history", oldTemp(DEAD_PID)),
      ];
      for (const rel of dead) await plant(dir, rel);
      const deleting = join("history", oldTemp(DEAD_PID, "del"));
      await Deno.mkdir(join(dir, deleting));
      await plant(dir, join(deleting, "1-1.json"));
      await Deno.mkdir(join(dir, "history", "e1"));
      dead.push(join("history", "e1", oldTemp(DEAD_PID)));
      await plant(dir, dead[3]);
      // pid 1 is alive.
      await plant(dir, join("executions", oldTemp(1)));
      await Deno.mkdir(join(dir, "history", oldTemp(1, "del")));
      assertEquals(
        await removedByConnect(dir),
        [...dead, `${deleting}/`, join(deleting, "1-1.json")].sort(),
      );
    });
  },
});

Deno.test({
  name:
    "FileStorageAdapter.connect() keeps the temp file of a live writer in another process, and removes it once that writer is gone",
  ignore: !canSpawn,
  async fn() {
    await withTempDir(async (dir) => {
      await new FileStorageAdapter(dir).connect();
      // The lock decides, whatever the pid says.
      const rel = join("programs", denoTemp(DEAD_PID, "l"));
      const writer = spawnWorker("lock_holder.ts", [join(dir, rel)], { stdin: true });
      try {
        assert(await writer.waitForLines(1), "the writer did not lock its file");
        assertEquals(await removedByConnect(dir), []);
        // The documented permissions are enough: no --allow-run, no /proc.
        const blind = await spawnWorker("connector.ts", [dir]).finish();
        assert(blind.status.success, blind.stderr);
        assertEquals((await tree(join(dir, "programs"))).length, 1);
      } finally {
        await writer.closeStdin();
        const result = await writer.finish();
        assert(result.status.success, result.stderr);
      }
      const connector = await spawnWorker("connector.ts", [dir]).finish();
      assert(connector.status.success, connector.stderr);
      assertEquals(await tree(join(dir, "programs")), []);
    });
  },
});

Deno.test("FileStorageAdapter writes again under a new name when its temp file is removed before it is locked", async () => {
  await withTempDir(async (dir) => {
    const storage = new FileStorageAdapter(dir);
    await storage.connect();
    const { createFile } = fs;
    let removed = 0;
    // What a `connect` in another process does when it locks the file first.
    fs.createFile = async (path, mode) => {
      const file = await createFile(path, mode);
      if (removed++ === 0) await Deno.remove(path);
      return file;
    };
    try {
      await storage.saveProgram(makeProgram());
      await storage.saveHistory(makeHistory());
    } finally {
      fs.createFile = createFile;
    }
    assert(removed >= 2);
    assertEquals(await storage.getProgram("p1"), makeProgram());
    assertEquals(await storage.getHistory("e1"), [makeHistory()]);
    assertEquals(
      await tree(dir),
      [
        "executions/",
        "history/",
        "history/e1/",
        "history/e1/1767323045678-0.json",
        "programs/",
        "programs/p1.json",
      ],
    );
    await storage.disconnect();
  });
});

Deno.test("FileStorageAdapter writes again when its temp file is removed before it is in place", async () => {
  await withTempDir(async (dir) => {
    const storage = new FileStorageAdapter(dir);
    await storage.connect();
    const { rename, link } = fs;
    const calls = { rename: 0, link: 0 };
    // What a `connect` of version 0.1, which went by the pid alone, did to Workers' files.
    fs.rename = async (from, to) => {
      if (calls.rename++ === 0) await Deno.remove(from);
      return await rename(from, to);
    };
    fs.link = async (from, to) => {
      if (calls.link++ === 0) await Deno.remove(from);
      return await link(from, to);
    };
    try {
      await storage.saveExecution(makeExecution());
      await storage.saveHistory(makeHistory());
    } finally {
      Object.assign(fs, { rename, link });
    }
    assertEquals(calls, { rename: 2, link: 2 });
    assertEquals(await storage.getExecution("e1"), makeExecution());
    assertEquals(await storage.getHistory("e1"), [makeHistory()]);
    assertEquals((await tree(dir)).filter((rel) => rel.includes(".cvm-")), []);
    await storage.disconnect();
  });
});

Deno.test("FileStorageAdapter.connect() leaves alone the temp file of a write under way", async () => {
  await withTempDir(async (dir) => {
    const storage = new FileStorageAdapter(dir);
    await storage.connect();
    const rename = fs.rename;
    const { promise: renaming, resolve: startedRenaming } = Promise.withResolvers<void>();
    const { promise: release, resolve: letRename } = Promise.withResolvers<void>();
    fs.rename = async (...args: Parameters<typeof rename>) => {
      startedRenaming();
      await release;
      return await rename(...args);
    };
    try {
      const saving = storage.saveProgram(makeProgram());
      await renaming;
      const temps = (await tree(join(dir, "programs"))).filter((name) => name.startsWith("."));
      assertEquals(temps.length, 1);
      assertEquals(await removedByConnect(dir), []);
      letRename();
      await saving;
      assertEquals(await storage.getProgram("p1"), makeProgram());
      assertEquals(await tree(join(dir, "programs")), ["p1.json"]);
    } finally {
      letRename();
      fs.rename = rename;
      await storage.disconnect();
    }
  });
});
