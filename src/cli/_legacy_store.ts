// A read-only adapter over a data directory written by the original CVM's file adapter:
// `programs/{id}.json` and `executions/{id}.json` (`JSON.stringify(record, null, 2)`,
// files named by the raw id, so an id with a `/` is a nested path), `outputs/{id}.output`
// (lines joined with "\n" after each append) and `metadata.json`
// (`{ "currentExecutionId": id | null }`). It had no history.
//
// It presents the records exactly as the original's reader returned them (`created` and
// `updated` revived as Dates, every other value as JSON gave it; output lines split on
// "\n" with empty lines dropped), as far as this library can store them: each record is
// checked as a save would check it, and one that fails is left out and reported, as is
// whatever else the conversion had to change or could not carry over.

import { join, relative, resolve, sep } from "node:path";
import * as nodeFs from "node:fs/promises";
import type { JsonObject } from "../codec.ts";
import { ConnectionError, NotConnectedError, StorageError, ValidationError } from "../errors.ts";
import { assertId, idProblem } from "../ids.ts";
import {
  checkHistoryQuery,
  checkListQuery,
  checkOutputQuery,
  compareCodePoints,
  selectPage,
} from "../query.ts";
import { checkRecord, decodeRecord, type RecordTypes } from "../records.ts";
import type {
  Execution,
  ExecutionQuery,
  History,
  HistoryQuery,
  ListQuery,
  OutputQuery,
  Program,
  StorageAdapter,
} from "../types.ts";

/** Something the conversion could not carry over, or had to change. */
export interface LegacyProblem {
  /** The file, relative to the data directory. */
  path: string;
  /** What happened to it. */
  problem: string;
  /** `true` when the record or lines were left out; `false` for a change that kept them. */
  skipped: boolean;
}

type Kind = "program" | "execution";
const DIRS = { program: "programs", execution: "executions" } as const;

interface Indexed {
  json: JsonObject;
  path: string;
  programId?: string;
  state?: string;
}

/** Reads an original CVM data directory through the {@linkcode StorageAdapter} interface. */
export class LegacyStore implements StorageAdapter {
  /** The absolute path of the data directory. */
  readonly dataDir: string;
  /** What the conversion left out or changed, in the order it was found. */
  readonly problems: LegacyProblem[] = [];
  #connected = false;
  #records: Record<Kind, Map<string, Indexed>> = { program: new Map(), execution: new Map() };
  #sorted: Record<Kind, string[]> = { program: [], execution: [] };
  #current: string | null = null;
  /** Output files already read, so each problem is reported once. */
  #outputsRead = new Set<string>();

  /** @param dataDir The original CVM's data directory. */
  constructor(dataDir: string) {
    this.dataDir = resolve(dataDir);
  }

  /**
   * Reads and converts every program and execution file, and `metadata.json`.
   *
   * @throws {ConnectionError} When the data directory is missing or unreadable.
   */
  async connect(): Promise<void> {
    if (this.#connected) return;
    try {
      const stat = await nodeFs.stat(this.dataDir);
      if (!stat.isDirectory()) throw new Error("it is not a directory");
    } catch (error) {
      throw new ConnectionError(
        `Cannot open the original CVM data directory "${this.dataDir}": ` +
          `${(error as Error).message}; check the path`,
        { cause: error },
      );
    }
    this.problems.length = 0;
    this.#outputsRead.clear();
    for (const kind of ["program", "execution"] as const) await this.#index(kind);
    this.#current = await this.#readMetadata();
    await this.#findOrphanOutputs();
    this.#connected = true;
  }

  /** Marks the store disconnected. */
  disconnect(): Promise<void> {
    this.#connected = false;
    return Promise.resolve();
  }

  /** Disconnects; for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.disconnect();
  }

  /** Whether `connect()` has completed and `disconnect()` not been called since. */
  isConnected(): boolean {
    return this.#connected;
  }

  /** The program with this id, as converted. */
  getProgram(id: string): Promise<Program | null> {
    return this.#run("get program", () => this.#get("program", id));
  }

  /** The execution with this id, as converted. */
  getExecution(id: string): Promise<Execution | null> {
    return this.#run("get execution", () => this.#get("execution", id));
  }

  /** The original CVM kept no history: always `[]`. */
  getHistory(executionId: string, query?: HistoryQuery): Promise<History[]> {
    return this.#run("get history", () => {
      assertId(executionId, "Cannot get history", "executionId");
      checkHistoryQuery(query, `Cannot get history of execution "${executionId}"`);
      return [];
    });
  }

  /** Programs, ascending by id, paged by `query`. */
  listPrograms(query?: ListQuery): Promise<Program[]> {
    return this.#run("list programs", () => {
      const plan = checkListQuery(query, "Cannot list programs", false);
      return selectPage(this.#sorted.program, plan, (id) => id).map((id) =>
        this.#decode("program", id)
      );
    });
  }

  /** Executions, ascending by id, filtered and paged by `query`. */
  listExecutions(query?: ExecutionQuery): Promise<Execution[]> {
    return this.#run("list executions", () => {
      const plan = checkListQuery(query, "Cannot list executions", true);
      const { programId, state } = plan;
      const ids = this.#sorted.execution.filter((id) => {
        const record = this.#records.execution.get(id)!;
        return (programId === undefined || record.programId === programId) &&
          (state === undefined || record.state === state);
      });
      return selectPage(ids, plan, (id) => id).map((id) => this.#decode("execution", id));
    });
  }

  /**
   * The lines of `outputs/{executionId}.output`, split on "\n" with empty lines dropped,
   * as the original CVM read them.
   */
  async getOutput(executionId: string, query?: OutputQuery): Promise<string[]> {
    this.#assertConnected("get output");
    assertId(executionId, "Cannot get output", "executionId");
    const { from, limit } = checkOutputQuery(
      query,
      `Cannot get output of execution "${executionId}"`,
    );
    const lines = await this.#readOutput(executionId);
    return lines.slice(from, limit === undefined ? undefined : from + limit);
  }

  /** The current execution from `metadata.json`, as the original read it. */
  getCurrentExecutionId(): Promise<string | null> {
    return this.#run("get the current execution", () => this.#current);
  }

  /** Read-only: rejects. */
  saveProgram(_program: Program): Promise<void> {
    return this.#readOnly("save a program");
  }

  /** Read-only: rejects. */
  saveExecution(_execution: Execution): Promise<void> {
    return this.#readOnly("save an execution");
  }

  /** Read-only: rejects. */
  saveHistory(_history: History): Promise<void> {
    return this.#readOnly("save history");
  }

  /** Read-only: rejects. */
  deleteProgram(_id: string): Promise<boolean> {
    return this.#readOnly("delete a program");
  }

  /** Read-only: rejects. */
  deleteExecution(_id: string): Promise<boolean> {
    return this.#readOnly("delete an execution");
  }

  /** Read-only: rejects. */
  appendOutput(_executionId: string, _lines: string[]): Promise<void> {
    return this.#readOnly("append output");
  }

  /** Read-only: rejects. */
  setCurrentExecutionId(_id: string | null): Promise<void> {
    return this.#readOnly("set the current execution");
  }

  #readOnly(action: string): Promise<never> {
    return Promise.reject(
      new StorageError(
        `Cannot ${action}: "cvm-legacy:${this.dataDir}" is read-only; migrate it into a ` +
          `store of this library first (cvm-storage migrate --from cvm-legacy:DIR --to DIR2)`,
      ),
    );
  }

  async #index(kind: Kind): Promise<void> {
    const dir = join(this.dataDir, DIRS[kind]);
    const records = this.#records[kind];
    records.clear();
    for (const path of (await this.#walk(dir, ".json")).sort(compareCodePoints)) {
      const rel = relative(this.dataDir, path);
      const fileId = relative(dir, path).slice(0, -".json".length).split(sep).join("/");
      let raw: unknown;
      try {
        raw = JSON.parse(await nodeFs.readFile(path, "utf8"));
      } catch {
        // Not the parser's message: it quotes the file.
        this.#problem(rel, "is not valid JSON", true);
        continue;
      }
      if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
        this.#problem(rel, `does not hold a ${kind} object`, true);
        continue;
      }
      const record = raw as Record<string, unknown>;
      if (record.id === undefined) {
        record.id = fileId;
        this.#problem(rel, `has no "id": the file name's "${fileId}" was used`, false);
      } else if (record.id !== fileId && idProblem(record.id) === undefined) {
        this.#problem(rel, `holds ${kind} "${String(record.id)}", not "${fileId}"`, false);
      }
      // The original reader revived exactly these two fields.
      record.created = new Date(record.created as string);
      if (record.updated) record.updated = new Date(record.updated as string);
      let checked;
      try {
        checked = checkRecord(kind, record);
      } catch (error) {
        if (!(error instanceof ValidationError)) throw error;
        this.#problem(
          rel,
          `cannot be converted: ${error.message.replace(/^Cannot save [^:]*: /, "")}`,
          true,
        );
        continue;
      }
      const id = checked.id;
      const earlier = records.get(id);
      if (earlier !== undefined) {
        this.#problem(rel, `holds ${kind} "${id}" again (first in "${earlier.path}")`, true);
        continue;
      }
      records.set(id, {
        json: checked.json,
        path: rel,
        ...(kind === "execution"
          ? { programId: checked.json.programId as string, state: checked.json.state as string }
          : {}),
      });
    }
    this.#sorted[kind] = [...records.keys()].sort(compareCodePoints);
  }

  async #readMetadata(): Promise<string | null> {
    let text: string;
    try {
      text = await nodeFs.readFile(join(this.dataDir, "metadata.json"), "utf8");
    } catch (error) {
      if ((error as { code?: string }).code === "ENOENT") return null;
      throw error;
    }
    let current: unknown;
    try {
      current = (JSON.parse(text) as { currentExecutionId?: unknown } | null)?.currentExecutionId;
    } catch {
      this.#problem("metadata.json", "is not valid JSON", true);
      return null;
    }
    // The original read `currentExecutionId || null`.
    if (!current) return null;
    if (idProblem(current) !== undefined) {
      this.#problem("metadata.json", `"currentExecutionId" ${idProblem(current)}`, true);
      return null;
    }
    return current as string;
  }

  async #findOrphanOutputs(): Promise<void> {
    const dir = join(this.dataDir, "outputs");
    for (const path of (await this.#walk(dir, ".output")).sort(compareCodePoints)) {
      const id = relative(dir, path).slice(0, -".output".length).split(sep).join("/");
      if (!this.#records.execution.has(id)) {
        this.#problem(
          relative(this.dataDir, path),
          `is the output of "${id}", which has no execution file: not copied`,
          true,
        );
      }
    }
  }

  async #readOutput(executionId: string): Promise<string[]> {
    if (!this.#records.execution.has(executionId)) return [];
    const dir = join(this.dataDir, "outputs");
    const path = resolve(dir, `${executionId}.output`);
    if (!path.startsWith(dir + sep)) return [];
    let text: string;
    try {
      text = await nodeFs.readFile(path, "utf8");
    } catch (error) {
      if ((error as { code?: string }).code === "ENOENT") return [];
      throw new StorageError(
        `Cannot read the output of execution "${executionId}" at "${path}": ` +
          `${(error as Error).message}; check the file`,
        { code: "IO", cause: error },
      );
    }
    const all = text.split("\n");
    const lines = all.filter((line) => line.length > 0);
    // Every append ended in "\n", so the last piece is no line.
    const dropped = all.length - (all[all.length - 1] === "" ? 1 : 0) - lines.length;
    const rel = relative(this.dataDir, path);
    if (dropped > 0 && !this.#outputsRead.has(rel)) {
      this.#problem(
        rel,
        `has ${dropped} empty line${dropped === 1 ? "" : "s"}, dropped as the original CVM ` +
          "dropped them when reading",
        false,
      );
    }
    this.#outputsRead.add(rel);
    return lines;
  }

  /** Every regular file under `dir` whose name ends in `suffix`, recursively. */
  async #walk(dir: string, suffix: string): Promise<string[]> {
    const found: string[] = [];
    let entries;
    try {
      entries = await nodeFs.readdir(dir, { withFileTypes: true });
    } catch (error) {
      if ((error as { code?: string }).code === "ENOENT") return found;
      throw error;
    }
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        found.push(...await this.#walk(path, suffix));
      } else if (entry.isFile() && entry.name.endsWith(suffix)) {
        found.push(path);
      } else if (entry.name.endsWith(suffix)) {
        this.#problem(relative(this.dataDir, path), "is not a regular file: not read", true);
      }
    }
    return found;
  }

  #get<K extends Kind>(kind: K, id: string): RecordTypes[K] | null {
    assertId(id, `Cannot get ${kind}`);
    return this.#records[kind].has(id) ? this.#decode(kind, id) : null;
  }

  #decode<K extends Kind>(kind: K, id: string): RecordTypes[K] {
    const indexed = this.#records[kind].get(id)!;
    return decodeRecord(kind, structuredClone(indexed.json), `${kind} "${id}"`, indexed.path);
  }

  #problem(path: string, problem: string, skipped: boolean): void {
    this.problems.push({ path, problem, skipped });
  }

  #assertConnected(action: string): void {
    if (!this.#connected) {
      throw new NotConnectedError(
        `Cannot ${action}: the original CVM data directory "${this.dataDir}" is not open; ` +
          "call connect() first",
      );
    }
  }

  #run<T>(action: string, fn: () => T): Promise<T> {
    try {
      this.#assertConnected(action);
      return Promise.resolve(fn());
    } catch (error) {
      return Promise.reject(error);
    }
  }
}
