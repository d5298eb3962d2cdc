// Reads the process environment without needing permissions: under Deno without
// --allow-env (or --allow-sys for the home directory), a value reads as unset.

import { homedir } from "node:os";
import process from "node:process";

/** The value of an environment variable, or `undefined` if unset or unreadable. */
export function readEnv(name: string): string | undefined {
  try {
    return process.env[name];
  } catch {
    return undefined;
  }
}

/** The user's home directory from the operating system, or `undefined` if unreadable. */
export function readHomeDir(): string | undefined {
  try {
    return homedir() || undefined;
  } catch {
    return undefined;
  }
}
