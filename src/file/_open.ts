// What `FileStorageAdapter.connect()` does to the data directory: create it and its record
// directories (durably), check that they are this user's own directories and nobody else's
// to write in, and remove the temp files of writers proven gone.

import { dirname, join } from "../_path.ts";
import { ConnectionError, StorageError } from "../errors.ts";
import { isTempName, makeDir, removeStaleTemps, syncDir } from "./_atomic.ts";
import { checkDataDir, checkRecordDir } from "./_data_dir.ts";
import { fs, loadProcessFacts } from "./_fs.ts";
import { historyIndexName, isIndexed } from "./_history_index.ts";
import { describeIoError, ioAdvice } from "./_io_error.ts";
import { OUTPUT_DIR } from "./_output.ts";

/** The record directories `connect` creates. */
export const DIRS = { program: "programs", execution: "executions", history: "history" } as const;
/**
 * The directories `connect` checks (no symbolic link, owned by this user, not writable by
 * others): those of `DIRS`, which it creates, and `outputs/`, once it exists.
 */
const RECORD_DIRS: readonly string[] = [...Object.values(DIRS), OUTPUT_DIR];

/**
 * Opens the data directory for a connection.
 *
 * @returns The directories whose entry in their parent is now known to be durable.
 * @throws {ConnectionError} When it cannot be created or fails a check; the message says
 * how to fix it.
 */
export async function openDataDir(dataDir: string, fsync: boolean): Promise<string[]> {
  try {
    await loadProcessFacts();
    const first = await fs.mkdir(dataDir, { recursive: true, mode: 0o700 });
    if (first !== undefined && fsync) {
      // Make each directory mkdir created durable, from the data directory up.
      for (let made = dataDir;; made = dirname(made)) {
        await syncDir(dirname(made));
        if (made === first || dirname(made) === made) break;
      }
    }
    const owner = await checkDataDir(dataDir);
    for (const dir of RECORD_DIRS) {
      const path = join(dataDir, dir);
      if (await checkRecordDir(dataDir, path, owner) === "ok") continue;
      // outputs/ is made by the first output written; the others now.
      if (dir === OUTPUT_DIR) continue;
      await makeDir(path);
      await checkRecordDir(dataDir, path, owner);
    }
    if (fsync) await syncDir(dataDir);
    await removeDeadTemps(dataDir);
  } catch (error) {
    if (error instanceof StorageError) throw error;
    throw new ConnectionError(
      `Cannot open data directory "${dataDir}": ${describeIoError(error)}; ` +
        `${ioAdvice(error)}, or choose another data directory with dataDir or CVM_DATA_DIR`,
      { cause: error },
    );
  }
  return Object.values(DIRS).map((dir) => join(dataDir, dir));
}

/**
 * Removes the temp files of writers proven gone (see ./_temp_files.ts) from the data
 * directory, its record directories and the directories of each execution, but for those
 * whose history index shows there is none. It follows no symbolic link: a link where an
 * execution's directory belongs is skipped.
 */
async function removeDeadTemps(dataDir: string): Promise<void> {
  await removeStaleTemps(dataDir);
  for (const dir of RECORD_DIRS) {
    const path = join(dataDir, dir);
    const entries = await removeStaleTemps(path);
    if (entries === undefined || (dir !== DIRS.history && dir !== OUTPUT_DIR)) continue;
    const names = dir === DIRS.history ? new Set(entries.map((entry) => entry.name)) : undefined;
    for (const { name, kind } of entries) {
      if (kind !== "directory" || isTempName(name)) continue;
      // A history with a valid index has no temp file: no need to list it.
      if (names?.has(historyIndexName(name)) && await isIndexed(join(path, name))) continue;
      await removeStaleTemps(join(path, name));
    }
  }
}
