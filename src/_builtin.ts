// Node built-in modules loaded when first used rather than when the library is imported:
// under Deno, importing `node:process`, `node:os` or `node:crypto` costs 10–35 ms at start-up
// each, which every user of the library would pay for a default data directory or a long id.
// `process.getBuiltinModule` loads one synchronously; Node (>= 20.16), Bun and Deno have it.

interface BuiltinLoader {
  getBuiltinModule?(id: string): unknown;
}

/** The `process` global of Node, Bun and Deno, or `undefined`; reading it is not free. */
export function processGlobal<T extends object>(): (T & BuiltinLoader) | undefined {
  return (globalThis as unknown as { process?: T & BuiltinLoader }).process;
}

/** The Node built-in module `id` (`"node:os"`), loaded now if it was not yet. */
export function builtin<T>(id: string): T {
  const module = processGlobal()?.getBuiltinModule?.(id);
  if (module === undefined) {
    throw new Error(`This runtime cannot load "${id}" (it has no process.getBuiltinModule)`);
  }
  return module as T;
}
