// FileStorageAdapter's constructor and its connect/disconnect lifecycle: bad data
// directories fail at once with ConfigError, `~` is the home directory as in
// createStorage(), and a disconnect() called while connect() runs wins.

import { assert, assertEquals, assertRejects, assertThrows } from "@std/assert";
import { join } from "node:path";
import { ConfigError, FileStorageAdapter, NotConnectedError } from "../mod.ts";
import { fs } from "../src/file/_fs.ts";
import { makeProgram, withTempDir } from "./_utils.ts";

const canReadEnv = Deno.permissions.querySync({ name: "env" }).state === "granted";

Deno.test("new FileStorageAdapter() throws ConfigError for a NUL in the data directory", () => {
  for (const dataDir of ["data\0dir", "\0"]) {
    for (const options of [dataDir, { dataDir }]) {
      const error = assertThrows(() => new FileStorageAdapter(options), ConfigError);
      assert(error.message.includes("NUL"), error.message);
    }
  }
});

Deno.test("new FileStorageAdapter() throws ConfigError for an fsync option that is not a boolean", () => {
  for (const fsync of ["yes", 1, null]) {
    assertThrows(
      () => new FileStorageAdapter({ dataDir: "data", fsync: fsync as unknown as boolean }),
      ConfigError,
      "fsync",
    );
  }
});

Deno.test({
  name:
    "new FileStorageAdapter() expands a leading ~ to the home directory, as createStorage() does",
  ignore: !canReadEnv,
  fn() {
    const home = Deno.env.get("HOME");
    if (home === undefined) return;
    assertEquals(new FileStorageAdapter("~/cvm-x").dataDir, join(home, "cvm-x"));
    assertEquals(new FileStorageAdapter({ dataDir: "~" }).dataDir, home);
    // Only a leading "~" alone or before a separator: "~user" is a relative name.
    assertEquals(new FileStorageAdapter("~user/x").dataDir, join(Deno.cwd(), "~user", "x"));
    assertEquals(new FileStorageAdapter("a/~/b").dataDir, join(Deno.cwd(), "a", "~", "b"));
  },
});

Deno.test("FileStorageAdapter.disconnect() during connect() wins: it ends disconnected", async () => {
  await withTempDir(async (dir) => {
    const mkdir = fs.mkdir;
    let release!: () => void;
    const held = new Promise<void>((resolve) => release = resolve);
    let started!: () => void;
    const connecting = new Promise<void>((resolve) => started = resolve);
    fs.mkdir = async (...args) => {
      started();
      await held;
      return await mkdir(...args);
    };
    const storage = new FileStorageAdapter(dir);
    let connect: Promise<void>;
    let disconnect: Promise<void>;
    try {
      connect = storage.connect();
      await connecting;
      disconnect = storage.disconnect();
      assertEquals(storage.isConnected(), false);
    } finally {
      release();
      fs.mkdir = mkdir;
    }
    await connect;
    await disconnect;
    assertEquals(storage.isConnected(), false);
    await assertRejects(() => storage.saveProgram(makeProgram()), NotConnectedError);
    await assertRejects(() => storage.getProgram("p1"), NotConnectedError);
    // A connect() after it connects again.
    await storage.connect();
    await storage.saveProgram(makeProgram());
    assertEquals(await storage.getProgram("p1"), makeProgram());
    await storage.disconnect();
  });
});

Deno.test("FileStorageAdapter lifecycle calls in a row end in the state of the last one", async () => {
  await withTempDir(async (dir) => {
    const storage = new FileStorageAdapter(dir);
    const calls = [
      storage.connect(),
      storage.disconnect(),
      storage.connect(),
      storage.connect(),
      storage.disconnect(),
      storage.disconnect(),
      storage.connect(),
    ];
    await Promise.all(calls);
    assert(storage.isConnected());
    await storage.saveProgram(makeProgram());
    await Promise.all([storage.disconnect(), storage.connect(), storage.disconnect()]);
    assertEquals(storage.isConnected(), false);
    await assertRejects(() => storage.listPrograms(), NotConnectedError);
    // Idempotent once settled.
    await storage.disconnect();
    await storage.connect();
    await storage.connect();
    assert(storage.isConnected());
    await storage.disconnect();
  });
});

Deno.test("FileStorageAdapter.disconnect() after a failed connect() leaves it disconnected", async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, "file");
    await Deno.writeTextFile(file, "");
    const storage = new FileStorageAdapter(file);
    const connect = storage.connect();
    const disconnect = storage.disconnect();
    await assertRejects(() => connect);
    await disconnect;
    assertEquals(storage.isConnected(), false);
  });
});
