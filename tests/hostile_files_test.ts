// Hostile or broken directory contents never hang, exhaust memory or leak: a FIFO, socket,
// device, directory or symbolic link where a record file belongs, or a file over the
// record limit, is a CorruptRecordError naming the path, decided without blocking and
// without reading the file whole; no message quotes a file's contents.

import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertRejects,
  assertStringIncludes,
} from "@std/assert";
import { closeSync, constants, openSync } from "node:fs";
import { join } from "node:path";
import {
  CorruptRecordError,
  type FileStorageAdapter,
  StorageError,
  ValidationError,
} from "../mod.ts";
import { errorCode, refusesLinks } from "../src/file/_fs.ts";
import { MAX_RECORD_BYTES } from "../src/file/_record_file.ts";
import { canRun, mkfifo, withAdapter, within } from "./_file_utils.ts";
import { makeExecution, makeHistory, makeProgram, withTempDir } from "./_utils.ts";

const ENTRY = "1767323045678-1.json";
const SECRET = "TOP-SECRET-a1b2c3";
const posix = Deno.build.os !== "windows";
const root = posix && Deno.uid() === 0;
/** Long enough for a slow machine, short enough that a hang fails the test quickly. */
const PROMPT_MS = 5000;

type Target = "program" | "execution" | "history" | "metadata" | "output";

const PATHS: Record<Target, string> = {
  program: join("programs", "p1.json"),
  execution: join("executions", "e1.json"),
  history: join("history", "e1", ENTRY),
  metadata: "metadata.json",
  output: join("outputs", "e1.out"),
};

/** The reads that meet the target, each of which must report it. */
function reads(storage: FileStorageAdapter, target: Target): (() => Promise<unknown>)[] {
  switch (target) {
    case "program":
      return [() => storage.getProgram("p1"), () => storage.listPrograms()];
    case "execution":
      return [
        () => storage.getExecution("e1"),
        () => storage.listExecutions(),
        () => storage.listExecutions({ programId: "p1" }),
      ];
    case "history":
      return [
        () => storage.getHistory("e1"),
        () => storage.getHistory("e1", { reverse: true, limit: 1 }),
      ];
    case "metadata":
      return [() => storage.getCurrentExecutionId()];
    case "output":
      return [() => storage.getOutput("e1")];
  }
}

async function seed(storage: FileStorageAdapter): Promise<void> {
  for (const id of ["p0", "p1"]) await storage.saveProgram(makeProgram({ id }));
  for (const id of ["e0", "e1"]) await storage.saveExecution(makeExecution({ id }));
  for (const step of [0, 1]) await storage.saveHistory(makeHistory({ executionId: "e1", step }));
  await storage.appendOutput("e1", ["hello"]);
  await storage.setCurrentExecutionId("e0");
}

/** What the other records read as, untouched by the damage. */
async function assertOthersRead(storage: FileStorageAdapter, target: Target): Promise<void> {
  assertEquals(await storage.getProgram("p0"), makeProgram({ id: "p0" }));
  assertEquals(await storage.getExecution("e0"), makeExecution({ id: "e0" }));
  if (target !== "history") {
    assertEquals((await storage.getHistory("e1")).map((h) => h.step), [0, 1]);
  }
  assertEquals(await storage.getHistory("e1", { toStep: 0 }), [makeHistory({ executionId: "e1" })]);
  if (target !== "output") assertEquals(await storage.getOutput("e1"), ["hello"]);
  if (target !== "metadata") assertEquals(await storage.getCurrentExecutionId(), "e0");
}

interface Hostile {
  name: string;
  /** Put in the target's place; returns a clean-up to run afterwards. */
  place(path: string, dir: string): Promise<(() => void | Promise<void>) | void>;
  /** What the message says. */
  says: string;
  ignore?: boolean;
}

const HOSTILE: Hostile[] = [
  {
    name: "a FIFO",
    ignore: !posix || !canRun,
    says: "named pipe (FIFO)",
    async place(path) {
      await mkfifo(path);
      // Should a read hang on the FIFO after all, opening the write side releases it.
      return () => {
        try {
          closeSync(openSync(path, constants.O_WRONLY | constants.O_NONBLOCK));
        } catch {
          // ENXIO: nothing was waiting.
        }
      };
    },
  },
  {
    name: "a Unix socket",
    // Deno needs --allow-net to listen on one.
    ignore: !posix || Deno.permissions.querySync({ name: "net" }).state !== "granted",
    says: "socket",
    place(path) {
      const listener = Deno.listen({ transport: "unix", path });
      return Promise.resolve(() => listener.close());
    },
  },
  {
    name: "a device node",
    // Only root may create one.
    ignore: !root || !canRun,
    says: "device",
    async place(path) {
      const { code } = await new Deno.Command("mknod", { args: [path, "c", "1", "5"] }).output();
      assertEquals(code, 0, "mknod failed");
    },
  },
  // Under `-A`, O_NOFOLLOW refuses the link; with permissions granted per kind (`deno task
  // test`, and the README's `--allow-read --allow-write`), Deno's node:fs resolves the link
  // before it opens, and the identity check on the handle refuses it: CI runs both.
  {
    name: "a symbolic link to a secret file",
    ignore: !posix,
    says: "symbolic link",
    async place(path, dir) {
      const secret = join(dir, "..", `${crypto.randomUUID()}-secret.json`);
      await Deno.writeTextFile(secret, `{"id": "${SECRET}", "token": "${SECRET}"}`);
      await Deno.symlink(secret, path);
      return () => Deno.remove(secret);
    },
  },
  {
    name: "a symbolic link to /dev/zero",
    ignore: !posix,
    says: "symbolic link",
    async place(path) {
      await Deno.symlink("/dev/zero", path);
    },
  },
  {
    name: "a directory",
    says: "directory",
    async place(path) {
      await Deno.mkdir(path);
      await Deno.writeTextFile(join(path, "inner.json"), "{}");
    },
  },
];

for (const hostile of HOSTILE) {
  for (const target of Object.keys(PATHS) as Target[]) {
    Deno.test({
      name: `FileStorageAdapter reports ${hostile.name} in place of the ${target} file promptly`,
      ignore: hostile.ignore,
      async fn() {
        await withAdapter(async (storage, dir) => {
          await seed(storage);
          const path = join(dir, PATHS[target]);
          await Deno.remove(path);
          const cleanUp = await hostile.place(path, dir);
          try {
            for (const read of reads(storage, target)) {
              const error = await within(
                PROMPT_MS,
                `a read of the ${target}`,
                rejectsCorrupt(read),
              );
              assertEquals(error.path, path);
              assertStringIncludes(error.message, `"${path}"`);
              assertStringIncludes(error.message, hostile.says);
              assertStringIncludes(error.message, "delete it");
              assert(!JSON.stringify(describe(error)).includes(SECRET), "the message leaks");
            }
            await assertOthersRead(storage, target);
          } finally {
            await cleanUp?.();
          }
        });
      },
    });
  }
}

// Lists and histories skip the identity check where the open itself refuses a link: the
// answer must be what an open of a real link does, in this process (CI runs this file with
// `deno task test`'s permissions, where Deno follows the link, and under `-A`, where not).
Deno.test({
  name: "refusesLinks() says whether an open with O_NOFOLLOW refuses a link in this process",
  ignore: Deno.build.os !== "linux",
  async fn() {
    await withTempDir(async (dir) => {
      const target = join(dir, "target.json");
      const link = join(dir, "link.json");
      await Deno.writeTextFile(target, "{}");
      await Deno.symlink(target, link);
      let refused = false;
      try {
        closeSync(openSync(link, constants.O_RDONLY | constants.O_NOFOLLOW));
      } catch (error) {
        refused = errorCode(error) === "ELOOP";
      }
      const granted = (await Deno.permissions.query({ name: "ffi" })).state === "granted";
      console.log(
        `O_NOFOLLOW ${refused ? "refuses" : "follows"} a link here (ffi granted: ${granted})`,
      );
      assertEquals(refusesLinks(), refused);
    });
  },
});

// Batches of 16 files or more skip the identity check where the open refuses a link on its
// own: a link among many records must be refused all the same, in both of CI's modes.
Deno.test({
  name: "FileStorageAdapter refuses a symbolic link among many history entries and programs",
  ignore: !posix,
  async fn() {
    await withAdapter(async (storage, dir) => {
      const secret = join(dir, "..", `${crypto.randomUUID()}-secret.json`);
      await Deno.writeTextFile(secret, `{"id": "${SECRET}", "token": "${SECRET}"}`);
      try {
        for (let i = 0; i < 20; i++) {
          await storage.saveProgram(makeProgram({ id: `p${String(i).padStart(2, "0")}` }));
          await storage.saveHistory(makeHistory({ step: i }));
        }
        const program = join(dir, "programs", "p19.json");
        const entry = join(dir, "history", "e1", "1767323045678-19.json");
        for (const path of [program, entry]) {
          await Deno.remove(path);
          await Deno.symlink(secret, path);
        }
        const calls: [string, () => Promise<unknown>][] = [
          [program, () => storage.listPrograms()],
          [entry, () => storage.getHistory("e1")],
          [entry, () => storage.getHistory("e1", { fromStep: 3 })],
        ];
        for (const [path, read] of calls) {
          const error = await rejectsCorrupt(read);
          assertEquals(error.path, path);
          assertStringIncludes(error.message, "symbolic link");
          assert(!JSON.stringify(describe(error)).includes(SECRET), "the message leaks");
        }
        assertEquals((await storage.getHistory("e1", { toStep: 15 })).length, 16);
      } finally {
        await Deno.remove(secret);
      }
    });
  },
});

async function rejectsCorrupt(read: () => Promise<unknown>): Promise<CorruptRecordError> {
  return await assertRejects(read, CorruptRecordError);
}

/** The error with its causes, as a logger would print them. */
function describe(error: unknown): string[] {
  const out: string[] = [];
  for (let e = error; e instanceof Error; e = e.cause) out.push(e.message, String(e.stack));
  return out;
}

for (const target of ["program", "execution", "history", "metadata"] as const) {
  Deno.test(`FileStorageAdapter reports a ${target} file over the record limit without reading it`, async () => {
    await withAdapter(async (storage, dir) => {
      await seed(storage);
      const path = join(dir, PATHS[target]);
      // Sparse: no disk space, and reading it whole would take seconds and 64 MiB.
      const file = await Deno.open(path, { write: true, truncate: true });
      await file.truncate(MAX_RECORD_BYTES + 1);
      file.close();
      for (const read of reads(storage, target)) {
        const error = await within(PROMPT_MS, "the read", rejectsCorrupt(read));
        assertEquals(error.path, path);
        assertStringIncludes(error.message, `${MAX_RECORD_BYTES + 1} bytes long, over the 64 MiB`);
      }
      await assertOthersRead(storage, target);
    });
  });

  Deno.test(`FileStorageAdapter reports a ${target} file that is not UTF-8, without quoting it`, async () => {
    await withAdapter(async (storage, dir) => {
      await seed(storage);
      const path = join(dir, PATHS[target]);
      const text = await Deno.readTextFile(path);
      // A Latin-1 "é" inside the JSON: once read as U+FFFD, now refused.
      const bytes = new TextEncoder().encode(text.replace('"', `"${SECRET}\u0000`));
      bytes[bytes.indexOf(0)] = 0xe9;
      await Deno.writeFile(path, bytes);
      for (const read of reads(storage, target)) {
        const error = await assertRejects(read, CorruptRecordError);
        assertEquals(error.path, path);
        assertStringIncludes(error.message, "not valid UTF-8");
        assert(!JSON.stringify(describe(error)).includes(SECRET), "the message leaks");
      }
    });
  });

  Deno.test(`FileStorageAdapter never quotes a ${target} file that is not JSON`, async () => {
    await withAdapter(async (storage, dir) => {
      await seed(storage);
      const path = join(dir, PATHS[target]);
      await Deno.writeTextFile(path, `{"token": "${SECRET}" oops`);
      for (const read of reads(storage, target)) {
        const error = await assertRejects(read, CorruptRecordError);
        assertStringIncludes(error.message, "not valid JSON");
        assert(!JSON.stringify(describe(error)).includes(SECRET), "the message leaks");
      }
    });
  });
}

Deno.test({
  name: "FileStorageAdapter.getHistory() never follows a history directory that is a link",
  ignore: !posix,
  async fn() {
    await withAdapter(async (storage, dir) => {
      await seed(storage);
      const outside = await Deno.makeTempDir();
      try {
        const path = join(dir, "history", "e1");
        await Deno.rename(path, join(outside, "e1"));
        await Deno.symlink(join(outside, "e1"), path);
        for (const read of reads(storage, "history")) {
          const error = await assertRejects(read, CorruptRecordError);
          assertEquals(error.path, path);
          assertStringIncludes(error.message, "symbolic link");
        }
      } finally {
        await Deno.remove(outside, { recursive: true });
      }
    });
  },
});

Deno.test("FileStorageAdapter.deleteProgram() reports an empty directory in the record's place, and keeps it", async () => {
  // Deno's unlink removes an empty directory and Node's refuses: the answer must not depend
  // on the runtime.
  await withAdapter(async (storage, dir) => {
    await seed(storage);
    for (
      const [target, remove] of [
        ["program", () => storage.deleteProgram("p1")],
        ["execution", () => storage.deleteExecution("e1")],
      ] as const
    ) {
      const path = join(dir, PATHS[target]);
      await Deno.remove(path);
      await Deno.mkdir(path);
      const error = await assertRejects(remove, CorruptRecordError);
      assertEquals(error.path, path);
      assertStringIncludes(error.message, "is a directory");
      assert((await Deno.stat(path)).isDirectory);
    }
  });
});

Deno.test({
  name: "FileStorageAdapter.deleteProgram() removes a link in the record's place, never its target",
  ignore: !posix,
  async fn() {
    await withAdapter(async (storage, dir) => {
      await seed(storage);
      const target = join(dir, "..", `${crypto.randomUUID()}-target.json`);
      await Deno.writeTextFile(target, "keep me");
      try {
        const path = join(dir, PATHS.program);
        await Deno.remove(path);
        await Deno.symlink(target, path);
        assertEquals(await storage.deleteProgram("p1"), true);
        assertEquals(await Deno.readTextFile(target), "keep me");
        assertEquals(await storage.deleteProgram("p1"), false);
      } finally {
        await Deno.remove(target);
      }
    });
  },
});

Deno.test("FileStorageAdapter rejects a record whose file would exceed the record limit, writing nothing", async () => {
  await withAdapter(async (storage, dir) => {
    const big = "x".repeat(MAX_RECORD_BYTES);
    const saves: [string, () => Promise<unknown>][] = [
      ["program", () => storage.saveProgram(makeProgram({ source: big }))],
      ["execution", () => storage.saveExecution(makeExecution({ error: big }))],
      ["history", () => storage.saveHistory(makeHistory({ instruction: big }))],
      ["output", () => storage.appendOutput("e1", [big])],
    ];
    for (const [what, save] of saves) {
      const error = await assertRejects(save, ValidationError);
      assertStringIncludes(error.message, "64 MiB", what);
      assertInstanceOf(error, StorageError);
    }
    // Three-byte characters: the limit is on UTF-8 bytes, not on UTF-16 code units.
    const wide = "€".repeat(Math.ceil(MAX_RECORD_BYTES / 3));
    await assertRejects(() => storage.saveProgram(makeProgram({ source: wide })), ValidationError);
    for (const sub of ["programs", "executions", "history"]) {
      assertEquals([...Deno.readDirSync(join(dir, sub))], []);
    }
    // Just under the limit is fine.
    const fits = "x".repeat(MAX_RECORD_BYTES - 1000);
    await storage.saveProgram(makeProgram({ source: fits }));
    assertEquals((await storage.getProgram("p1"))?.source.length, fits.length);
  });
});

Deno.test({
  name: "FileStorageAdapter.appendOutput() never writes through a link in the log's place",
  ignore: !posix,
  async fn() {
    await withAdapter(async (storage, dir) => {
      await storage.appendOutput("e1", ["hello"]);
      const outside = await Deno.makeTempDir();
      try {
        const path = join(dir, PATHS.output);
        const target = join(outside, "target.out");
        await Deno.writeTextFile(target, "keep me");
        for (const link of [target, join(outside, "dangling.out")]) {
          await Deno.remove(path);
          await Deno.symlink(link, path);
          const error = await rejectsCorrupt(() => storage.appendOutput("e1", ["x"]));
          assertEquals(error.path, path);
          assertStringIncludes(error.message, "symbolic link");
        }
        assertEquals(await Deno.readTextFile(target), "keep me");
        assertEquals([...Deno.readDirSync(outside)].map((e) => e.name), ["target.out"]);
      } finally {
        await Deno.remove(outside, { recursive: true });
      }
    });
  },
});

Deno.test("FileStorageAdapter reads through the asynchronous calls when the descriptor table is full", async () => {
  await withAdapter(async (storage) => {
    await seed(storage);
    const { fs } = await import("../src/file/_fs.ts");
    const { openSync, open } = fs;
    let asyncOpens = 0;
    // EMFILE on the fast path: the read goes to `fs.open`, which bounds and retries.
    fs.openSync = (() => {
      throw Object.assign(new Error("EMFILE: too many open files"), { code: "EMFILE" });
    }) as typeof fs.openSync;
    fs.open = ((...args: Parameters<typeof open>) => {
      asyncOpens++;
      return open(...args);
    }) as typeof fs.open;
    try {
      assertEquals(await storage.getProgram("p1"), makeProgram({ id: "p1" }));
      assertEquals((await storage.listPrograms()).map((p) => p.id), ["p0", "p1"]);
      assertEquals((await storage.getHistory("e1")).length, 2);
      assertEquals(asyncOpens, 5);
    } finally {
      fs.openSync = openSync;
      fs.open = open;
    }
  });
});
