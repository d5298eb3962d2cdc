// The file backend under a low file-descriptor limit: a child process runs with
// `ulimit -n 256` (tests/_workers/fd_limit.ts) and makes 3,000 concurrent saves and 20
// concurrent listPrograms of 1,000 programs. Every call must succeed: the adapter bounds its
// own open files and retries a transient EMFILE (src/file/_limiter.ts).

import { assertEquals } from "@std/assert";
import { withTempDir } from "./_utils.ts";
import { canSpawn } from "./_workers/_spawn.ts";

const LIMIT = 256;

async function hasBash(): Promise<boolean> {
  if (!canSpawn || Deno.build.os === "windows") return false;
  try {
    return (await new Deno.Command("bash", { args: ["-c", "ulimit -n 256"] }).output()).success;
  } catch {
    return false;
  }
}

Deno.test({
  name:
    `FileStorageAdapter under ulimit -n ${LIMIT}: 3,000 concurrent saves and 20 concurrent lists all succeed`,
  ignore: !(await hasBash()),
  async fn() {
    await withTempDir(async (dir) => {
      const script = new URL("./_workers/fd_limit.ts", import.meta.url).pathname;
      const { success, stdout, stderr } = await new Deno.Command("bash", {
        args: [
          "-c",
          `ulimit -n ${LIMIT} && exec "$0" run --allow-read --allow-write "$1" "$2"`,
          Deno.execPath(),
          script,
          dir,
        ],
        cwd: new URL("../", import.meta.url),
      }).output();
      const text = new TextDecoder().decode(stdout);
      if (!success) throw new Error(`the child failed: ${new TextDecoder().decode(stderr)}`);
      const result = JSON.parse(text);
      console.log(`ulimit -n ${LIMIT}: ${text.trim()}`);
      assertEquals(result, { saves: 3000, savesFailed: 0, lists: 20, listsFailed: 0, errors: [] });
    });
  },
});
