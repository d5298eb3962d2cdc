// `cvm-storage verify [--repair]` on file stores: every broken or misplaced file is reported
// with its path, nothing changes without --repair, and --repair only moves files into
// lost+found/ (with a note) and removes temp files whose writers are gone. On MongoDB, the
// contract's indexes are checked (when MONGODB_URI is set).

import { assert, assertEquals, assertFalse, assertStringIncludes } from "@std/assert";
import { join } from "node:path";
import { MongoClient } from "mongodb";
import { FileStorageAdapter } from "../mod.ts";
import { verifyStore } from "../src/cli/verify.ts";
import { findFileOrphans } from "../src/cli/_file_layout.ts";
import { MIN_INDEXED } from "../src/file/_history_index.ts";
import { writeEntries } from "./_file_utils.ts";
import type { Io } from "../src/cli/_output.ts";
import { canRun, fillStore, mongoDatabaseUri, runCli } from "./_cli.ts";
import { makeExecution, makeHistory, makeProgram, withTempDir } from "./_utils.ts";

const io: Io = {
  stdout: () => Promise.resolve(),
  stderr: () => Promise.resolve(),
  interactive: false,
  env: {},
};

/** Every entry under `dir` with its kind and, for files, its bytes; links not followed. */
async function snapshot(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (rel: string) => {
    for await (const entry of Deno.readDir(join(dir, rel))) {
      const path = rel === "" ? entry.name : `${rel}/${entry.name}`;
      const info = await Deno.lstat(join(dir, path));
      if (info.isDirectory) {
        out.set(`${path}/`, "dir");
        await walk(path);
      } else if (info.isFile) {
        out.set(path, new TextDecoder().decode(await Deno.readFile(join(dir, path))));
      } else {
        out.set(path, info.isSymlink ? `-> ${await Deno.readLink(join(dir, path))}` : "special");
      }
    }
  };
  await walk("");
  return out;
}

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = new Deno.Command("true", { stdout: "null", stderr: "null" }).spawn();
  await child.status;
  return child.pid;
}

const canMkfifo = await new Deno.Command("mkfifo", {
  args: ["--version"],
  stdout: "null",
  stderr: "null",
})
  .output().then(() => true, () => false);

/** A file store with one of each thing verify must find. */
async function brokenStore(dir: string): Promise<{ dead: string; live: string }> {
  const storage = new FileStorageAdapter({ dataDir: dir, fsync: false });
  await storage.connect();
  await storage.saveProgram(makeProgram());
  await storage.saveProgram(makeProgram({ id: "elsewhere" }));
  await storage.saveExecution(makeExecution());
  await storage.saveExecution(makeExecution({ id: "e2" }));
  await storage.saveHistory(makeHistory());
  await storage.saveHistory(makeHistory({ executionId: "e2", step: 5 }));
  await storage.saveHistory(makeHistory({ executionId: "orphan", step: 1 }));
  await storage.disconnect();
  const at = (...parts: string[]) => join(dir, ...parts);
  await Deno.writeTextFile(at("programs", "bad.json"), "{ not json");
  await Deno.writeTextFile(at("programs", "wrong-shape.json"), '{"id": "wrong-shape"}');
  await Deno.rename(at("programs", "elsewhere.json"), at("programs", "moved.json"));
  await Deno.mkdir(at("executions", "dir.json"));
  await Deno.symlink("/etc/hostname", at("executions", "link.json"));
  if (canMkfifo) {
    await new Deno.Command("mkfifo", { args: [at("executions", "fifo.json")] }).output();
  }
  await Deno.writeFile(at("executions", "latin1.json"), new Uint8Array([0x7b, 0xe9, 0x7d]));
  const history = (await Array.fromAsync(Deno.readDir(at("history", "e1"))))[0].name;
  await Deno.copyFile(at("history", "e1", history), at("history", "e1", "0-99.json"));
  const other = (await Array.fromAsync(Deno.readDir(at("history", "e2"))))[0].name;
  await Deno.rename(at("history", "e2", other), at("history", "e1", other));
  await Deno.writeTextFile(at("history", "stray-file"), "?");
  // Output logs as the file backend writes them: a JSON array per append, between newlines;
  // a crash can leave a torn last record, which readers skip.
  await Deno.mkdir(at("outputs"));
  await Deno.writeTextFile(at("outputs", "e1.out"), '\n["hello","world"]\n\n["again"]\n\n["tor');
  await Deno.writeTextFile(at("outputs", "ghost.out"), '\n["nobody\'s"]\n');
  await Deno.writeTextFile(at("outputs", "e2.jsonl"), '"not a log"\n');
  await Deno.writeTextFile(at("metadata.json"), '{"currentExecutionId": 5}');
  await Deno.writeTextFile(at("notes.txt"), "mine");
  const dead = `.cvm-${await deadPid()}-0123456789abcdef.tmp`;
  const live = `.cvm-${Deno.ppid}-fedcba9876543210.tmp`;
  await Deno.writeTextFile(at("programs", dead), "half");
  await Deno.writeTextFile(at("programs", live), "in use");
  return { dead, live };
}

const EXPECTED_PROBLEMS = [
  "programs/bad.json",
  "programs/moved.json",
  "programs/wrong-shape.json",
  "executions/dir.json",
  ...(canMkfifo ? ["executions/fifo.json"] : []),
  "executions/latin1.json",
  "executions/link.json",
  "history/e1/0-99.json",
  "history/e1/1767323045678-5.json",
  "history/stray-file",
  "outputs/e2.jsonl",
  "metadata.json",
];

Deno.test("verifyStore() reports each broken or misplaced file of a file store and changes nothing", async () => {
  await withTempDir(async (dir) => {
    const { dead, live } = await brokenStore(dir);
    const before = await snapshot(dir);
    const report = await verifyStore({ kind: "file", dataDir: dir }, io);
    const problems = report.findings.filter((f) => f.severity === "problem");
    assertEquals(problems.map((f) => f.where), EXPECTED_PROBLEMS);
    assertEquals(report.unresolved, EXPECTED_PROBLEMS.length);
    const message = (where: string) => problems.find((f) => f.where === where)!.message;
    assertStringIncludes(message("programs/bad.json"), "is not valid JSON");
    assertStringIncludes(message("programs/wrong-shape.json"), 'field "name" must be a string');
    assertStringIncludes(
      message("programs/moved.json"),
      'holds program "elsewhere", which belongs in programs/elsewhere.json',
    );
    assertStringIncludes(message("executions/dir.json"), "is a directory, not a file");
    assertStringIncludes(message("executions/link.json"), "is a symbolic link, not a file");
    assertStringIncludes(message("executions/latin1.json"), "is not valid UTF-8");
    assertStringIncludes(
      message("history/e1/0-99.json"),
      "which belongs in history/e1/1767323045678-0.json",
    );
    assertStringIncludes(message("history/e1/1767323045678-5.json"), 'execution "e2" at step 5');
    assertStringIncludes(message("metadata.json"), '{"currentExecutionId": <id or null>}');
    const notes = report.findings.filter((f) => f.severity === "note").map((f) => f.where);
    assertEquals(
      notes.sort(),
      [
        "history/orphan",
        "notes.txt",
        "outputs/e1.out",
        "outputs/ghost.out",
        `programs/${dead}`,
        `programs/${live}`,
      ].sort(),
    );
    const torn = report.findings.find((f) => f.where === "outputs/e1.out")!.message;
    assertEquals(torn, "line 6 is a torn record (an append cut short), which readers skip");
    assertEquals(report.counts, { programs: 1, executions: 2, history: 2, outputs: 4 });
    assertEquals(await snapshot(dir), before, "verify without --repair changes nothing");
  });
});

Deno.test("verifyStore() with repair moves each problem to lost+found with a note, deletes nothing but a stale temp file", async () => {
  await withTempDir(async (dir) => {
    const { dead, live } = await brokenStore(dir);
    const before = await snapshot(dir);
    const report = await verifyStore({ kind: "file", dataDir: dir }, io, { repair: true });
    assertEquals(report.unresolved, 0);
    for (const finding of report.findings.filter((f) => f.severity === "problem")) {
      assert(finding.repaired?.startsWith("moved to lost+found/"), JSON.stringify(finding));
    }
    assertEquals(report.findings.find((f) => f.where === `programs/${dead}`)?.repaired, "removed");
    const after = await snapshot(dir);
    // Every file's bytes are still somewhere, except the stale temp file's.
    const contents = (map: Map<string, string>) =>
      [...map.values()].filter((v) => v !== "dir").sort();
    const kept = contents(after);
    for (const content of contents(before)) {
      if (content === "half") continue;
      const index = kept.indexOf(content);
      assert(index >= 0, `lost: ${content.slice(0, 40)}`);
      kept.splice(index, 1);
    }
    assertFalse(after.has(`programs/${dead}`));
    assert(after.has(`programs/${live}`), "a temp file whose writer may be alive stays");
    const moved = [...after.keys()].filter((path) =>
      path.startsWith("lost+found/") && path.endsWith("bad.json")
    );
    assertEquals(moved.length, 1);
    const note = after.get(`${moved[0]}.note`)!;
    assertStringIncludes(note, "from: programs/bad.json");
    assertStringIncludes(note, "is not valid JSON");
    assertEquals(after.get("notes.txt"), "mine", "what is not the store's is left alone");

    const again = await verifyStore({ kind: "file", dataDir: dir }, io);
    assertEquals(again.unresolved, 0, JSON.stringify(again.findings));
    assertEquals(again.counts, { programs: 1, executions: 2, history: 2, outputs: 4 });
    assert(
      again.findings.some((f) =>
        f.where === "lost+found" && f.message.includes("entries moved aside")
      ),
    );
    const storage = new FileStorageAdapter(dir);
    await storage.connect();
    assertEquals((await storage.listPrograms()).map((p) => p.id), ["p1"], "the store reads again");
    await storage.disconnect();
  });
});

Deno.test({
  name: "cvm-storage verify exits 1 on problems, --repair fixes them, then verify exits 0",
  ignore: !canRun,
  async fn() {
    await withTempDir(async (dir) => {
      const storage = new FileStorageAdapter({ dataDir: dir, fsync: false });
      await storage.connect();
      await fillStore(storage, {
        programs: 3,
        executions: 5,
        history: 30,
        lines: 0,
        current: false,
      });
      await storage.disconnect();
      const clean = await runCli(["verify", dir]);
      assertEquals(clean.code, 0, clean.stdout + clean.stderr);
      assertStringIncludes(clean.stdout, "3 programs, 5 executions, 30 history entries");
      assertStringIncludes(clean.stdout, "No problems found");
      await Deno.writeTextFile(join(dir, "programs", "bad.json"), "[]");
      const broken = await runCli(["verify", "--store", dir, "--json"]);
      assertEquals(broken.code, 1);
      const report = JSON.parse(broken.stdout);
      assertEquals(report.findings.map((f: { where: string }) => f.where), ["programs/bad.json"]);
      const repaired = await runCli(["verify", dir, "--repair"]);
      assertEquals(repaired.code, 0, repaired.stdout);
      assertStringIncludes(repaired.stdout, "repaired: moved to lost+found/");
      assertEquals((await runCli(["verify", dir])).code, 0);
    });
  },
});

Deno.test("verifyStore() accepts the index of a long history, notes one whose history is gone, and repair leaves both", async () => {
  await withTempDir(async (dir) => {
    await writeEntries(dir, MIN_INDEXED);
    const historyDir = join(dir, "history", "e1");
    const old = new Date(Date.now() - 60_123);
    await Deno.utime(historyDir, old, old);
    const storage = new FileStorageAdapter({ dataDir: dir, fsync: false });
    await storage.connect();
    await storage.saveExecution(makeExecution({ id: "e1" }));
    await storage.getHistory("e1", { reverse: true, limit: 1 });
    await storage.disconnect();
    const index = join(dir, "history", ".e1.idx");
    assert((await Deno.lstat(index)).isFile, "the listing wrote an index");
    const clean = await verifyStore({ kind: "file", dataDir: dir }, io);
    assertEquals(clean.findings, []);
    assertEquals(clean.counts.history, MIN_INDEXED);
    // The index of a history deleted by hand: a note, nothing to repair.
    await Deno.copyFile(index, join(dir, "history", ".gone.idx"));
    const before = await snapshot(dir);
    const report = await verifyStore({ kind: "file", dataDir: dir }, io, { repair: true });
    assertEquals(report.findings.map((f) => [f.severity, f.where]), [[
      "note",
      "history/.gone.idx",
    ]]);
    assertStringIncludes(report.findings[0].message, "index of a history that does not exist");
    assertEquals(report.unresolved, 0);
    assertEquals(await snapshot(dir), before);
    // Nor are index files history without an execution (export and migrate list those).
    assertEquals(await findFileOrphans(dir, ["e1"]), []);
  });
});

const uri = mongoDatabaseUri(`cvm_cli_verify_${Date.now()}`);
const requireMongo = Deno.env.get("CVM_REQUIRE_MONGODB") === "1";

Deno.test({
  name: "verifyStore() on MongoDB reports a missing index, which --repair creates" +
    (uri === undefined && !requireMongo ? " (ignored: MONGODB_URI is not set)" : ""),
  ignore: uri === undefined && !requireMongo,
  async fn() {
    const dbUri = uri;
    if (dbUri === undefined) throw new Error("CVM_REQUIRE_MONGODB=1, but MONGODB_URI is not set");
    const client = new MongoClient(dbUri, { serverSelectionTimeoutMS: 5000 });
    try {
      const first = await verifyStore({ kind: "mongodb", uri: dbUri }, io);
      assertEquals(first.unresolved, 0, JSON.stringify(first.findings));
      await client.db().collection("executions").dropIndex("state_1");
      const report = await verifyStore({ kind: "mongodb", uri: dbUri }, io, { repair: true });
      const finding = report.findings.find((f) => f.where === "executions index {state}");
      assertEquals(finding?.repaired, "created", JSON.stringify(report.findings));
      assertEquals(report.unresolved, 0);
    } finally {
      await client.db().dropDatabase().catch(() => {});
      await client.close();
    }
  },
});
