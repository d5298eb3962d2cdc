/**
 * Record ids: what a valid id is, and how an id becomes a file name.
 *
 * @module
 */

import { sha256Hex } from "./_sha256.ts";
import { ValidationError } from "./errors.ts";

/** The longest id, in UTF-16 code units. */
export const MAX_ID_LENGTH = 256;

/** What a valid id is, for error messages. */
export const VALID_ID =
  `a non-empty, well-formed string of at most ${MAX_ID_LENGTH} UTF-16 code units`;

/**
 * What is wrong with `id` as a record id.
 *
 * @param id The value passed or stored as an id.
 * @returns Why it is not {@linkcode VALID_ID}, e.g. `is empty`; `undefined` if it is valid.
 */
export function idProblem(id: unknown): string | undefined {
  return id === undefined
    ? "is missing"
    : typeof id !== "string"
    ? `is ${typeof id === "object" ? (id === null ? "null" : "an object") : `a ${typeof id}`}`
    : id.length === 0
    ? "is empty"
    : id.length > MAX_ID_LENGTH
    ? `is ${id.length} UTF-16 code units long`
    : !id.isWellFormed()
    ? "contains a lone surrogate"
    : undefined;
}

/**
 * Checks that `id` is a valid record id.
 *
 * @param id The value passed as an id.
 * @param context Names the operation for the error message, e.g. `Cannot save program`.
 * @param field The name of the field or argument holding the id.
 * @throws {ValidationError} When `id` is not a non-empty, well-formed string of at most
 * 256 UTF-16 code units.
 */
export function assertId(id: unknown, context: string, field = "id"): asserts id is string {
  const problem = idProblem(id);
  if (problem !== undefined) {
    throw new ValidationError(`${context}: ${field} ${problem}; pass ${VALID_ID}`);
  }
}

/**
 * Checks the argument of `setCurrentExecutionId`.
 *
 * @param id What the caller passed.
 * @returns The id, or `null`.
 * @throws {ValidationError} When it is neither a valid id nor `null`.
 */
export function checkCurrentId(id: unknown): string | null {
  if (id === null) return null;
  const problem = idProblem(id);
  if (problem !== undefined) {
    throw new ValidationError(
      `Cannot set the current execution: the id ${problem}; pass ${VALID_ID}, or null to ` +
        "clear it",
    );
  }
  return id as string;
}

/** Windows device names, reserved with or without an extension. */
const DEVICE = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\.|$)/;
/** Plain ids are stored verbatim. */
const PLAIN = /^[a-z0-9_-](?:[a-z0-9_.-]*[a-z0-9_-])?$/;
/** Longest file name, in bytes, most file systems accept. */
const MAX_NAME_BYTES = 255;
/** Room left for the longest suffix a name gets (`.json`). */
const MAX_STEM = MAX_NAME_BYTES - ".json".length;
const utf8 = new TextEncoder();

/**
 * The file-name stem for an id, unique even on case-insensitive, normalizing file systems.
 *
 * Plain ids (lowercase letters, digits, `-`, `_`, and `.` not first or last, not a
 * Windows device name) are used verbatim. Every other id becomes `~` followed by the id
 * with each uppercase letter written as `^` and its lowercase form, and every other
 * character outside `[a-z0-9_.-]` (and a `.` at either end) written as `%` and its UTF-8
 * bytes in lowercase hex: `My File` becomes `~^my%20^file`. The result is ASCII, all
 * lowercase, and never a device name or ends in a dot or space, so distinct ids never
 * share a name. A stem longer than 250 bytes is cut to a readable prefix, and `~` and the
 * SHA-256 of the id are appended: only those stems hold a `~` past their first character.
 *
 * @param id A valid id (see {@linkcode assertId}).
 * @returns The stem, at most 250 bytes, so that `stem + ".json"` is a valid file name.
 */
export function idToFileStem(id: string): string {
  const stem = PLAIN.test(id) && !DEVICE.test(id) ? id : `~${escapeId(id)}`;
  if (stem.length <= MAX_STEM) return stem;
  const digest = sha256Hex(id);
  let prefix = stem.slice(0, MAX_STEM - digest.length - 1);
  // Do not leave half of a %xx escape.
  const cut = prefix.lastIndexOf("%");
  if (cut >= prefix.length - 2) prefix = prefix.slice(0, cut);
  return `${prefix}~${digest}`;
}

function escapeId(id: string): string {
  let out = "";
  const last = id.length - 1;
  for (let i = 0; i < id.length; i++) {
    const c = id[i];
    if ((c >= "a" && c <= "z") || (c >= "0" && c <= "9") || c === "_" || c === "-") {
      out += c;
    } else if (c === "." && i !== 0 && i !== last) {
      out += c;
    } else if (c >= "A" && c <= "Z") {
      out += `^${c.toLowerCase()}`;
    } else {
      const codePoint = id.codePointAt(i)!;
      const char = String.fromCodePoint(codePoint);
      if (char.length === 2) i++;
      for (const byte of utf8.encode(char)) {
        out += `%${byte.toString(16).padStart(2, "0")}`;
      }
    }
  }
  return out;
}
