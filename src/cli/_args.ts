// What every command shares: its description, argument parsing with `node:util`'s
// `parseArgs`, and the usage error that makes the command exit with status 2.

import { parseArgs } from "node:util";
import type { Io } from "./_output.ts";

/** The command line is wrong: the command prints the message and exits with status 2. */
export class UsageError extends Error {
  /**
   * @param message What is wrong with the command line.
   * @param command The command whose `--help` to point at, if any.
   */
  constructor(message: string, readonly command?: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** One option, as `parseArgs` takes it. */
export interface OptionSpec {
  type: "string" | "boolean";
  short?: string;
  multiple?: boolean;
}

/** What `parseArgs` found. */
export interface Parsed {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/** A subcommand: its help, its options, and what it does. */
export interface Command {
  /** The name typed on the command line. */
  name: string;
  /** One line for the top-level help. */
  summary: string;
  /** The full `--help` text, ending in a newline. */
  help: string;
  /** Its options, besides `--help`. */
  options: Record<string, OptionSpec>;
  /** The fewest and most positional arguments it takes. */
  positionals: [min: number, max: number];
  /** Runs the command; resolves with the exit status. */
  run(parsed: Parsed, io: Io): Promise<number>;
}

/** `--store`/`-s`, which every command but `migrate` takes. */
export const STORE_OPTION: Record<string, OptionSpec> = {
  store: { type: "string", short: "s" },
  "timeout-ms": { type: "string" },
};

/** `--timeout-ms`, for MongoDB stores. */
export const TIMEOUT_OPTION: Record<string, OptionSpec> = {
  "timeout-ms": { type: "string" },
};

/** `--json`, for commands whose output a script may want to read. */
export const JSON_OPTION: Record<string, OptionSpec> = {
  json: { type: "boolean" },
};

/** How a store is named, for every command's help. */
export const STORE_HELP =
  `  --timeout-ms N      MongoDB: the bound on each call, in milliseconds (default the
                      library's, 5000); raise it for large stores on slow servers

Stores:
  DIR, file:DIR          a data directory of the file backend
  mongodb://…            a MongoDB database (also mongodb+srv://…)
  cvm-legacy:DIR         a data directory written by the original CVM (read-only)
  (none)                 the store createStorage() opens: CVM_STORAGE_TYPE, CVM_DATA_DIR,
                         MONGODB_URI, else ~/.cvm
`;

/**
 * Parses a command's arguments.
 *
 * @param command The command.
 * @param args Its arguments (after the command name).
 * @returns The option values and positional arguments; `values.help` when `--help` was given.
 * @throws {UsageError} For an unknown option, a missing option value, or the wrong number of
 * positional arguments.
 */
export function parseCommandArgs(command: Command, args: string[]): Parsed {
  let parsed: Parsed;
  try {
    parsed = parseArgs({
      args,
      options: { ...command.options, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
      strict: true,
    }) as Parsed;
  } catch (error) {
    throw new UsageError(describeParseError(error), command.name);
  }
  if (parsed.values.help) return parsed;
  const [min, max] = command.positionals;
  const count = parsed.positionals.length;
  if (count < min) {
    throw new UsageError(`"${command.name}" needs ${describeCount(min)}`, command.name);
  }
  if (count > max) {
    const extra = parsed.positionals[max];
    throw new UsageError(
      `"${command.name}" takes ${max === 0 ? "no" : `at most ${max}`} positional ` +
        `argument${max === 1 ? "" : "s"}; unexpected "${extra}"`,
      command.name,
    );
  }
  return parsed;
}

function describeCount(count: number): string {
  return count === 1 ? "an argument" : `${count} arguments`;
}

// node:util's messages name the option and end in a period; ours do not.
function describeParseError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split(". To specify")[0].replace(/\.$/, "");
}

/**
 * A positive integer option, or its default.
 *
 * @param parsed The parsed arguments.
 * @param name The option.
 * @param fallback Its default.
 * @param command The command, for the error.
 * @returns The number.
 * @throws {UsageError} When the value is not a positive integer.
 */
export function positiveInteger(
  parsed: Parsed,
  name: string,
  fallback: number,
  command: string,
): number {
  const text = parsed.values[name];
  if (text === undefined) return fallback;
  const value = Number(text);
  if (
    typeof text !== "string" || !/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < 1
  ) {
    throw new UsageError(`--${name} must be a positive integer, not "${text}"`, command);
  }
  return value;
}

/**
 * A safe integer option (negative allowed), or `undefined`.
 *
 * @param parsed The parsed arguments.
 * @param name The option.
 * @param command The command, for the error.
 * @returns The number, or `undefined` when the option is absent.
 * @throws {UsageError} When the value is not an integer.
 */
export function integer(parsed: Parsed, name: string, command: string): number | undefined {
  const text = parsed.values[name];
  if (text === undefined) return undefined;
  const value = Number(text);
  if (typeof text !== "string" || !/^-?\d+$/.test(text) || !Number.isSafeInteger(value)) {
    throw new UsageError(`--${name} must be an integer, not "${text}"`, command);
  }
  return value;
}

/**
 * The `--timeout-ms` option.
 *
 * @param parsed The parsed arguments.
 * @param command The command, for the error.
 * @returns The milliseconds, or `undefined` for the library's default.
 * @throws {UsageError} When the value is not a positive integer.
 */
export function timeoutArgument(parsed: Parsed, command: string): number | undefined {
  return parsed.values["timeout-ms"] === undefined
    ? undefined
    : positiveInteger(parsed, "timeout-ms", 0, command);
}
