// Turning a file-system error into a StorageError that names its real cause and says what
// to do about it, and whether the write may have been stored all the same.

import { StorageError } from "../errors.ts";
import { isMaybeStored } from "./_atomic.ts";
import { errorCode } from "./_fs.ts";

/** What each error code means for the user, and what to do. */
const ADVICE: Record<string, string> = {
  ENOSPC: "the disk is full: free some space",
  EDQUOT: "the disk quota is used up: free some space or raise the quota",
  EIO: "the storage device reported an I/O error: check the disk and the system log",
  EROFS: "the file system is read-only: remount it read-write or choose another data directory",
  EACCES: "permission was denied: make sure the data directory and everything in it belong " +
    "to this user and are writable by it (chown -R, chmod -R u+rwX)",
  EPERM: "the operation was not permitted: make sure the data directory and everything in " +
    "it belong to this user and are writable by it (chown -R, chmod -R u+rwX)",
  EMFILE: "this process has too many open files: raise its limit (ulimit -n) or make fewer " +
    "calls at once",
  ENFILE: "the system has too many open files: close some, or raise the system-wide limit",
  ENOENT: "a directory is missing: check that the data directory still exists (connect() " +
    "creates it again)",
  ENOTDIR: "a file is where a directory belongs: move it away",
  ENAMETOOLONG: "the path is too long for this file system: choose a data directory with a " +
    "shorter path",
  ELOOP: "too many symbolic links: replace the links in the data directory's path with " +
    "directories",
  EBUSY: "the file system stayed busy",
  EAGAIN: "the file system stayed busy",
};

/** The error's code and message: `"ENOSPC: no space left on device"`. */
export function describeIoError(error: unknown): string {
  const code = errorCode(error);
  const message = error instanceof Error ? error.message : String(error);
  return code === undefined || message.includes(code) ? message : `${code}: ${message}`;
}

/** What to do about `error`, for the end of a message. */
export function ioAdvice(error: unknown): string {
  const code = errorCode(error);
  return `${(code && ADVICE[code]) || "check the file system"}, then try again`;
}

/** Options for {@linkcode ioError}. */
export interface IoErrorOptions {
  /**
   * For a write that may have been stored: whether to call it again. Default: the same
   * call again is safe.
   */
  retry?: string;
}

/**
 * The StorageError (code `"IO"`) for `error`, which happened while doing `action` at
 * `path`. A write that failed after its new file was in place gets `maybeStored: true`.
 */
export function ioError(
  action: string,
  path: string,
  error: unknown,
  options: IoErrorOptions = {},
): StorageError {
  if (isMaybeStored(error)) {
    return new StorageError(
      `${action}: ${describeIoError(error)} at "${path}" after the new file was in place, so ` +
        "it may be stored, though perhaps not durably; " +
        (options.retry ?? "making the same call again is safe") + ` (${ioAdvice(error)})`,
      { code: "IO", cause: error, maybeStored: true },
    );
  }
  return new StorageError(
    `${action}: ${describeIoError(error)} at "${path}"; ${ioAdvice(error)}`,
    { code: "IO", cause: error },
  );
}
