// @ts-check
// Hostile files on Node and Bun, where `node:fs` is the runtime's own: a FIFO, socket,
// symbolic link, directory or oversized file in a record's place is a CorruptRecordError
// naming the path, found promptly (no read blocks on a FIFO), and no message quotes a
// file. Registered by tests/node/hostile_files.test.mjs and tests/bun/hostile_files.test.ts;
// the Deno suite (tests/hostile_files_test.ts) covers every record kind in depth.

import { execFileSync } from "node:child_process";
import { closeSync, constants, openSync } from "node:fs";
import { mkdir, mkdtemp, rm, stat, symlink, truncate, unlink, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";

const SECRET = "TOP-SECRET-a1b2c3";

/**
 * @param {object} options
 * @param {(name: string, fn: () => Promise<void>) => unknown} options.test The runner's `test`.
 * @param {typeof import("@cvm/storage")} options.storage The library.
 * @param {string} options.runtime Names the temp directories.
 */
export function registerHostileFileTests({ test, storage, runtime }) {
  const { FileStorageAdapter, CorruptRecordError } = storage;

  /** @param {(adapter: InstanceType<typeof FileStorageAdapter>, dir: string) => Promise<void>} fn */
  const withStore = async (fn) => {
    const dir = await mkdtemp(join(tmpdir(), `cvm-storage-${runtime}-hostile-`));
    const adapter = new FileStorageAdapter({ dataDir: dir, fsync: false });
    try {
      await adapter.connect();
      await adapter.saveProgram({
        id: "p1",
        name: "P",
        source: "",
        bytecode: [],
        created: new Date(0),
      });
      await adapter.saveProgram({
        id: "p2",
        name: "P",
        source: "",
        bytecode: [],
        created: new Date(0),
      });
      await fn(adapter, dir);
    } finally {
      await adapter.disconnect();
      await rm(dir, { recursive: true, force: true });
    }
  };

  /**
   * Expects `read` to reject promptly with a CorruptRecordError naming `path`.
   *
   * @param {() => Promise<unknown>} read
   * @param {string} path
   * @param {string} says
   */
  const expectCorrupt = async (read, path, says) => {
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    let timer;
    const outcome = await Promise.race([
      read().then(() => "resolved", (error) => error),
      new Promise((resolve) => timer = setTimeout(() => resolve("hung"), 5000)),
    ]);
    clearTimeout(timer);
    if (!(outcome instanceof CorruptRecordError)) {
      throw new Error(`expected a CorruptRecordError for ${path}, got ${String(outcome)}`);
    }
    if (outcome.path !== path || !outcome.message.includes(says)) {
      throw new Error(`unexpected error: ${outcome.message}`);
    }
    if (`${outcome.message}${outcome.stack}${String(outcome.cause)}`.includes(SECRET)) {
      throw new Error(`the error quotes the file: ${outcome.message}`);
    }
  };

  /** @type {[string, string, (path: string, dir: string) => Promise<() => Promise<void> | void>][]} */
  const cases = [
    ["a FIFO", "named pipe", (path) => {
      execFileSync("mkfifo", [path]);
      return Promise.resolve(() => {
        try {
          closeSync(openSync(path, constants.O_WRONLY | constants.O_NONBLOCK));
        } catch {
          // ENXIO: no read was waiting on it.
        }
      });
    }],
    ["a Unix socket", "socket", async (path) => {
      const server = createServer();
      await new Promise((resolve) => server.listen(path, () => resolve(undefined)));
      return () => new Promise((resolve) => server.close(() => resolve()));
    }],
    ["a link to a secret file", "symbolic link", async (path, dir) => {
      const secret = `${dir}-secret.json`;
      await writeFile(secret, `{"id": "${SECRET}"}`);
      await symlink(secret, path);
      return () => unlink(secret);
    }],
    ["a link to /dev/zero", "symbolic link", async (path) => {
      await symlink("/dev/zero", path);
      return () => {};
    }],
    ["a directory", "directory", async (path) => {
      await mkdir(path);
      return () => {};
    }],
    ["a sparse file over the record limit", "over the 64 MiB record limit", async (path) => {
      await writeFile(path, "");
      await truncate(path, 64 * 1024 * 1024 + 1);
      return () => {};
    }],
    ["a file that is not UTF-8", "not valid UTF-8", async (path) => {
      const encoder = new TextEncoder();
      await writeFile(
        path,
        new Uint8Array([...encoder.encode(`{"id": "${SECRET}`), 0xe9, ...encoder.encode('"}')]),
      );
      return () => {};
    }],
    ["a file that is not JSON", "not valid JSON", async (path) => {
      await writeFile(path, `{"id": "${SECRET}" oops`);
      return () => {};
    }],
  ];

  for (const [name, says, place] of cases) {
    test(`hostile files: ${name} in a record's place is reported promptly`, async () => {
      if (process.platform === "win32") return;
      await withStore(async (adapter, dir) => {
        const path = join(dir, "programs", "p1.json");
        await unlink(path);
        const cleanUp = await place(path, dir);
        try {
          await expectCorrupt(() => adapter.getProgram("p1"), path, says);
          await expectCorrupt(() => adapter.listPrograms(), path, says);
          if ((await adapter.getProgram("p2"))?.id !== "p2") throw new Error("p2 does not read");
        } finally {
          await cleanUp();
        }
      });
    });
  }

  test("hostile files: deleteProgram() reports an empty directory in the record's place", async () => {
    await withStore(async (adapter, dir) => {
      const path = join(dir, "programs", "p1.json");
      await unlink(path);
      await mkdir(path);
      await expectCorrupt(() => adapter.deleteProgram("p1"), path, "is a directory");
      if (!(await stat(path)).isDirectory()) throw new Error("the directory was removed");
    });
  });
}
