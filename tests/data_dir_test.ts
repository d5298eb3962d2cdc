// What `connect` and the writes do with a data directory they should not trust: one owned
// by another user, one that group or others may write, and record directories that are
// symbolic links out of it. Writes never follow such a link, and `connect` never follows a
// link while it removes temp files.
//
// These tests run as root on CI. The ownership and mode checks are straight `stat` checks,
// so they hold for root too (root is refused a directory another user owns); making a
// directory owned by another user needs root, so that test is ignored otherwise. What only
// an unprivileged user can show (a write refused by the permission bits) runs in a child
// dropped to user `nobody` with `setpriv`, and is ignored where that cannot be done.

import { assert, assertEquals, assertRejects, assertStringIncludes } from "@std/assert";
import { join } from "node:path";
import { ConnectionError, CorruptRecordError, FileStorageAdapter } from "../mod.ts";
import { makeHistory, makeProgram, withTempDir } from "./_utils.ts";
import { canSpawn } from "./_workers/_spawn.ts";

const posix = Deno.build.os !== "windows";
const root = posix && canSpawn && Deno.permissions.querySync({ name: "sys", kind: "uid" })
      .state === "granted" &&
  Deno.uid() === 0;
const NOBODY = 65534;

/** Whether `setpriv` can drop this process's privileges to `nobody`. */
async function canDropPrivileges(): Promise<boolean> {
  if (!root) return false;
  try {
    const { success } = await new Deno.Command("setpriv", {
      args: [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups", "true"],
    }).output();
    return success;
  } catch {
    return false;
  }
}
const dropPrivileges = await canDropPrivileges();

/** Every path under `dir`, relative, sorted; directories end in `/`. Reads no file. */
async function tree(dir: string, sub = ""): Promise<string[]> {
  const found: string[] = [];
  for await (const entry of Deno.readDir(join(dir, sub))) {
    const rel = sub === "" ? entry.name : `${sub}/${entry.name}`;
    if (entry.isDirectory) found.push(`${rel}/`, ...await tree(dir, rel));
    else found.push(rel);
  }
  return found.sort();
}

Deno.test({
  name: "FileStorageAdapter.connect() refuses a data directory owned by another user, even to root",
  ignore: !root,
  async fn() {
    await withTempDir(async (dir) => {
      const data = join(dir, "data");
      await Deno.mkdir(data, { mode: 0o700 });
      await Deno.chown(data, NOBODY, NOBODY);
      const error = await assertRejects(
        () => new FileStorageAdapter(data).connect(),
        ConnectionError,
      );
      assertStringIncludes(error.message, data);
      assertStringIncludes(error.message, `belongs to user ${NOBODY}`);
      assertStringIncludes(error.message, `chown -R 0 "${data}"`);
      assertEquals(await tree(data), [], "nothing was created in it");

      // A record directory of another user's, in one's own data directory.
      await Deno.chown(data, 0, 0);
      await new FileStorageAdapter(data).connect();
      await Deno.chown(join(data, "history"), NOBODY, NOBODY);
      const inner = await assertRejects(
        () => new FileStorageAdapter(data).connect(),
        ConnectionError,
      );
      assertStringIncludes(inner.message, `"${join(data, "history")}" belongs to user ${NOBODY}`);

      // The cause is gone.
      await Deno.chown(join(data, "history"), 0, 0);
      const storage = new FileStorageAdapter(data);
      await storage.connect();
      await storage.saveProgram(makeProgram());
      await storage.disconnect();
    });
  },
});

Deno.test({
  name: "FileStorageAdapter.connect() refuses a data directory that group or others may write",
  ignore: !posix,
  async fn() {
    await withTempDir(async (dir) => {
      for (const mode of [0o770, 0o720, 0o707, 0o702, 0o777, 0o1777]) {
        const data = join(dir, `data-${mode.toString(8)}`);
        await Deno.mkdir(data);
        await Deno.chmod(data, mode);
        const error = await assertRejects(
          () => new FileStorageAdapter(data).connect(),
          ConnectionError,
        );
        assertStringIncludes(error.message, `mode ${(mode & 0o777).toString(8)}`);
        assertStringIncludes(error.message, `chmod 700 "${data}"`);
        assertEquals(await tree(data), [], "nothing was created in it");
        await Deno.chmod(data, 0o700);
        await new FileStorageAdapter(data).connect();
      }
      // Readable by others is their business; writable is not.
      const readable = join(dir, "readable");
      await Deno.mkdir(readable);
      await Deno.chmod(readable, 0o755);
      await new FileStorageAdapter(readable).connect();
      await Deno.chmod(join(readable, "programs"), 0o775);
      const error = await assertRejects(
        () => new FileStorageAdapter(readable).connect(),
        ConnectionError,
      );
      assertStringIncludes(error.message, `chmod 700 "${join(readable, "programs")}"`);
    });
  },
});

Deno.test({
  name: "FileStorageAdapter.connect() refuses record directories that are symbolic links",
  ignore: !posix,
  async fn() {
    await withTempDir(async (dir) => {
      const data = join(dir, "data");
      const elsewhere = join(dir, "elsewhere");
      await Deno.mkdir(elsewhere, { mode: 0o700 });
      for (const sub of ["programs", "executions", "history", "outputs"]) {
        await Deno.mkdir(data, { recursive: true, mode: 0o700 });
        await Deno.symlink(elsewhere, join(data, sub));
        const storage = new FileStorageAdapter(data);
        const error = await assertRejects(() => storage.connect(), ConnectionError);
        assertStringIncludes(error.message, `"${join(data, sub)}" is a symbolic link`);
        assertStringIncludes(error.message, "replace the link with the directory");
        assertEquals(storage.isConnected(), false);
        assertEquals(await tree(elsewhere), [], "nothing was written through the link");
        await Deno.remove(data, { recursive: true });
      }
      // The data directory itself may be a link: the user chose that path.
      const link = join(dir, "link");
      await Deno.mkdir(data, { mode: 0o700 });
      await Deno.symlink(data, link);
      const storage = new FileStorageAdapter(link);
      await storage.connect();
      await storage.saveProgram(makeProgram());
      assertEquals(await storage.getProgram("p1"), makeProgram());
      await storage.disconnect();
    });
  },
});

Deno.test({
  name:
    "FileStorageAdapter.saveHistory() never writes through an execution's directory that is a symbolic link",
  ignore: !posix,
  async fn() {
    await withTempDir(async (dir) => {
      const data = join(dir, "data");
      const elsewhere = join(dir, "elsewhere");
      await Deno.mkdir(elsewhere, { mode: 0o700 });
      const storage = new FileStorageAdapter(data);
      await storage.connect();
      await Deno.symlink(elsewhere, join(data, "history", "e1"));
      const error = await assertRejects(
        () => storage.saveHistory(makeHistory()),
        CorruptRecordError,
      );
      assertEquals(error.path, join(data, "history", "e1"));
      assertStringIncludes(error.message, "is a symbolic link");
      assertEquals(await tree(elsewhere), []);
      // Planted while connected, after the adapter had written there: checked again by the
      // next connection.
      await Deno.remove(join(data, "history", "e1"));
      await storage.saveHistory(makeHistory());
      await Deno.rename(join(data, "history", "e1"), join(dir, "moved"));
      await Deno.symlink(elsewhere, join(data, "history", "e1"));
      await storage.disconnect();
      await storage.connect();
      await assertRejects(
        () => storage.saveHistory(makeHistory({ step: 1 })),
        CorruptRecordError,
      );
      assertEquals(await tree(elsewhere), []);
      await storage.disconnect();
    });
  },
});

Deno.test({
  name:
    "FileStorageAdapter.connect() never follows an execution's directory link while removing temp files",
  ignore: !posix,
  async fn() {
    await withTempDir(async (dir) => {
      const data = join(dir, "data");
      const elsewhere = join(dir, "elsewhere");
      await Deno.mkdir(elsewhere, { mode: 0o700 });
      // Named like the temp files of dead writers, in 0.1's form and in this one's.
      const names = [
        ".cvm-99999999-0123456789abcdef.tmp",
        ".cvm-99999999-x-l0123456789abcdef.tmp",
        ".cvm-99999999-x-u0123456789abcdef.tmp",
      ];
      for (const name of names) await Deno.writeTextFile(join(elsewhere, name), "keep me");
      await new FileStorageAdapter(data).connect();
      await Deno.symlink(elsewhere, join(data, "history", "e1"));
      await Deno.symlink(elsewhere, join(data, "history", ".cvm-99999999-0123456789abcdef.del"));
      await new FileStorageAdapter(data).connect();
      assertEquals(await tree(elsewhere), names.sort());
    });
  },
});

Deno.test({
  name:
    "FileStorageAdapter as an unprivileged user: a refused write names the permission, not the disk",
  ignore: !dropPrivileges,
  async fn() {
    await withTempDir(async (dir) => {
      await Deno.chmod(dir, 0o755);
      const run = async (data: string) => {
        const { success, stdout, stderr } = await new Deno.Command("setpriv", {
          args: [
            `--reuid=${NOBODY}`,
            `--regid=${NOBODY}`,
            "--clear-groups",
            Deno.execPath(),
            "run",
            "--no-config",
            "--allow-read",
            "--allow-write",
            new URL("./_workers/unprivileged.ts", import.meta.url).pathname,
            data,
          ],
          env: { DENO_DIR: join(dir, "deno"), HOME: dir },
        }).output();
        assert(success, new TextDecoder().decode(stderr));
        return JSON.parse(new TextDecoder().decode(stdout));
      };
      await Deno.mkdir(join(dir, "deno"));
      await Deno.chown(join(dir, "deno"), NOBODY, NOBODY);

      // nobody's own data directory, whose programs/ nobody may not write in.
      const own = join(dir, "own");
      await Deno.mkdir(own, { mode: 0o700 });
      await Deno.chown(own, NOBODY, NOBODY);
      const first = await run(own);
      assertEquals(first, { connect: "ok", save: "ok" });
      await Deno.chmod(join(own, "programs"), 0o500);
      const { connect, save } = await run(own);
      assertEquals(connect, "ok");
      assertEquals(save.name, "StorageError");
      assertEquals(save.code, "IO");
      assertStringIncludes(save.message, "EACCES");
      assertStringIncludes(save.message, "permission was denied");
      assertStringIncludes(save.message, join(own, "programs", "p1.json"));
      assert(!save.message.includes("space"), save.message);

      // root's data directory: nobody cannot write in it, and is told so by connect().
      const roots = join(dir, "roots");
      await Deno.mkdir(roots, { mode: 0o700 });
      await Deno.chmod(roots, 0o755);
      const refused = await run(roots);
      assertEquals(refused.connect.name, "ConnectionError");
      assertStringIncludes(refused.connect.message, roots);
      assertStringIncludes(refused.connect.message, "permission was denied");
    });
  },
});
