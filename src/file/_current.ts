// The current-execution pointer: `metadata.json` in the data directory, as the original CVM
// file adapter kept it: `{ "currentExecutionId": "<id>" }`, or `null` when cleared. A file
// without the field (the original wrote `{}` when nothing was set) means none is set.

import { join } from "../_path.ts";
import { idProblem, VALID_ID } from "../ids.ts";
import { writeAtomic } from "./_atomic.ts";
import { corrupt, readFileText } from "./_record_file.ts";

/** The file holding the pointer, in the data directory. */
const METADATA_FILE = "metadata.json";

/** The path of `metadata.json`. */
export function metadataPath(dataDir: string): string {
  return join(dataDir, METADATA_FILE);
}

/**
 * Reads the pointer; `null` when `metadata.json` does not exist or holds none.
 *
 * @throws {CorruptRecordError} When `metadata.json` does not hold a pointer.
 */
export async function readCurrentId(dataDir: string): Promise<string | null> {
  const path = metadataPath(dataDir);
  const text = await readFileText(path, "the current execution");
  return text === null ? null : parseMetadata(text, path);
}

/** Replaces `metadata.json` atomically. */
export async function writeCurrentId(
  dataDir: string,
  id: string | null,
  fsync: boolean,
): Promise<void> {
  const text = `${JSON.stringify({ currentExecutionId: id }, null, 2)}\n`;
  await writeAtomic(dataDir, METADATA_FILE, text, { placement: "replace", fsync });
}

/**
 * The pointer `metadata.json` holds.
 *
 * @throws {CorruptRecordError} When the file does not hold a pointer.
 */
function parseMetadata(text: string, path: string): string | null {
  const context = "Cannot read the current execution";
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // Not the parser's message: it quotes the text.
    throw corrupt(context, path, "is not valid JSON", "restore it from a backup or");
  }
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    throw corrupt(context, path, "does not hold a JSON object", "restore it from a backup or");
  }
  const id = (json as { currentExecutionId?: unknown }).currentExecutionId;
  if (id === undefined || id === null) return null;
  const problem = idProblem(id);
  if (problem !== undefined) {
    throw corrupt(
      context,
      path,
      `holds a "currentExecutionId" that ${problem}, where ${VALID_ID} or null belongs`,
      "set it again with setCurrentExecutionId, or",
    );
  }
  return id as string;
}
