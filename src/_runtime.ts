// The one module that knows which runtime it is on (as std's fs/_utils.ts does). Under Deno
// it reaches for Deno's own APIs, which are faster and, unlike the `node:` compatibility
// layer, cost nothing to load at import time; elsewhere it uses Node's globals, which Node
// and Bun provide natively. Nothing here runs at import time.

/** The parts of the `Deno` namespace the library uses. */
export interface DenoApi {
  env: { get(name: string): string | undefined };
  readTextFile(path: string): Promise<string>;
  readDir(path: string): AsyncIterable<{ name: string }>;
  execPath(): string;
  pid: number;
}

/** `Deno` when running under Deno, else `undefined`. */
export const deno: DenoApi | undefined = (globalThis as { Deno?: DenoApi }).Deno;

interface NodeProcess {
  env: Record<string, string | undefined>;
}

/**
 * The value of an environment variable, or `undefined` if it is unset or cannot be read
 * (under Deno without `--allow-env`).
 */
export function readEnv(name: string): string | undefined {
  try {
    if (deno) return deno.env.get(name);
    return (globalThis as { process?: NodeProcess }).process?.env[name];
  } catch {
    return undefined;
  }
}
