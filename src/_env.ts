// Reads the process environment without needing permissions: under Deno without
// --allow-env (or --allow-sys for the home directory), a value reads as unset. Nothing is
// loaded until a value is read (see `builtin` in ./_runtime.ts).

import { join } from "./_path.ts";
import type * as NodeOs from "node:os";
import { builtin } from "./_runtime.ts";
export { readEnv } from "./_runtime.ts";

/** The user's home directory from the operating system, or `undefined` if unreadable. */
export function readHomeDir(): string | undefined {
  try {
    return builtin<typeof NodeOs>("node:os").homedir() || undefined;
  } catch {
    return undefined;
  }
}

/** Whether `dir` starts at the home directory: `~`, `~/…` or `~\…`. */
export function isHomeRelative(dir: string): boolean {
  return dir === "~" || /^~[/\\]/.test(dir);
}

/**
 * The home directory: `HOME`, else `USERPROFILE` (both read through `env`), else (with
 * `system`) the operating system's answer; `undefined` if none is known.
 */
export function findHomeDir(
  env: (name: string) => string | undefined,
  system: boolean,
): string | undefined {
  return env("HOME") || env("USERPROFILE") || (system ? readHomeDir() : undefined);
}

/** `dir`, which starts with `~`, with the `~` replaced by `home`. */
export function underHome(home: string, dir: string): string {
  return join(home, dir.slice(1));
}
