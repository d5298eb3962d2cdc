// Loading a backend's modules when it connects, not when the library is imported.

import { ConnectionError } from "./errors.ts";

/**
 * A loader that imports a backend's modules on its first call and keeps them; a failed
 * import is tried again by the next call.
 *
 * @param load The dynamic import of the modules, written in the module beside them.
 * @param backend Names the backend in the error: `"file"`.
 * @throws {ConnectionError} When the modules cannot be loaded.
 */
export function lazyModules<T>(load: () => Promise<T>, backend: string): () => Promise<T> {
  let loading: Promise<T> | undefined;
  return () =>
    loading ??= load().catch((error) => {
      loading = undefined;
      throw new ConnectionError(
        `Cannot load the ${backend} backend's modules: ${error}; reinstall @cvm/storage`,
        { cause: error },
      );
    });
}
