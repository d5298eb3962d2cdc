// The large migration of issue 11, run for real: 1,000 executions with 20,000 history
// entries and their output, from the file backend to MongoDB (killed once in the middle,
// then resumed) and back to the file backend; the last store must equal the first, by the
// command's own proof and by an independent comparison here.
//
// Slow on FerretDB, so not part of `deno task test`: run it with `deno task test:migrate`
// (MONGODB_URI must be set; scripts/ferretdb.sh starts a server). The sizes can be changed
// with CVM_MIGRATE_EXECUTIONS, CVM_MIGRATE_HISTORY and CVM_MIGRATE_LINES.

import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { join } from "node:path";
import { MongoClient } from "mongodb";
import { FileStorageAdapter } from "../mod.ts";
import { assertSameStore, fillStore, migrateWithKill, mongoDatabaseUri, runCli } from "./_cli.ts";
import { withTempDir } from "./_utils.ts";

const size = (name: string, fallback: number) => Number(Deno.env.get(name) ?? fallback);
const EXECUTIONS = size("CVM_MIGRATE_EXECUTIONS", 1000);
const HISTORY = size("CVM_MIGRATE_HISTORY", 20_000);
const LINES = size("CVM_MIGRATE_LINES", 5000);
/** Bulk reads scan collections on FerretDB v1: give each call room. */
const TIMEOUT = ["--timeout-ms", "300000"];

const uri = mongoDatabaseUri(`cvm_cli_big_${Date.now()}`);

function seconds(start: number): string {
  return `${((performance.now() - start) / 1000).toFixed(1)} s`;
}

Deno.test(`cvm-storage migrate: ${EXECUTIONS} executions, ${HISTORY} history entries, file → MongoDB (killed, resumed) → file`, async () => {
  if (uri === undefined) {
    throw new Error("MONGODB_URI is not set; start a server with scripts/ferretdb.sh start");
  }
  await withTempDir(async (dir) => {
    const firstDir = join(dir, "first");
    const lastDir = join(dir, "last");
    const first = new FileStorageAdapter({ dataDir: firstDir, fsync: false });
    await first.connect();
    let start = performance.now();
    await fillStore(first, {
      programs: 50,
      executions: EXECUTIONS,
      history: HISTORY,
      lines: LINES,
    });
    console.log(`filled the first store in ${seconds(start)}`);

    const client = new MongoClient(uri, { serverSelectionTimeoutMS: 5000 });
    try {
      start = performance.now();
      const there = await migrateWithKill(["--from", firstDir, "--to", uri, ...TIMEOUT], 0.4);
      console.log(`file → MongoDB, killed at "${there.killedAt}", then resumed: ${seconds(start)}`);
      assert(there.killedAt !== undefined, "the first run finished before it was killed");
      assertEquals(there.result.code, 0, there.result.stdout + there.result.stderr);
      assertStringIncludes(there.result.stdout, "The copy is equal to the source");
      assert(/\(([1-9]\d*) already complete\)/.test(there.result.stdout), there.result.stdout);

      start = performance.now();
      const back = await runCli(["migrate", "--from", uri, "--to", lastDir, ...TIMEOUT]);
      console.log(`MongoDB → file: ${seconds(start)}`);
      assertEquals(back.code, 0, back.stdout + back.stderr);
      assertStringIncludes(back.stdout, "The copy is equal to the source");

      start = performance.now();
      const last = new FileStorageAdapter(lastDir);
      await last.connect();
      const compared = await assertSameStore(first, last);
      await last.disconnect();
      console.log(`independent comparison: ${seconds(start)}`);
      assertEquals(compared, {
        programs: 50,
        executions: EXECUTIONS,
        history: HISTORY,
        lines: LINES,
      });
    } finally {
      await client.db().dropDatabase().catch(() => {});
      await client.close();
      await first.disconnect();
    }
  });
});
