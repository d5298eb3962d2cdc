// The file backend's tests that need threads or a child process, shared by Node
// (tests/node/file_threads.test.mjs, on the built package) and Bun (tests/bun/, on the
// sources): worker_threads writing while the main thread connects again and again (they
// share the process id, so no temp file may be judged by it), and 3,000 concurrent saves
// under `ulimit -n 256`.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Worker } from "node:worker_threads";

const WORKERS = 4;
const SAVES = 60;

/**
 * Registers the tests.
 *
 * @param {(name: string, fn: () => Promise<void>) => void} test The runner's `test`.
 * @param {string} specifier How the workers and children import the library.
 * @param {(specifier: string) => Promise<any>} load Imports the library in this thread.
 */
export function fileThreadTests(test, specifier, load) {
  test("FileStorageAdapter.connect() on the main thread never removes a worker_thread's temp files", async () => {
    const { FileStorageAdapter } = await load(specifier);
    const dataDir = await mkdtemp(join(tmpdir(), "cvm-storage-threads-"));
    try {
      await new FileStorageAdapter(dataDir).connect();
      const errors = [];
      let writes = 0;
      let connects = 0;
      const workers = Array.from(
        { length: WORKERS },
        (_, writer) =>
          new Worker(new URL("./thread_writer.mjs", import.meta.url), {
            workerData: { specifier, dataDir, writer, count: SAVES },
          }),
      );
      const done = workers.map((worker, writer) =>
        new Promise((resolve) => {
          worker.on("message", (message) => {
            if (message.kind === "error") errors.push(message.message);
            else writes += message.writes;
          });
          worker.on("error", (error) => errors.push(`worker ${writer}: ${error}`));
          worker.on("exit", resolve);
        })
      );
      let finished = false;
      const all = Promise.all(done).then(() => finished = true);
      while (!finished) {
        const storage = new FileStorageAdapter(dataDir);
        await storage.connect();
        await storage.disconnect();
        connects++;
      }
      await all;
      console.log(`${writes} saves from ${WORKERS} worker_threads during ${connects} connects`);
      assert.deepEqual(errors, []);
      assert.equal(writes, WORKERS * SAVES * 3);
      assert.ok(connects > 10, `only ${connects} connects ran during the saves`);
      const storage = new FileStorageAdapter(dataDir);
      await storage.connect();
      for (let w = 0; w < WORKERS; w++) {
        assert.equal((await storage.getProgram(`w${w}`)).name, `v${SAVES - 1}`);
        assert.equal((await storage.getHistory(`w${w}`)).length, SAVES);
      }
      await storage.disconnect();
      for (const dir of ["programs", "executions"]) {
        assert.deepEqual((await readdir(join(dataDir, dir))).filter((n) => n.startsWith(".")), []);
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  test("FileStorageAdapter.connect() removes the temp files of dead processes, and only those", async () => {
    const { FileStorageAdapter } = await load(specifier);
    const dataDir = await mkdtemp(join(tmpdir(), "cvm-storage-dead-"));
    try {
      await new FileStorageAdapter(dataDir).connect();
      // Version 0.1's names, whose pid is all there is to go by: a dead pid (larger than any
      // a system hands out), a live one (this process), and pid 1.
      const dead = ".cvm-99999999-0123456789abcdef.tmp";
      const kept = [`.cvm-${process.pid}-0123456789abcdef.tmp`, ".cvm-1-0123456789abcdef.tmp"];
      for (const name of [dead, ...kept]) await writeFile(join(dataDir, "programs", name), "{");
      await mkdir(join(dataDir, "history", ".cvm-99999999-fedcba9876543210.del"));
      const storage = new FileStorageAdapter(dataDir);
      await storage.connect();
      await storage.disconnect();
      if (process.platform !== "win32") {
        assert.deepEqual((await readdir(join(dataDir, "programs"))).sort(), kept.sort());
        assert.deepEqual(await readdir(join(dataDir, "history")), []);
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  test("FileStorageAdapter under ulimit -n 256: 3,000 concurrent saves and 20 concurrent lists all succeed", async () => {
    if (process.platform === "win32") return;
    const dataDir = await mkdtemp(join(tmpdir(), "cvm-storage-fd-"));
    try {
      const script = fileURLToPath(new URL("./fd_limit.mjs", import.meta.url));
      const { stdout } = await promisify(execFile)("bash", [
        "-c",
        'ulimit -n 256 && exec "$0" "$1" "$2" "$3"',
        process.execPath,
        script,
        specifier,
        dataDir,
      ], { cwd: fileURLToPath(new URL(".", import.meta.url)) });
      console.log(`ulimit -n 256: ${stdout.trim()}`);
      assert.deepEqual(JSON.parse(stdout), {
        saves: 3000,
        savesFailed: 0,
        lists: 20,
        listsFailed: 0,
        errors: [],
      });
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
}
