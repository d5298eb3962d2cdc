// What `connect` checks before it trusts a data directory: that this user owns it and no one
// else may write in it, and that its record directories are directories of its own, not
// symbolic links to somewhere else.
//
// The user is the owner of a file this process creates in the data directory: that needs
// no permission beyond the write access the backend needs anyway (`Deno.uid()` would need
// `--allow-sys`), and it is the user whose files the backend writes. The checks are straight
// `stat` checks, so they hold for root too: root is refused a directory that another user
// owns. Windows has neither owners nor mode bits here; nothing is checked there.

import { join } from "../_path.ts";
import { ConnectionError } from "../errors.ts";
import { errorCode, fs, loadProcessFacts, type PathInfo } from "./_fs.ts";
import { tempName } from "./_temp_files.ts";

const FIX = "or choose another data directory with dataDir or CVM_DATA_DIR";

/** The user id of a new file in `dir`; `undefined` on a read-only file system. */
async function newFileOwner(dir: string): Promise<Owner> {
  const path = join(dir, tempName("tmp"));
  let file;
  try {
    file = await fs.createFile(path, 0o600);
  } catch (error) {
    if (errorCode(error) === "EROFS") return undefined;
    throw error;
  }
  try {
    return (await fs.lstatInfo(path)).uid;
  } finally {
    await fs.unlink(path).catch(() => {});
    await file.close().catch(() => {});
  }
}

/** Who owns a data directory: this process's user; `undefined` where it cannot be told. */
export type Owner = number | null | undefined;

/**
 * Refuses (with `ConnectionError`) a data directory that is not a directory, that another
 * user owns, or that its group or others may write. Returns this process's user, for
 * {@linkcode checkRecordDir}.
 */
export async function checkDataDir(dataDir: string): Promise<Owner> {
  const { windows } = await loadProcessFacts();
  const info = await fs.statInfo(dataDir);
  if (info.kind !== "directory") {
    throw new ConnectionError(
      `Cannot open data directory "${dataDir}": it is not a directory; move it away, ${FIX}`,
    );
  }
  if (windows) return undefined;
  const owner = await newFileOwner(dataDir);
  checkOwnerAndMode(dataDir, dataDir, info, owner);
  return owner;
}

/**
 * Checks the record directory `path` (`programs/`, …) of `dataDir`: `"missing"` if there
 * is none; a `ConnectionError` if it is a symbolic link, not a directory, owned by another
 * user than `dataDir`, or writable by group or others.
 */
export async function checkRecordDir(
  dataDir: string,
  path: string,
  owner: Owner,
): Promise<"missing" | "ok"> {
  let info: PathInfo;
  try {
    info = await fs.lstatInfo(path);
  } catch (error) {
    if (errorCode(error) === "ENOENT") return "missing";
    throw error;
  }
  if (info.kind === "symlink") {
    throw new ConnectionError(
      `Cannot open data directory "${dataDir}": "${path}" is a symbolic link, and the file ` +
        "backend never follows a link out of its data directory; replace the link with the " +
        `directory it points to (move that directory to "${path}"), ${FIX}`,
    );
  }
  if (info.kind !== "directory") {
    throw new ConnectionError(
      `Cannot open data directory "${dataDir}": "${path}" is a file, not a directory; move ` +
        `it away, ${FIX}`,
    );
  }
  checkOwnerAndMode(dataDir, path, info, owner);
  return "ok";
}

function checkOwnerAndMode(
  dataDir: string,
  path: string,
  info: PathInfo,
  owner: Owner,
): void {
  const what = path === dataDir ? "it" : `"${path}"`;
  if (owner !== undefined && owner !== null && info.uid !== null && info.uid !== owner) {
    throw new ConnectionError(
      `Cannot open data directory "${dataDir}": ${what} belongs to user ${info.uid}, not to ` +
        `this process's user ${owner}, so another user controls its records; give it to ` +
        `this user (chown -R ${owner} "${dataDir}"), ${FIX}`,
    );
  }
  if (info.mode !== null && (info.mode & 0o022) !== 0) {
    const mode = (info.mode & 0o777).toString(8).padStart(3, "0");
    throw new ConnectionError(
      `Cannot open data directory "${dataDir}": ${what} may be written by its group or by ` +
        `others (mode ${mode}), so another user could change its records; run ` +
        `chmod 700 "${path}", ${FIX}`,
    );
  }
}
