// The `cvm-storage` command run for real, in subprocesses: export, import and export again
// give the same file; a migration killed in the middle and run again ends with an equal
// store (the command's proof, and an independent comparison here), file to file and file
// to MongoDB to file; the MongoDB driver is not loaded for file stores; usage errors.
// The large migration (1,000 executions, 20,000 history entries) is tests/cli_migrate_big.ts.

import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { join } from "node:path";
import { BSON, MongoClient } from "mongodb";
import { FileStorageAdapter, MongoDBAdapter, type StorageAdapter } from "../mod.ts";
import {
  assertSameStore,
  canRun,
  type FillOptions,
  fillStore,
  migrateWithKill,
  mongoDatabaseUri,
  runCli,
} from "./_cli.ts";
import { withTempDir } from "./_utils.ts";

const SMALL: FillOptions = { programs: 6, executions: 120, history: 1200, lines: 600 };

async function fileStore(dir: string, fill?: FillOptions): Promise<FileStorageAdapter> {
  const storage = new FileStorageAdapter({ dataDir: dir, fsync: false });
  await storage.connect();
  if (fill) await fillStore(storage, fill);
  return storage;
}

Deno.test({
  name: "cvm-storage export, import into an empty store, export again: the two files are equal",
  ignore: !canRun,
  async fn() {
    await withTempDir(async (dir) => {
      const source = await fileStore(join(dir, "source"), {
        ...SMALL,
        executions: 30,
        history: 200,
      });
      await source.disconnect();
      const first = join(dir, "first.jsonl");
      const second = join(dir, "second.jsonl");
      const exported = await runCli(["export", "--store", join(dir, "source"), "--out", first]);
      assertEquals(exported.code, 0, exported.stderr);
      assertStringIncludes(exported.stderr, "Exported 6 programs, 30 executions, 200 history");
      const imported = await runCli(["import", first, "--store", `file:${join(dir, "copy")}`]);
      assertEquals(imported.code, 0, imported.stdout + imported.stderr);
      assertStringIncludes(imported.stdout, "Imported 6 programs, 30 executions, 200 history");
      const again = await runCli(["export", "-s", join(dir, "copy"), "-o", second]);
      assertEquals(again.code, 0, again.stderr);
      const bytes = await Deno.readFile(first);
      assert(bytes.length > 10_000);
      assertEquals(await Deno.readFile(second), bytes);

      // Importing the same file again changes nothing; standard input works too.
      const twice = await runCli(["import", "-", "--store", join(dir, "copy"), "--json"], {
        stdin: new TextDecoder().decode(bytes),
      });
      assertEquals(twice.code, 0, twice.stdout);
      assertEquals(JSON.parse(twice.stdout).problems, []);
      const third = await runCli(["export", "-s", join(dir, "copy")]);
      assertEquals(third.stdout, new TextDecoder().decode(bytes), "export to standard output");
    });
  },
});

/** Checks a finished migration's own report and proof. */
function assertProven(stdout: string, stderr: string, code: number): void {
  assertEquals(code, 0, stdout + stderr);
  assertStringIncludes(stdout, "The copy is equal to the source");
  assert(!stdout.includes("DIFFERENT"), stdout);
}

Deno.test({
  name:
    "cvm-storage migrate killed in the middle and run again: the copy is equal, nothing duplicated",
  ignore: !canRun,
  async fn() {
    await withTempDir(async (dir) => {
      const source = await fileStore(join(dir, "source"), SMALL);
      const target = join(dir, "target");
      const { killedAt, result } = await migrateWithKill(
        ["--from", join(dir, "source"), "--to", target, "--concurrency", "1", "--page-size", "10"],
        0.3,
      );
      assert(killedAt !== undefined, "the first run finished before it could be killed");
      assertProven(result.stdout, result.stderr, result.code);
      assert(/\(([1-9]\d*) already complete\)/.test(result.stdout), `resumed: ${result.stdout}`);
      const copy = await fileStore(target);
      const compared = await assertSameStore(source, copy);
      assertEquals(compared, { programs: 6, executions: 120, history: 1200, lines: 600 });
      await copy.disconnect();
      await source.disconnect();
    });
  },
});

const mongoUri = mongoDatabaseUri(`cvm_cli_run_${Date.now()}`);
const requireMongo = Deno.env.get("CVM_REQUIRE_MONGODB") === "1";

Deno.test({
  name:
    "cvm-storage migrate file → MongoDB (killed once, resumed) → file: the last store equals the first" +
    (mongoUri === undefined && !requireMongo ? " (ignored: MONGODB_URI is not set)" : ""),
  ignore: !canRun || (mongoUri === undefined && !requireMongo),
  async fn() {
    const uri = mongoUri;
    if (uri === undefined) throw new Error("CVM_REQUIRE_MONGODB=1, but MONGODB_URI is not set");
    await withTempDir(async (dir) => {
      const first = await fileStore(join(dir, "first"), { ...SMALL, executions: 40, history: 400 });
      const mongo: StorageAdapter = new MongoDBAdapter(uri);
      try {
        const there = await migrateWithKill(
          [
            "--from",
            join(dir, "first"),
            "--to",
            uri,
            "--concurrency",
            "1",
            "--page-size",
            "5",
          ],
          0.3,
        );
        assertProven(there.result.stdout, there.result.stderr, there.result.code);
        const back = await runCli(["migrate", "--from", uri, "--to", join(dir, "last")]);
        assertProven(back.stdout, back.stderr, back.code);
        const last = await fileStore(join(dir, "last"));
        await assertSameStore(first, last);
        await mongo.connect();
        await assertSameStore(first, mongo);
        await last.disconnect();
      } finally {
        if (mongo.isConnected()) {
          for (const e of await mongo.listExecutions()) await mongo.deleteExecution(e.id);
          for (const p of await mongo.listPrograms()) await mongo.deleteProgram(p.id);
          await mongo.setCurrentExecutionId(null);
        }
        await mongo.disconnect();
        await first.disconnect();
      }
    });
  },
});

const importUri = mongoDatabaseUri(`cvm_cli_mongoimport_${Date.now()}`);

Deno.test({
  name:
    "cvm-storage export --collection, loaded as mongoimport would, is a store the MongoDB backend reads" +
    (importUri === undefined && !requireMongo ? " (ignored: MONGODB_URI is not set)" : ""),
  ignore: !canRun || (importUri === undefined && !requireMongo),
  async fn() {
    const uri = importUri;
    if (uri === undefined) throw new Error("CVM_REQUIRE_MONGODB=1, but MONGODB_URI is not set");
    await withTempDir(async (dir) => {
      const source = await fileStore(join(dir, "source"), {
        ...SMALL,
        executions: 20,
        history: 100,
      });
      const client = new MongoClient(uri, { serverSelectionTimeoutMS: 5000 });
      const mongo = new MongoDBAdapter(uri);
      try {
        for (const collection of ["programs", "executions", "history", "outputs", "metadata"]) {
          const result = await runCli([
            "export",
            "-s",
            join(dir, "source"),
            "--collection",
            collection,
          ]);
          assertEquals(result.code, 0, result.stderr);
          // mongoimport reads each line as Extended JSON (relaxed or canonical), as EJSON.parse does.
          const documents = result.stdout.trimEnd().split("\n").map((line) =>
            BSON.EJSON.parse(line, { relaxed: true })
          );
          await client.db().collection(collection).insertMany(documents);
        }
        await mongo.connect();
        await assertSameStore(source, mongo);
      } finally {
        await mongo.disconnect();
        await client.db().dropDatabase().catch(() => {});
        await client.close();
        await source.disconnect();
      }
    });
  },
});

Deno.test({
  name: "cvm-storage never loads the MongoDB driver for file stores",
  ignore: !canRun,
  async fn() {
    await withTempDir(async (dir) => {
      const missing = new URL(`file://${join(dir, "no-such-driver", "mongodb.js")}`).href;
      const config = join(dir, "deno.json");
      await Deno.writeTextFile(config, JSON.stringify({ imports: { mongodb: missing } }));
      const data = join(dir, "data");
      (await fileStore(data, { programs: 2, executions: 3, history: 6, lines: 4 })).disconnect();
      const flags = [`--config=${config}`, "--no-lock"];
      for (
        const args of [["inspect", data], ["verify", data], [
          "export",
          "-s",
          data,
          "-o",
          join(dir, "x"),
        ]]
      ) {
        const result = await runCli(args, { flags });
        assertEquals(result.code, 0, `${args[0]}: ${result.stderr}`);
      }
      const mongo = await runCli(["inspect", "mongodb://127.0.0.1:1/x", "--timeout-ms", "500"], {
        flags,
      });
      assertEquals(mongo.code, 1);
      assertStringIncludes(mongo.stderr, "Cannot load the MongoDB driver");
    });
  },
});

Deno.test({
  name: "cvm-storage: status 2 and a pointer to --help for a wrong command line",
  ignore: !canRun,
  async fn() {
    const result = await runCli(["migrate", "--from", "x"]);
    assertEquals(result.code, 2);
    assertEquals(
      result.stderr,
      'error: migrate needs both --from STORE and --to STORE\nRun "cvm-storage migrate --help" for usage.\n',
    );
    const help = await runCli(["--help"]);
    assertEquals(help.code, 0);
    assertStringIncludes(help.stdout, "Usage: cvm-storage <command> [options]");
  },
});
