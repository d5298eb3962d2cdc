// The command dispatcher: picks the subcommand, prints help, and turns failures into exit
// statuses (0 success, 1 failure, 2 a wrong command line) and one `error:` line each.

import { StorageError } from "../errors.ts";
import { type Command, parseCommandArgs, UsageError } from "./_args.ts";
import { type Io, processIo } from "./_output.ts";
import { exportCommand } from "./export.ts";
import { importCommand } from "./import.ts";
import { inspectCommand } from "./inspect.ts";
import { migrateCommand } from "./migrate.ts";
import { showCommand } from "./show.ts";
import { verifyCommand } from "./verify.ts";

const COMMANDS: readonly Command[] = [
  inspectCommand,
  showCommand,
  verifyCommand,
  exportCommand,
  importCommand,
  migrateCommand,
];

const HELP = `cvm-storage: look at, check, copy and move @cvm/storage stores

Usage: cvm-storage <command> [options]

Commands:
${COMMANDS.map((command) => `  ${command.name.padEnd(10)}${command.summary}`).join("\n")}

Run "cvm-storage <command> --help" for a command's options.

Stores: a data directory (DIR or file:DIR), a mongodb:// or mongodb+srv:// URI, or
cvm-legacy:DIR (a data directory of the original CVM, read-only). Without --store, the
store createStorage() opens: CVM_STORAGE_TYPE, CVM_DATA_DIR, MONGODB_URI, else ~/.cvm.

Exit status: 0 success, 1 failure (a problem found, a record missing, an error),
2 a wrong command line.
`;

/**
 * Where {@linkcode main} writes, and the environment it reads. Every field is optional:
 * the defaults are the process's own.
 *
 * @example Capturing a command's output
 * ```ts
 * import type { CliOptions } from "@cvm/storage/cli";
 *
 * const lines: string[] = [];
 * const options: CliOptions = { stdout: (text) => void lines.push(text), interactive: false };
 * ```
 */
export interface CliOptions {
  /** Receives what the command prints for its result. Default: standard output. */
  stdout?: (text: string) => void | Promise<void>;
  /** Receives progress and error messages. Default: standard error. */
  stderr?: (text: string) => void | Promise<void>;
  /** Whether to redraw a progress bar (a terminal). Default: whether stderr is a TTY. */
  interactive?: boolean;
  /**
   * The environment to read instead of the process's, for the store `createStorage()`
   * would open when a command names none (`CVM_STORAGE_TYPE`, `CVM_DATA_DIR`, `MONGODB_URI`).
   */
  env?: Record<string, string | undefined>;
}

/**
 * Runs a `cvm-storage` command line: `inspect`, `show`, `verify`, `export`, `import` or
 * `migrate`, with their options (`cvm-storage --help` lists them). Never throws: failures
 * are printed to `stderr` and reflected in the exit status.
 *
 * Under Deno it needs the permissions of the store it opens: `--allow-read --allow-write
 * --allow-env` for a file store, also `--allow-net --allow-sys` for MongoDB.
 *
 * @param args The arguments, without the program name (`process.argv.slice(2)`).
 * @param options Where to write, and the environment.
 * @returns The exit status: 0 success, 1 failure, 2 a wrong command line.
 *
 * @example Printing the help
 * ```ts
 * import { main } from "@cvm/storage/cli";
 *
 * let help = "";
 * const status = await main(["--help"], { stdout: (text) => void (help += text) });
 * console.log(status, help.startsWith("cvm-storage")); // 0 true
 * ```
 */
export async function main(args: readonly string[], options: CliOptions = {}): Promise<number> {
  const io = processIo();
  const wrap = (write: (text: string) => void | Promise<void>) => async (text: string) => {
    await write(text);
  };
  if (options.stdout) io.stdout = wrap(options.stdout);
  if (options.stderr) io.stderr = wrap(options.stderr);
  io.interactive = options.interactive ?? (options.stderr ? false : io.interactive);
  if (options.env) io.env = options.env;
  return await runCli(args, io);
}

/** Runs a command line with `io`; see {@linkcode main}. */
async function runCli(args: readonly string[], io: Io): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined) {
    await io.stderr(HELP);
    return 2;
  }
  if (name === "--help" || name === "-h" || name === "help") {
    const command = rest[0] === undefined ? undefined : find(rest[0]);
    await io.stdout(command?.help ?? HELP);
    return rest[0] === undefined || command !== undefined ? 0 : usage(io, unknown(rest[0]));
  }
  const command = find(name);
  try {
    if (command === undefined) throw unknown(name);
    const parsed = parseCommandArgs(command, rest);
    if (parsed.values.help) {
      await io.stdout(command.help);
      return 0;
    }
    return await command.run(parsed, io);
  } catch (error) {
    if (error instanceof UsageError) return await usage(io, error);
    if (error instanceof StorageError) {
      await io.stderr(`error: ${error.message}\n`);
      return 1;
    }
    const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    await io.stderr(`error: unexpected failure (${text}); please report it\n`);
    if (error instanceof Error && error.stack && io.env?.CVM_DEBUG) {
      await io.stderr(`${error.stack}\n`);
    }
    return 1;
  }
}

function find(name: string): Command | undefined {
  return COMMANDS.find((command) => command.name === name);
}

function unknown(name: string): UsageError {
  return new UsageError(
    `unknown command "${name}"; the commands are ${COMMANDS.map((c) => c.name).join(", ")}`,
  );
}

async function usage(io: Io, error: UsageError): Promise<number> {
  const help = error.command === undefined
    ? 'Run "cvm-storage --help" for usage.'
    : `Run "cvm-storage ${error.command} --help" for usage.`;
  await io.stderr(`error: ${error.message}\n${help}\n`);
  return 2;
}
