// The file backend's output log (`outputs/{id}.out`) and current-execution pointer
// (`metadata.json`): the format, the torn-record rule, durability, and appenders in
// several processes, killed or not.

import {
  assert,
  assertEquals,
  assertFalse,
  assertRejects,
  assertStringIncludes,
} from "@std/assert";
import { join } from "node:path";
import {
  CorruptRecordError,
  FileStorageAdapter,
  MemoryStorageAdapter,
  StorageError,
  ValidationError,
} from "../mod.ts";
import { fs } from "../src/file/_fs.ts";
import { withAdapter } from "./_file_utils.ts";
import { makeExecution, prng, withTempDir } from "./_utils.ts";
import { canSpawn, sleep, spawnWorker, type Worker } from "./_workers/_spawn.ts";

const lone = "\ud83d";

Deno.test("FileStorageAdapter.appendOutput() writes one JSON-array record per call", async () => {
  await withAdapter(async (storage, dir) => {
    await storage.appendOutput("e1", ["hello", "world"]);
    await storage.appendOutput("e1", ["second call"]);
    const path = join(dir, "outputs", "e1.out");
    assertEquals(await Deno.readTextFile(path), '\n["hello","world"]\n\n["second call"]\n');
    // Lines hold anything: newlines, NULs, quotes and half surrogate pairs are escaped.
    const odd = ["a\nb", "\0", '"quoted"', `half ${lone}`, "😀", "", "\r\n"];
    await storage.appendOutput("e1", odd);
    assertEquals(await storage.getOutput("e1"), ["hello", "world", "second call", ...odd]);
    assertEquals((await Deno.readTextFile(path)).split("\n").length, 7);
    if (Deno.build.os !== "windows") assertEquals((await Deno.stat(path)).mode! & 0o777, 0o600);
  });
});

Deno.test("FileStorageAdapter.appendOutput() of no lines does nothing, and creates nothing", async () => {
  await withAdapter(async (storage, dir) => {
    await storage.appendOutput("e1", []);
    await assertRejects(() => Deno.stat(join(dir, "outputs", "e1.out")), Deno.errors.NotFound);
    assertEquals(await storage.getOutput("e1"), []);
  });
});

Deno.test("FileStorageAdapter.getOutput() selects ranges as the memory adapter does", async () => {
  await withAdapter(async (file) => {
    const memory = new MemoryStorageAdapter();
    await memory.connect();
    const calls = [["a"], ["b", "c", "d"], ["e"], ["f", "g"], ["h", "i", "j", "k"]];
    for (const lines of calls) {
      await file.appendOutput("e1", lines);
      await memory.appendOutput("e1", lines);
    }
    for (const from of [undefined, 0, 1, 2, 4, 10, 11, 12, 100]) {
      for (const limit of [undefined, 1, 2, 3, 5, 11, 20]) {
        const query = { from, limit };
        assertEquals(
          await file.getOutput("e1", query),
          await memory.getOutput("e1", query),
          JSON.stringify(query),
        );
      }
    }
    await assertRejects(() => file.getOutput("e1", { from: -1 }), ValidationError);
    await assertRejects(() => file.getOutput("e1", { limit: 0 }), ValidationError);
    await assertRejects(
      () => file.appendOutput("e1", ["a", 1 as unknown as string]),
      ValidationError,
    );
    await assertRejects(() => file.appendOutput("", ["a"]), ValidationError);
  });
});

Deno.test("FileStorageAdapter.getOutput() skips torn records, and an append never glues onto one", async () => {
  await withAdapter(async (storage, dir) => {
    await storage.appendOutput("e1", ["first"]);
    const path = join(dir, "outputs", "e1.out");
    const append = async (bytes: Uint8Array | string) => {
      const file = await Deno.open(path, { append: true });
      await file.write(typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes);
      file.close();
    };
    // A write torn by a crash: a prefix of its record.
    await append('\n["torn", "li');
    await storage.appendOutput("e1", ["after a torn record"]);
    // Zeros where the file system had not written the data before a crash.
    await append(new Uint8Array(64));
    await storage.appendOutput("e1", ["after zeros"]);
    // Anything else that is not an array of strings, and bytes that are not UTF-8.
    await append('\n{"not": "an array"}\n[1, 2]\n"text"\nnot json\n');
    await append(new Uint8Array([0x5b, 0x22, 0xff, 0x22, 0x5d]));
    await storage.appendOutput("e1", ["last"]);
    assertEquals(await storage.getOutput("e1"), [
      "first",
      "after a torn record",
      "after zeros",
      "last",
    ]);
    assertEquals(await storage.getOutput("e1", { from: 2, limit: 1 }), ["after zeros"]);
  });
});

/** Replaces `fs.open` for append handles (numeric flags with O_APPEND) while `fn` runs. */
async function withAppendHandles(
  change: (handle: Awaited<ReturnType<typeof fs.open>>) => void,
  fn: () => Promise<void>,
): Promise<void> {
  const open = fs.open;
  fs.open = (async (path: string, flags?: string | number, mode?: number) => {
    const handle = await open(path, flags, mode);
    if (typeof flags === "number" && (flags & 0o2000) !== 0) change(handle);
    return handle;
  }) as typeof fs.open;
  try {
    await fn();
  } finally {
    fs.open = open;
  }
}

Deno.test("FileStorageAdapter.appendOutput() reports a short write as not stored, and it is skipped", async () => {
  await withAdapter(async (storage) => {
    await storage.appendOutput("e1", ["before"]);
    await withAppendHandles((handle) => {
      const write = handle.write.bind(handle) as (...args: unknown[]) => Promise<unknown>;
      // A disk that fills up half-way through the record.
      handle.write = ((buffer: Uint8Array, offset: number, length: number, position: null) =>
        write(buffer, offset, Math.floor(length / 2), position)) as typeof handle.write;
    }, async () => {
      const error = await assertRejects(
        () =>
          storage.appendOutput("e1", ["lost", "lines"]),
        StorageError,
      );
      assertEquals(error.code, "IO");
      assertFalse(error.maybeStored);
      assertStringIncludes(error.message, "nothing was stored");
    });
    await storage.appendOutput("e1", ["after"]);
    assertEquals(await storage.getOutput("e1"), ["before", "after"]);
  });
});

Deno.test("FileStorageAdapter.appendOutput() says the lines may be stored when fdatasync fails", async () => {
  await withAdapter(async (storage) => {
    await withAppendHandles((handle) => {
      handle.datasync = () => Promise.reject(Object.assign(new Error("EIO"), { code: "EIO" }));
    }, async () => {
      const error = await assertRejects(() => storage.appendOutput("e1", ["maybe"]), StorageError);
      assert(error.maybeStored);
      assertStringIncludes(error.message, "read the output with getOutput");
    });
    assertEquals(await storage.getOutput("e1"), ["maybe"]);
  }, { fsync: true });
});

/** Counts file datasyncs and directory fsyncs made through the `fs` seam while `fn` runs. */
async function countSyncs(fn: () => Promise<void>): Promise<{ files: number; dirs: number }> {
  const counts = { files: 0, dirs: 0 };
  const open = fs.open;
  fs.open = (async (path: string, flags?: string | number, mode?: number) => {
    const handle = await open(path, flags, mode);
    const { sync, datasync } = handle;
    handle.sync = () => {
      if (flags === "r") counts.dirs++;
      else counts.files++;
      return sync.call(handle);
    };
    handle.datasync = () => {
      counts.files++;
      return datasync.call(handle);
    };
    return handle;
  }) as typeof fs.open;
  const openDir = fs.openDir;
  fs.openDir = async (path) => {
    const dir = await openDir(path);
    const { sync } = dir;
    dir.sync = () => {
      counts.dirs++;
      return sync.call(dir);
    };
    return dir;
  };
  try {
    await fn();
  } finally {
    fs.open = open;
    fs.openDir = openDir;
  }
  return counts;
}

Deno.test("FileStorageAdapter.appendOutput() syncs the file each call, and its directory entry once", async () => {
  await withAdapter(async (storage) => {
    // outputs/ is new (its entry in the data directory) and so is the file (its entry).
    assertEquals(await countSyncs(() => storage.appendOutput("e1", ["a"])), { files: 1, dirs: 2 });
    assertEquals(await countSyncs(() => storage.appendOutput("e1", ["b"])), { files: 1, dirs: 0 });
    assertEquals(await countSyncs(() => storage.appendOutput("e2", ["c"])), { files: 1, dirs: 1 });
    // Another adapter (another process) syncs the entry of the file it finds, once.
    const other = new FileStorageAdapter(storage.dataDir);
    await other.connect();
    assertEquals(await countSyncs(() => other.appendOutput("e1", ["d"])), { files: 1, dirs: 2 });
    assertEquals(await countSyncs(() => other.appendOutput("e1", ["e"])), { files: 1, dirs: 0 });
    await other.disconnect();
  }, { fsync: true });
  await withAdapter(async (storage) => {
    assertEquals(await countSyncs(() => storage.appendOutput("e1", ["a"])), { files: 0, dirs: 0 });
  }, { fsync: false });
});

Deno.test("FileStorageAdapter.deleteExecution() deletes the output and keeps the current pointer", async () => {
  await withAdapter(async (storage, dir) => {
    await storage.saveExecution(makeExecution());
    await storage.appendOutput("e1", ["a"]);
    await storage.appendOutput("e2", ["other"]);
    await storage.setCurrentExecutionId("e1");
    assertEquals(await storage.deleteExecution("e1"), true);
    assertEquals(await storage.getOutput("e1"), []);
    assertEquals(await storage.getOutput("e2"), ["other"]);
    assertEquals(await storage.getCurrentExecutionId(), "e1");
    assertEquals([...Deno.readDirSync(join(dir, "outputs"))].map((e) => e.name), ["e2.out"]);
    // Output without an execution record is deleted with the (absent) execution too.
    assertEquals(await storage.deleteExecution("e2"), false);
    assertEquals(await storage.getOutput("e2"), []);
  });
});

Deno.test("FileStorageAdapter.appendOutput() from many promises at once keeps every call whole", async () => {
  await withAdapter(async (storage) => {
    await Promise.all(
      Array.from(
        { length: 40 },
        (_, call) => storage.appendOutput("e1", [`${call}:0`, `${call}:1`, `${call}:2`]),
      ),
    );
    const lines = await storage.getOutput("e1");
    assertEquals(lines.length, 120);
    for (let i = 0; i < lines.length; i += 3) {
      const call = lines[i].split(":")[0];
      assertEquals(lines.slice(i, i + 3), [`${call}:0`, `${call}:1`, `${call}:2`]);
    }
  });
});

Deno.test("FileStorageAdapter stores output under ids of every kind", async () => {
  await withAdapter(async (storage) => {
    const ids = ["A".repeat(256), "😀".repeat(128), "CON", "../x", "a/b"];
    for (const id of ids) await storage.appendOutput(id, [id]);
    for (const id of ids) assertEquals(await storage.getOutput(id), [id]);
  });
});

interface Acked {
  writer: number;
  call: number;
}

/**
 * Checks the log against what the writers acknowledged: every acknowledged call is there
 * once; every call that is there is whole, its lines together and in order; each writer's
 * calls are in the order it made them.
 */
function checkLog(lines: string[], acked: Acked[], perCall: number): number {
  const seen = new Set<string>();
  const lastCall = new Map<number, number>();
  for (let i = 0; i < lines.length; i += perCall) {
    const [writer, call] = lines[i].split(" ").map(Number);
    for (let line = 0; line < perCall; line++) {
      const parts = lines[i + line]?.split(" ");
      assertEquals(parts?.slice(0, 3).map(Number), [writer, call, line], `a torn call at ${i}`);
    }
    const key = `${writer} ${call}`;
    assertFalse(seen.has(key), `call ${key} is there twice`);
    seen.add(key);
    assert((lastCall.get(writer) ?? -1) < call, `writer ${writer}'s calls are out of order`);
    lastCall.set(writer, call);
  }
  for (const { writer, call } of acked) {
    assert(seen.has(`${writer} ${call}`), `acknowledged call ${writer} ${call} is missing`);
  }
  return seen.size;
}

function parseLines(worker: Worker): { acked: Acked[]; errors: string[] } {
  const acked: Acked[] = [];
  const errors: string[] = [];
  for (const line of worker.lines) {
    const value = JSON.parse(line);
    if (value.kind === "acked") acked.push(value);
    if (value.kind === "error") errors.push(value.message);
  }
  return { acked, errors };
}

Deno.test({
  name:
    "FileStorageAdapter.appendOutput() from several processes never loses or interleaves a call",
  ignore: !canSpawn,
  async fn() {
    await withTempDir(async (dir) => {
      const WRITERS = 4;
      const CALLS = 60;
      const PER_CALL = 3;
      const workers = Array.from(
        { length: WRITERS },
        (_, writer) =>
          spawnWorker("output_appender.ts", [
            dir,
            `${writer}`,
            `${CALLS}`,
            `${PER_CALL}`,
            "2000",
            "0",
          ]),
      );
      const acked: Acked[] = [];
      for (const worker of workers) {
        const { status, stderr } = await worker.finish();
        assert(status.success, stderr);
        const result = parseLines(worker);
        assertEquals(result.errors, []);
        acked.push(...result.acked);
      }
      assertEquals(acked.length, WRITERS * CALLS);
      await using storage = new FileStorageAdapter(dir);
      await storage.connect();
      const lines = await storage.getOutput("shared");
      assertEquals(checkLog(lines, acked, PER_CALL), WRITERS * CALLS);
    });
  },
});

const KILLS = Number(Deno.env.get("CVM_OUTPUT_KILLS") ?? 8);

Deno.test({
  name:
    `FileStorageAdapter.appendOutput() killed mid-write ${KILLS} times: every call whole or absent`,
  ignore: !canSpawn,
  async fn() {
    await withTempDir(async (dir) => {
      const random = prng(11);
      const PER_CALL = 4;
      const acked: Acked[] = [];
      // Records of 1 MiB: a kill can land inside the write, which then ends short.
      for (let round = 0; round < KILLS; round++) {
        const writers = [0, 1].map((n) =>
          spawnWorker("output_appender.ts", [
            dir,
            `${round * 2 + n}`,
            "0",
            `${PER_CALL}`,
            `${256 * 1024}`,
            "0",
          ])
        );
        for (const worker of writers) {
          assert(await worker.waitForLines(1), "the writer did not start");
        }
        await sleep(20 + random() * 200);
        for (const worker of writers) worker.kill();
        for (const worker of writers) {
          await worker.finish();
          const result = parseLines(worker);
          assertEquals(result.errors, []);
          acked.push(...result.acked);
        }
      }
      await using storage = new FileStorageAdapter(dir);
      await storage.connect();
      const stored = checkLog(await storage.getOutput("shared"), acked, PER_CALL);
      assert(stored >= acked.length);
      // The log still takes appends after every kill.
      await storage.appendOutput("shared", ["999 0 0", "999 0 1", "999 0 2", "999 0 3"]);
      assertEquals(
        checkLog(await storage.getOutput("shared"), [...acked, { writer: 999, call: 0 }], PER_CALL),
        stored + 1,
      );
    });
  },
});

Deno.test("FileStorageAdapter keeps the current execution in metadata.json", async () => {
  await withAdapter(async (storage, dir) => {
    assertEquals(await storage.getCurrentExecutionId(), null);
    await storage.setCurrentExecutionId("no-such-execution");
    assertEquals(await storage.getCurrentExecutionId(), "no-such-execution");
    const path = join(dir, "metadata.json");
    assertEquals(
      await Deno.readTextFile(path),
      '{\n  "currentExecutionId": "no-such-execution"\n}\n',
    );
    await storage.setCurrentExecutionId(null);
    assertEquals(await Deno.readTextFile(path), '{\n  "currentExecutionId": null\n}\n');
    assertEquals(await storage.getCurrentExecutionId(), null);
    await storage.setCurrentExecutionId("Ünïcode/..\\id");
    // Kept across adapters (a restart).
    const other = new FileStorageAdapter(dir);
    await other.connect();
    assertEquals(await other.getCurrentExecutionId(), "Ünïcode/..\\id");
    await other.disconnect();
    // No temp file left behind.
    assertEquals(
      [...Deno.readDirSync(dir)].map((e) => e.name).sort(),
      ["executions", "history", "metadata.json", "programs"],
    );
    for (const bad of ["", 5, undefined, "x".repeat(257), lone]) {
      await assertRejects(
        () => storage.setCurrentExecutionId(bad as string),
        ValidationError,
      );
    }
    assertEquals(await storage.getCurrentExecutionId(), "Ünïcode/..\\id");
  });
});

Deno.test("FileStorageAdapter reads metadata.json as the original CVM wrote it, and reports a bad one", async () => {
  await withAdapter(async (storage, dir) => {
    const path = join(dir, "metadata.json");
    // The original wrote {} when nothing was set, and may carry other fields.
    await Deno.writeTextFile(path, "{}");
    assertEquals(await storage.getCurrentExecutionId(), null);
    await Deno.writeTextFile(path, '{"currentExecutionId":"e7","other":1}');
    assertEquals(await storage.getCurrentExecutionId(), "e7");
    for (const text of ["[]", "null", '{"currentExecutionId": 5}', '{"currentExecutionId": ""}']) {
      await Deno.writeTextFile(path, text);
      const error = await assertRejects(() => storage.getCurrentExecutionId(), CorruptRecordError);
      assertEquals(error.path, path);
      assertStringIncludes(error.message, "delete it");
    }
    // Setting it again repairs it.
    await storage.setCurrentExecutionId("e8");
    assertEquals(await storage.getCurrentExecutionId(), "e8");
  });
});
