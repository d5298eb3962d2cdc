import { assert, assertEquals, assertInstanceOf, assertMatch, assertThrows } from "@std/assert";
import { join } from "node:path";
import {
  ConfigError,
  createStorage,
  FileStorageAdapter,
  MemoryStorageAdapter,
  MongoDBAdapter,
  StorageFactory,
} from "../mod.ts";

const envGranted = Deno.permissions.querySync({ name: "env" }).state === "granted";

Deno.test("createStorage() defaults to the file backend under ~/.cvm", () => {
  const storage = createStorage({ env: { HOME: "/home/ada" } }) as FileStorageAdapter;
  assertInstanceOf(storage, FileStorageAdapter);
  assertEquals(storage.dataDir, join("/home/ada", ".cvm"));
});

Deno.test("createStorage() takes the data directory from CVM_DATA_DIR", () => {
  const storage = createStorage({
    env: { CVM_DATA_DIR: "/srv/cvm", HOME: "/home/ada" },
  }) as FileStorageAdapter;
  assertInstanceOf(storage, FileStorageAdapter);
  assertEquals(storage.dataDir, "/srv/cvm");
});

Deno.test("createStorage() prefers config.dataDir over CVM_DATA_DIR", () => {
  const storage = createStorage({ dataDir: "/data", env: { CVM_DATA_DIR: "/srv/cvm" } });
  assertEquals((storage as FileStorageAdapter).dataDir, "/data");
});

Deno.test("createStorage() resolves a relative data directory to an absolute one", () => {
  const storage = createStorage({ dataDir: "rel/dir", env: {} }) as FileStorageAdapter;
  assertEquals(storage.dataDir, join(Deno.cwd(), "rel/dir"));
});

Deno.test("createStorage() takes the type from CVM_STORAGE_TYPE", () => {
  assertInstanceOf(createStorage({ env: { CVM_STORAGE_TYPE: "memory" } }), MemoryStorageAdapter);
  const mongo = createStorage({
    env: { CVM_STORAGE_TYPE: "mongodb", MONGODB_URI: "mongodb://127.0.0.1:1/x" },
  });
  assertInstanceOf(mongo, MongoDBAdapter);
  assertEquals(mongo.isConnected(), false);
});

Deno.test("createStorage() prefers config.type and config.mongoUri over the environment", () => {
  const env = { CVM_STORAGE_TYPE: "file", MONGODB_URI: "not a uri" };
  const storage = createStorage({ type: "mongodb", mongoUri: "mongodb+srv://db.example/x", env });
  assertInstanceOf(storage, MongoDBAdapter);
  assertInstanceOf(createStorage({ type: "memory", env }), MemoryStorageAdapter);
});

Deno.test("createStorage() rejects an unknown type, naming the setting and the valid values", () => {
  const fromEnv = assertThrows(
    () => createStorage({ env: { CVM_STORAGE_TYPE: "redis" } }),
    ConfigError,
  );
  assertMatch(fromEnv.message, /"redis".*CVM_STORAGE_TYPE.*"file", "mongodb", "memory"/);
  assertEquals(fromEnv.code, "CONFIG");
  const fromConfig = assertThrows(
    // deno-lint-ignore no-explicit-any
    () => createStorage({ type: "sqlite" as any, env: {} }),
    ConfigError,
  );
  assertMatch(fromConfig.message, /"sqlite".*config\.type/);
  assertThrows(() => createStorage({ env: { CVM_STORAGE_TYPE: "" } }), ConfigError);
});

Deno.test("createStorage() rejects an empty data directory, naming the setting", () => {
  const fromConfig = assertThrows(() => createStorage({ dataDir: "", env: {} }), ConfigError);
  assertMatch(fromConfig.message, /config\.dataDir/);
  const fromEnv = assertThrows(() => createStorage({ env: { CVM_DATA_DIR: "" } }), ConfigError);
  assertMatch(fromEnv.message, /CVM_DATA_DIR/);
});

Deno.test("createStorage() needs a MongoDB URI for the mongodb type", () => {
  const error = assertThrows(() => createStorage({ type: "mongodb", env: {} }), ConfigError);
  assertMatch(error.message, /MONGODB_URI/);
  assertMatch(error.message, /mongoUri/);
});

Deno.test("createStorage() rejects URIs that are not mongodb:// or mongodb+srv://", () => {
  for (const uri of ["http://localhost:27017", "localhost:27017", "mongodb:/x", "mongodb://"]) {
    const error = assertThrows(
      () => createStorage({ type: "mongodb", mongoUri: uri, env: {} }),
      ConfigError,
      undefined,
      uri,
    );
    assertMatch(error.message, /"mongodb:\/\/" or "mongodb\+srv:\/\/"/);
  }
});

Deno.test("createStorage() without a home directory asks for dataDir or --allow-env", () => {
  const error = assertThrows(() => createStorage({ env: {} }), ConfigError);
  assertMatch(error.message, /dataDir/);
  assertMatch(error.message, /--allow-env/);
});

Deno.test("createStorage() never touches the disk or the network", () => {
  const dir = join(Deno.cwd(), "does-not-exist-yet");
  createStorage({ dataDir: dir, env: {} });
  createStorage({ type: "mongodb", mongoUri: "mongodb://127.0.0.1:1/", env: {} });
  assertThrows(() => Deno.statSync(dir), Deno.errors.NotFound);
});

Deno.test("StorageFactory.create() is createStorage()", () => {
  assertEquals(StorageFactory.create, createStorage);
});

Deno.test({
  name: "createStorage() reads the process environment when config.env is absent",
  ignore: !envGranted,
  fn() {
    const saved = Deno.env.get("CVM_STORAGE_TYPE");
    Deno.env.set("CVM_STORAGE_TYPE", "memory");
    try {
      assertInstanceOf(createStorage(), MemoryStorageAdapter);
    } finally {
      if (saved === undefined) Deno.env.delete("CVM_STORAGE_TYPE");
      else Deno.env.set("CVM_STORAGE_TYPE", saved);
    }
  },
});

const runGranted = Deno.permissions.querySync({ name: "run" }).state === "granted";

Deno.test({
  name: "createStorage() treats an unreadable environment as unset",
  ignore: !runGranted,
  async fn() {
    // A child without --allow-env: the factory must not crash, and must say what to do.
    const script = `
    import { createStorage, MemoryStorageAdapter } from ${
      JSON.stringify(import.meta.resolve("../mod.ts"))
    };
    const out = [];
    out.push(createStorage({ type: "memory" }) instanceof MemoryStorageAdapter);
    out.push(createStorage({ dataDir: "/tmp/x" }).dataDir);
    try { createStorage(); out.push("no error"); } catch (e) { out.push(e.name + ": " + e.message); }
    console.log(JSON.stringify(out));
  `;
    const file = await Deno.makeTempFile({ suffix: ".ts" });
    await Deno.writeTextFile(file, script);
    const command = new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-prompt", "--allow-read", file],
      stdout: "piped",
      stderr: "piped",
    });
    const { code, stdout, stderr } = await command.output().finally(() => Deno.remove(file));
    const text = new TextDecoder().decode(stdout);
    assertEquals(code, 0, new TextDecoder().decode(stderr));
    const [memory, dataDir, error] = JSON.parse(text);
    assert(memory);
    assertEquals(dataDir, "/tmp/x");
    assertMatch(error, /^ConfigError: .*--allow-env/);
  },
});
