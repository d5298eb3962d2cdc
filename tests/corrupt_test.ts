// Corrupt and unexpected files in the data directory: every read that meets one throws a
// CorruptRecordError naming the file, every other record still reads, and lists report the
// bad file instead of failing opaquely or skipping it.

import { assertEquals, assertInstanceOf, assertRejects, assertStringIncludes } from "@std/assert";
import { join } from "node:path";
import { CorruptRecordError, FileStorageAdapter, StorageError } from "../mod.ts";
import { makeExecution, makeHistory, makeProgram, withTempDir } from "./_utils.ts";

const ENTRY = "1767323045678-1.json";

/** A store with three programs, three executions and two histories of two entries. */
async function seed(dataDir: string): Promise<FileStorageAdapter> {
  const storage = new FileStorageAdapter({ dataDir, fsync: false });
  await storage.connect();
  for (const id of ["p0", "p1", "p2"]) await storage.saveProgram(makeProgram({ id }));
  for (const id of ["e0", "e1", "e2"]) await storage.saveExecution(makeExecution({ id }));
  for (const executionId of ["e0", "e1"]) {
    for (const step of [0, 1]) await storage.saveHistory(makeHistory({ executionId, step }));
  }
  return storage;
}

type Target = "program" | "execution" | "history";

interface Case {
  name: string;
  target: Target;
  /** Damages the store; returns the path the error must name. */
  damage(dir: string): Promise<string>;
}

const PATHS: Record<Target, string> = {
  program: join("programs", "p1.json"),
  execution: join("executions", "e1.json"),
  history: join("history", "e1", ENTRY),
};

/** Rewrites the target file with `edit` applied to its text. */
function rewrite(target: Target, edit: (text: string) => string): Case["damage"] {
  return async (dir) => {
    const path = join(dir, PATHS[target]);
    await Deno.writeTextFile(path, edit(await Deno.readTextFile(path)));
    return path;
  };
}

/** Rewrites the target file with `edit` applied to its parsed JSON. */
function rewriteJson(
  target: Target,
  edit: (json: Record<string, unknown>) => unknown,
): Case["damage"] {
  return rewrite(target, (text) => JSON.stringify(edit(JSON.parse(text)), null, 2));
}

const CASES: Case[] = [];
for (const target of ["program", "execution", "history"] as const) {
  CASES.push(
    { name: "truncated JSON", target, damage: rewrite(target, (t) => t.slice(0, t.length / 2)) },
    { name: "a torn last byte", target, damage: rewrite(target, (t) => t.trimEnd().slice(0, -1)) },
    { name: "invalid JSON", target, damage: rewrite(target, () => "{ id: p1, oops }") },
    { name: "a zero-byte file", target, damage: rewrite(target, () => "") },
    { name: "whitespace only", target, damage: rewrite(target, () => "\n  \n") },
    {
      name: "NUL bytes (a hole from a crash)",
      target,
      damage: rewrite(target, (t) => "\0".repeat(t.length)),
    },
    { name: "valid JSON: an array", target, damage: rewriteJson(target, (j) => [j]) },
    { name: "valid JSON: null", target, damage: rewriteJson(target, () => null) },
    { name: "valid JSON: a number", target, damage: rewriteJson(target, () => 42) },
    { name: "valid JSON: a string", target, damage: rewriteJson(target, () => "p1") },
    { name: "valid JSON: an empty object", target, damage: rewriteJson(target, () => ({})) },
    {
      name: "a missing field",
      target,
      damage: rewriteJson(target, ({ stack: _s, bytecode: _b, ...rest }) => rest),
    },
    {
      name: "a field of the wrong type",
      target,
      damage: rewriteJson(target, (j) => ({ ...j, name: 5, stack: "[]", bytecode: undefined })),
    },
    {
      name: "a Date stored as a plain string",
      target,
      damage: rewriteJson(
        target,
        (j) => ({ ...j, created: "2026-01-02T03:04:05.678Z", timestamp: "2026-01-02" }),
      ),
    },
    {
      name: 'a bad "$date"',
      target,
      damage: rewriteJson(
        target,
        (j) => ({ ...j, created: { $date: "yesterday" }, timestamp: { $date: "yesterday" } }),
      ),
    },
    {
      name: 'a "$date" that is not a string',
      target,
      damage: rewriteJson(
        target,
        (j) => ({ ...j, created: { $date: 1767323045678 }, timestamp: { $date: 1767323045678 } }),
      ),
    },
    {
      name: 'a bad "$date" deep inside a value',
      target,
      damage: rewriteJson(target, (j) => ({ ...j, stack: [{ at: { $date: "2026-13-45" } }] })),
    },
    {
      name: 'a bad "$escape"',
      target,
      damage: rewriteJson(target, (j) => ({ ...j, stack: [{ $escape: 5 }] })),
    },
    {
      name: "a directory where the record file should be",
      target,
      damage: async (dir) => {
        const path = join(dir, PATHS[target]);
        await Deno.remove(path);
        await Deno.mkdir(path);
        await Deno.writeTextFile(join(path, "inner.json"), "{}");
        return path;
      },
    },
  );
}
CASES.push(
  {
    name: "a program whose inner id does not match its file name",
    target: "program",
    damage: rewriteJson("program", (j) => ({ ...j, id: "p2" })),
  },
  {
    name: "a program whose inner id differs only in case",
    target: "program",
    damage: rewriteJson("program", (j) => ({ ...j, id: "P1" })),
  },
  {
    name: "a program whose inner id is empty",
    target: "program",
    damage: rewriteJson("program", (j) => ({ ...j, id: "" })),
  },
  {
    name: "a program whose inner id is a lone surrogate",
    // Stored as the JSON escape \ud800, which decodes to an invalid id.
    target: "program",
    damage: rewrite("program", (t) => t.replace('"id": "p1"', '"id": "p1\\ud800"')),
  },
  {
    name: "an execution whose inner id does not match its file name",
    target: "execution",
    damage: rewriteJson("execution", (j) => ({ ...j, id: "e2" })),
  },
  {
    // Any well-formed state is valid (real VMs write "waiting_cc", "READY"); an empty one
    // is not.
    name: "an execution with an empty state",
    target: "execution",
    damage: rewriteJson("execution", (j) => ({ ...j, state: "" })),
  },
  {
    name: "a history entry of another execution",
    target: "history",
    damage: rewriteJson("history", (j) => ({ ...j, executionId: "e0" })),
  },
  {
    name: "a history entry whose step does not match its file name",
    target: "history",
    damage: rewriteJson("history", (j) => ({ ...j, step: 7 })),
  },
  {
    name: "a history entry whose timestamp does not match its file name",
    target: "history",
    damage: rewriteJson("history", (j) => ({ ...j, timestamp: { $date: "2030-01-01T00:00:00Z" } })),
  },
  {
    name: "a history entry with a negative step",
    target: "history",
    damage: rewriteJson("history", (j) => ({ ...j, step: -1 })),
  },
  {
    name: "a file where the history directory should be",
    target: "history",
    damage: async (dir) => {
      const path = join(dir, "history", "e1");
      await Deno.remove(path, { recursive: true });
      await Deno.writeTextFile(path, "not a directory");
      return path;
    },
  },
  {
    name: "a stray program file under a name no id maps to",
    target: "program",
    damage: async (dir) => {
      const path = join(dir, "programs", "P1.json");
      const text = await Deno.readTextFile(join(dir, PATHS.program));
      await Deno.writeTextFile(path, text.replace('"id": "p1"', '"id": "P1"'));
      return path;
    },
  },
  {
    name: "a stray history file under a name no entry maps to",
    target: "history",
    damage: async (dir) => {
      const path = join(dir, "history", "e1", "entry.json");
      await Deno.copyFile(join(dir, PATHS.history), path);
      return path;
    },
  },
);

/** The reads that must still work, for every record the damage did not touch. */
async function assertOthersRead(storage: FileStorageAdapter, target: Target): Promise<void> {
  for (const id of ["p0", "p2"]) assertEquals(await storage.getProgram(id), makeProgram({ id }));
  for (const id of ["e0", "e2"]) {
    assertEquals(await storage.getExecution(id), makeExecution({ id }));
  }
  assertEquals(await storage.getHistory("e0"), [
    makeHistory({ executionId: "e0", step: 0 }),
    makeHistory({ executionId: "e0", step: 1 }),
  ]);
  assertEquals(await storage.getHistory("e2"), []);
  // The kinds the damage did not touch list as usual.
  if (target !== "program") {
    assertEquals((await storage.listPrograms()).map((p) => p.id), ["p0", "p1", "p2"]);
  }
  if (target !== "execution") {
    assertEquals((await storage.listExecutions()).map((e) => e.id), ["e0", "e1", "e2"]);
  }
}

function assertNamesFile(error: CorruptRecordError, path: string): void {
  assertInstanceOf(error, StorageError);
  assertEquals(error.code, "CORRUPT_RECORD");
  assertEquals(error.name, "CorruptRecordError");
  assertEquals(error.path, path);
  assertStringIncludes(error.message, `"${path}"`);
  // It says what to do.
  assertStringIncludes(error.message, "delete it");
}

for (const { name, target, damage } of CASES) {
  Deno.test(`FileStorageAdapter reports ${name} (${target}) as CorruptRecordError`, async () => {
    await withTempDir(async (dir) => {
      const storage = await seed(dir);
      const path = await damage(dir);
      const stray = /[/\\](P1|entry)\.json$/.test(path);

      // The read that meets the damage.
      const read = target === "program"
        ? () => storage.getProgram("p1")
        : target === "execution"
        ? () => storage.getExecution("e1")
        : () => storage.getHistory("e1");
      if (stray && target === "program") {
        // No id maps to the stray file: reading p1 or P1 never meets it.
        assertEquals(await storage.getProgram("p1"), makeProgram({ id: "p1" }));
        assertEquals(await storage.getProgram("P1"), null);
      } else {
        assertNamesFile(await assertRejects(read, CorruptRecordError), path);
      }

      // Every list that meets it names it.
      const lists = target === "program"
        ? [() => storage.listPrograms()]
        : target === "execution"
        ? [() => storage.listExecutions(), () => storage.listExecutions({ programId: "p1" })]
        : [];
      for (const list of lists) {
        assertNamesFile(await assertRejects(list, CorruptRecordError), path);
      }

      await assertOthersRead(storage, target);

      // Once the bad file is gone, everything reads again.
      await Deno.remove(path, { recursive: true });
      if (target === "program") {
        assertEquals(
          (await storage.listPrograms()).map((p) => p.id),
          stray ? ["p0", "p1", "p2"] : ["p0", "p2"],
        );
      } else if (target === "execution") {
        assertEquals((await storage.listExecutions()).map((e) => e.id), ["e0", "e2"]);
      } else {
        const left = (await storage.getHistory("e1")).map((h) => h.step);
        assertEquals(left, path.endsWith("e1") ? [] : stray ? [0, 1] : [0]);
      }
    });
  });
}

Deno.test("FileStorageAdapter.saveHistory() fails clearly when a file holds the history's place", async () => {
  await withTempDir(async (dir) => {
    const storage = await seed(dir);
    const path = join(dir, "history", "e1");
    await Deno.remove(path, { recursive: true });
    await Deno.writeTextFile(path, "not a directory");
    const error = await assertRejects(
      () => storage.saveHistory(makeHistory({ executionId: "e1", step: 5 })),
      StorageError,
    );
    assertStringIncludes(error.message, path);
    assertEquals(await Deno.readTextFile(path), "not a directory");
    await storage.saveHistory(makeHistory({ executionId: "e0", step: 5 }));
    assertEquals((await storage.getHistory("e0")).length, 3);
  });
});

Deno.test("FileStorageAdapter ignores files that are not record files", async () => {
  await withTempDir(async (dir) => {
    const storage = await seed(dir);
    for (
      const rel of [
        join("programs", "notes.txt"),
        join("programs", ".DS_Store"),
        join("programs", ".hidden.json"),
        join("programs", "p3.json.bak"),
        join("executions", "Thumbs.db"),
        join("history", "e1", "README"),
      ]
    ) {
      await Deno.writeTextFile(join(dir, rel), "{ not json");
    }
    await Deno.mkdir(join(dir, "programs", "sub"));
    assertEquals((await storage.listPrograms()).map((p) => p.id), ["p0", "p1", "p2"]);
    assertEquals((await storage.listExecutions()).map((e) => e.id), ["e0", "e1", "e2"]);
    assertEquals((await storage.getHistory("e1")).length, 2);
  });
});

Deno.test("FileStorageAdapter.listPrograms() reports a file holding an invalid id", async () => {
  await withTempDir(async (dir) => {
    const storage = await seed(dir);
    // A lone surrogate encodes like U+FFFD, so the file name alone cannot tell them apart.
    const path = join(dir, "programs", "~p%ef%bf%bd.json");
    const text = await Deno.readTextFile(join(dir, PATHS.program));
    await Deno.writeTextFile(path, text.replace('"id": "p1"', '"id": "p\\ud800"'));
    assertNamesFile(await assertRejects(() => storage.listPrograms(), CorruptRecordError), path);
    assertNamesFile(
      await assertRejects(() => storage.getProgram("p\ufffd"), CorruptRecordError),
      path,
    );
    // Once it is gone, a file placed by hand under its id's name lists like any other.
    await Deno.remove(path);
    await Deno.writeTextFile(
      join(dir, "programs", "x.json"),
      text.replace('"id": "p1"', '"id": "x"'),
    );
    assertEquals((await storage.listPrograms()).map((p) => p.id), ["p0", "p1", "p2", "x"]);
  });
});
