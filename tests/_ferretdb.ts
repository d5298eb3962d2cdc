// Starts a FerretDB server of a test's own (scripts/ferretdb.sh, on a free port, in a
// fresh directory), for tests that stop it with SIGSTOP.

import { join } from "node:path";

const ROOT = new URL("../", import.meta.url);
const SCRIPT = new URL("scripts/ferretdb.sh", ROOT).pathname;

/** A running FerretDB. */
export interface FerretDB {
  /** `mongodb://127.0.0.1:<port>/`. */
  uri: string;
  /** The server's process id, for SIGSTOP and SIGCONT. */
  pid: number;
  /** Stops it and removes its directory. */
  stop(): Promise<void>;
}

/**
 * Why a FerretDB of the test's own cannot be started here, or `undefined` when it can: it
 * needs --allow-run and a built binary (CI builds it when it starts its own server).
 */
export async function noFerretDB(): Promise<string | undefined> {
  if (Deno.permissions.querySync({ name: "run" }).state !== "granted") return "needs --allow-run";
  const bin = Deno.env.get("FERRETDB_BIN") ?? await goBinary();
  if (bin === undefined) return "no FerretDB binary (set FERRETDB_BIN, or install Go)";
  try {
    await Deno.stat(bin);
    return undefined;
  } catch {
    return `no FerretDB binary at ${bin}; run scripts/ferretdb.sh start once to build it`;
  }
}

async function goBinary(): Promise<string | undefined> {
  try {
    const { stdout, success } = await new Deno.Command("go", { args: ["env", "GOBIN", "GOPATH"] })
      .output();
    if (!success) return undefined;
    const [gobin, gopath] = new TextDecoder().decode(stdout).split("\n");
    return gobin !== "" ? join(gobin, "ferretdb") : join(gopath, "bin", "ferretdb");
  } catch {
    return undefined;
  }
}

/** Starts FerretDB on a free port. */
export async function startFerretDB(): Promise<FerretDB> {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (probe.addr as Deno.NetAddr).port;
  probe.close();
  const dir = join(await Deno.makeTempDir({ prefix: "cvm-ferretdb-test-" }), "server");
  const env = { FERRETDB_DIR: dir, FERRETDB_PORT: String(port) };
  const run = async (command: string) => {
    const { success, stdout, stderr } = await new Deno.Command("bash", {
      args: [SCRIPT, command],
      env,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(stdout);
    if (!success) {
      throw new Error(
        `scripts/ferretdb.sh ${command} failed:\n${new TextDecoder().decode(stderr)}`,
      );
    }
    return text;
  };
  const started = await run("start");
  const uri = /MONGODB_URI=(\S+)/.exec(started)?.[1];
  const pid = Number(await Deno.readTextFile(join(dir, "pid")));
  if (uri === undefined || !Number.isSafeInteger(pid)) throw new Error(`no server: ${started}`);
  return {
    uri,
    pid,
    async stop() {
      try {
        Deno.kill(pid, "SIGCONT");
      } catch {
        // Not running.
      }
      await run("stop");
      await Deno.remove(join(dir, ".."), { recursive: true }).catch(() => {});
    },
  };
}
