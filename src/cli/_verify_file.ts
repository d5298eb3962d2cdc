// `verify` for a file store: reads the data directory itself, file by file, so that one
// broken file does not hide the others, and without opening the store through the adapter
// (whose `connect` creates directories and removes temp files): checking changes nothing.
//
// Each record file must be a regular file of valid UTF-8 holding a valid record, in the
// file its id (and, for history, its key) names; so no history key appears twice. Output
// logs must read (torn records, which readers skip, are noted); every history directory
// and output log should belong to an execution. `--repair` moves what is unreadable or misplaced to `lost+found/`, with a
// note, and removes the temp files the backend's own rule proves stale.

import process from "node:process";
import { lstat, readFile } from "node:fs/promises";
import { join } from "node:path";
import { CorruptRecordError } from "../errors.ts";
import { removeStaleTemps } from "../file/_atomic.ts";
import { idProblem, idToFileStem } from "../ids.ts";
import { decodeRecord, type RecordKind, type RecordTypes } from "../records.ts";
import type { Finding, Findings } from "./_findings.ts";
import {
  historyFileName,
  historyIndexName,
  isHistoryIndexName,
  isTempName,
  listDir,
  LOST_FOUND,
  METADATA_FILE,
  moveToLostFound,
  OUTPUT_SUFFIX,
  OUTPUTS_DIR,
  outputStem,
  RECORD_DIRS,
  recordFileName,
  TOP_LEVEL,
} from "./_file_layout.ts";

/** No record file is this large; a larger file is not read. */
const MAX_FILE_BYTES = 256 * 1024 * 1024;
const utf8 = new TextDecoder("utf-8", { fatal: true });

/** How many records of each kind a file check read. */
export interface FileCounts {
  programs: number;
  executions: number;
  history: number;
  outputs: number;
}

/**
 * Checks a file store's data directory.
 *
 * @param dataDir The data directory (absolute).
 * @param findings Where to record what is found.
 * @param repair Move what is unreadable or misplaced to `lost+found/`; remove stale temp
 * files.
 * @returns How many records were read.
 */
export async function verifyFileStore(
  dataDir: string,
  findings: Findings,
  repair: boolean,
): Promise<FileCounts> {
  const counts: FileCounts = { programs: 0, executions: 0, history: 0, outputs: 0 };
  const check = new FileCheck(dataDir, findings, repair);
  let info;
  try {
    info = await lstat(dataDir);
  } catch (error) {
    findings.problem(".", `cannot be read (${(error as Error).message}); check the path`);
    return counts;
  }
  if (!info.isDirectory()) {
    findings.problem(".", "is not a directory; name a data directory");
    return counts;
  }
  if (process.platform !== "win32" && (info.mode & 0o022) !== 0) {
    findings.problem(
      ".",
      `is writable by its group or others (mode ${(info.mode & 0o777).toString(8)}), so ` +
        `the library refuses to open it; run chmod go-w "${dataDir}"`,
    );
  }
  const temps = new Set<string>();
  for (const { name } of await listDir(dataDir)) {
    if (isTempName(name)) temps.add(dataDir);
    else if (!TOP_LEVEL.includes(name)) {
      findings.note(name, "is not part of a data directory; left alone");
    }
  }

  const executionStems = new Set<string>();
  for (const kind of ["program", "execution"] as const) {
    const dir = RECORD_DIRS[kind];
    if (!await check.recordDir(dir)) continue;
    for (const { name } of await listDir(join(dataDir, dir))) {
      const rel = `${dir}/${name}`;
      if (isTempName(name)) {
        temps.add(join(dataDir, dir));
        continue;
      }
      const record = await check.record(kind, rel);
      if (record === undefined) continue;
      const expected = recordFileName(record.id);
      if (name !== expected) {
        await check.misplaced(
          rel,
          `holds ${kind} ${JSON.stringify(record.id)}, which belongs in ${dir}/${expected}`,
        );
        continue;
      }
      counts[dir]++;
      if (kind === "execution") executionStems.add(idToFileStem(record.id));
    }
  }

  if (await check.recordDir(RECORD_DIRS.history)) {
    const entries = await listDir(join(dataDir, RECORD_DIRS.history));
    // The index names the histories present would have: any other index is left over.
    const indexNames = new Set(
      entries.filter((e) => e.kind === "directory").map((e) => historyIndexName(e.name)),
    );
    for (const { name, kind } of entries) {
      const rel = `${RECORD_DIRS.history}/${name}`;
      if (isTempName(name)) {
        temps.add(join(dataDir, RECORD_DIRS.history));
        continue;
      }
      if (kind === "file" && isHistoryIndexName(name)) {
        if (!indexNames.has(name)) {
          findings.note(
            rel,
            "is the index of a history that does not exist (a cache); deleting it is safe",
          );
        }
        continue;
      }
      if (kind !== "directory") {
        await check.misplaced(
          rel,
          `is a ${describeKind(kind)}, not an execution's history directory`,
        );
        continue;
      }
      counts.history += await check.historyDir(name, temps, executionStems);
    }
  }

  if (await check.recordDir(OUTPUTS_DIR)) {
    for (const { name, kind } of await listDir(join(dataDir, OUTPUTS_DIR))) {
      const rel = `${OUTPUTS_DIR}/${name}`;
      if (isTempName(name)) {
        temps.add(join(dataDir, OUTPUTS_DIR));
        continue;
      }
      if (kind !== "file" || !name.endsWith(OUTPUT_SUFFIX)) {
        await check.misplaced(rel, `is not an output log (${OUTPUT_SUFFIX} file)`);
        continue;
      }
      if (!executionStems.has(outputStem(name, false))) {
        findings.note(
          rel,
          "is output of an execution that has no record (an orphan): export and migrate do not reach it",
        );
      }
      counts.outputs += await check.outputLog(rel);
    }
  }

  await check.metadata();
  const lostFound = await listDir(join(dataDir, LOST_FOUND));
  if (lostFound.length > 0) {
    findings.note(
      LOST_FOUND,
      `holds ${lostFound.length} entries moved aside earlier; look at their notes`,
    );
  }
  await check.temps(temps);
  return counts;
}

function describeKind(kind: string): string {
  return kind === "symlink" ? "symbolic link" : kind === "other" ? "special file" : kind;
}

/** The checks, sharing the data directory, the findings and the repair flag. */
class FileCheck {
  constructor(
    readonly dataDir: string,
    readonly findings: Findings,
    readonly repair: boolean,
  ) {}

  /** Whether a record directory can be read; a file or link in its place is a problem. */
  async recordDir(name: string): Promise<boolean> {
    let info;
    try {
      info = await lstat(join(this.dataDir, name));
    } catch {
      return false; // Missing: the backend creates it.
    }
    if (info.isDirectory()) return true;
    await this.misplaced(
      name,
      `is a ${info.isSymbolicLink() ? "symbolic link" : "file"}, not a directory, so the ` +
        "library refuses to open the store",
    );
    return false;
  }

  /** Reads a record file; a problem (and `undefined`) when it is not a valid record. */
  async record<K extends RecordKind>(kind: K, rel: string): Promise<RecordTypes[K] | undefined> {
    const text = await this.text(rel);
    if (text === undefined) return undefined;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      // Not the parser's message: it quotes the file.
      await this.misplaced(rel, "is not valid JSON", "unreadable");
      return undefined;
    }
    try {
      return decodeRecord(kind, json, `${kind} file`, rel);
    } catch (error) {
      if (!(error instanceof CorruptRecordError)) throw error;
      const reason = /does not hold a valid \w+ \((.*)\); restore/.exec(error.message)?.[1];
      await this.misplaced(
        rel,
        `does not hold a valid ${kind} (${reason ?? error.message})`,
        "unreadable",
      );
      return undefined;
    }
  }

  /** The text of a regular file of valid UTF-8; a problem (and `undefined`) otherwise. */
  async text(rel: string, maxBytes = MAX_FILE_BYTES): Promise<string | undefined> {
    const path = join(this.dataDir, rel);
    const info = await lstat(path);
    if (!info.isFile()) {
      const kind = info.isSymbolicLink() ? "symlink" : info.isDirectory() ? "directory" : "other";
      await this.misplaced(rel, `is a ${describeKind(kind)}, not a file`);
      return undefined;
    }
    if (info.size > maxBytes) {
      await this.misplaced(rel, `is ${info.size} bytes, larger than any record`, "unreadable");
      return undefined;
    }
    try {
      return utf8.decode(await readFile(path));
    } catch (error) {
      const why = error instanceof TypeError
        ? "is not valid UTF-8"
        : `cannot be read (${(error as Error).message})`;
      await this.misplaced(rel, why, "unreadable");
      return undefined;
    }
  }

  /** Checks one execution's history directory; returns the entries read. */
  async historyDir(stem: string, temps: Set<string>, executionStems: Set<string>): Promise<number> {
    const dirRel = `${RECORD_DIRS.history}/${stem}`;
    let count = 0;
    let executionId: string | undefined;
    for (const { name } of await listDir(join(this.dataDir, dirRel))) {
      const rel = `${dirRel}/${name}`;
      if (isTempName(name)) {
        temps.add(join(this.dataDir, dirRel));
        continue;
      }
      const entry = await this.record("history", rel);
      if (entry === undefined) continue;
      const time = entry.timestamp.getTime();
      const expected = `${idToFileStem(entry.executionId)}/${historyFileName(entry.step, time)}`;
      if (`${stem}/${name}` !== expected) {
        await this.misplaced(
          rel,
          `holds the history entry of execution ${JSON.stringify(entry.executionId)} at step ` +
            `${entry.step} (${entry.timestamp.toISOString()}), which belongs in ` +
            `${RECORD_DIRS.history}/${expected}`,
        );
        continue;
      }
      executionId = entry.executionId;
      count++;
    }
    if (!executionStems.has(stem) && count > 0) {
      this.findings.note(
        dirRel,
        `is the history of execution ${JSON.stringify(executionId)}, which has no record (an ` +
          "orphan): export and migrate do not reach it",
      );
    }
    return count;
  }

  /**
   * Checks an output log `outputs/{stem}.out`: one JSON array of strings per line (one
   * per append), empty lines between them. Returns the lines it holds. A line that does
   * not parse is a torn record (an append cut short by a crash), which readers skip.
   */
  async outputLog(rel: string): Promise<number> {
    const text = await this.text(rel, Infinity);
    if (text === undefined) return 0;
    let lines = 0;
    for (const [index, record] of text.split("\n").entries()) {
      if (record === "") continue;
      let json: unknown;
      try {
        json = JSON.parse(record);
      } catch {
        this.findings.note(
          rel,
          `line ${index + 1} is a torn record (an append cut short), which readers skip`,
        );
        continue;
      }
      if (Array.isArray(json) && json.every((line) => typeof line === "string")) {
        lines += json.length;
      } else {
        this.findings.note(
          rel,
          `line ${index + 1} is not an output record (a JSON array of strings); readers skip it`,
        );
      }
    }
    return lines;
  }

  /**
   * Checks `metadata.json`, the current-execution pointer: an object whose
   * `currentExecutionId` is an id, `null` or absent.
   */
  async metadata(): Promise<void> {
    try {
      await lstat(join(this.dataDir, METADATA_FILE));
    } catch {
      return;
    }
    const text = await this.text(METADATA_FILE);
    if (text === undefined) return;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      await this.misplaced(METADATA_FILE, "is not valid JSON", "unreadable");
      return;
    }
    const current = json !== null && typeof json === "object" && !Array.isArray(json)
      ? (json as { currentExecutionId?: unknown }).currentExecutionId
      : 0;
    if (current !== undefined && current !== null && idProblem(current) !== undefined) {
      await this.misplaced(
        METADATA_FILE,
        'does not hold {"currentExecutionId": <id or null>}',
        "unreadable",
      );
    }
  }

  /** Notes temp files; with `--repair`, removes those proven stale and notes the rest. */
  async temps(dirs: Set<string>): Promise<void> {
    for (const dir of [...dirs].sort()) {
      const before = (await listDir(dir)).filter((e) => isTempName(e.name)).map((e) => e.name);
      if (this.repair) await removeStaleTemps(dir);
      const after = new Set(
        this.repair
          ? (await listDir(dir)).filter((e) => isTempName(e.name)).map((e) => e.name)
          : before,
      );
      const relDir = dir === this.dataDir ? "" : `${dir.slice(this.dataDir.length + 1)}/`;
      for (const name of before) {
        if (!after.has(name)) {
          this.findings.note(`${relDir}${name}`, "was a temp file of a writer that is gone")
            .repaired = "removed";
        } else {
          this.findings.note(
            `${relDir}${name}`,
            this.repair
              ? "is a temp file whose writer may still be running; kept"
              : "is a temp file: of a write in progress, or left by one that was interrupted " +
                "(--repair removes it once its writer is proven gone)",
          );
        }
      }
    }
  }

  /**
   * Records a file that is unreadable or not where it belongs; with `--repair`, moves it
   * to `lost+found/`.
   */
  async misplaced(rel: string, message: string, what = "misplaced"): Promise<Finding> {
    const finding = this.findings.problem(rel, message);
    if (this.repair) {
      const moved = await moveToLostFound(
        this.dataDir,
        join(this.dataDir, rel),
        `${what}: ${rel} ${message}`,
      );
      finding.repaired = `moved to ${moved}`;
    }
    return finding;
  }
}
