// The records the crash and concurrency tests write. Every record is a pure function of a
// few numbers stored inside it, so whoever reads one back (the parent test, or a reader
// process) can rebuild what it must be and tell a torn or mixed record from a whole one.

import type { Execution, History, Program } from "../../mod.ts";
import { prng } from "../_utils.ts";

const BASE = Date.UTC(2026, 0, 2, 3, 4, 5, 678);

const ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-_ ~é€😀";

const CHARS = [...ALPHABET];

function word(random: () => number, length: number): string {
  const chars = CHARS;
  let out = "";
  for (let i = 0; i < length; i++) out += chars[Math.floor(random() * chars.length)];
  return out;
}

// --- Crash test: one writer, a growing log ------------------------------------------------

/** The execution the crash writer saves again and again. */
export const CRASH_EXECUTION_ID = "crash-e1";
/** The program the crash writer saves again and again. */
export const CRASH_PROGRAM_ID = "crash-p1";

/**
 * Version `version` of the crash test's execution: about 200 KiB once stored, mostly long
 * strings, so that a save spends its time writing the file rather than encoding it.
 */
export function crashExecution(version: number): Execution {
  const random = prng(version + 1);
  const text = word(random, 2048);
  const stack = [];
  for (let i = 0; i < 96; i++) {
    // Rotations of one string, cut where no surrogate pair is split.
    let cut = (i * 97) % text.length;
    if (/[\udc00-\udfff]/.test(text[cut])) cut++;
    stack.push({ i, version, text: text.slice(cut) + text.slice(0, cut) });
  }
  return {
    id: CRASH_EXECUTION_ID,
    programId: CRASH_PROGRAM_ID,
    state: "running",
    pc: version,
    stack,
    variables: {
      version,
      blob: word(random, 4096),
      nested: { at: new Date(BASE + version), list: [version, `v${version}`, null, true] },
    },
    output: [`version ${version}`],
    created: new Date(BASE),
    updated: new Date(BASE + version * 1000),
  };
}

/** Version `version` of the crash test's program. */
export function crashProgram(version: number): Program {
  const random = prng(-(version + 1));
  return {
    id: CRASH_PROGRAM_ID,
    name: `crash program v${version}`,
    source: word(random, 2048),
    bytecode: [{ op: "VERSION", arg: version }, { op: "HALT" }],
    created: new Date(BASE),
    updated: new Date(BASE + version * 1000),
  };
}

/** The crash test's history entry for `step`, saved at `timestamp`. */
export function crashHistory(step: number, timestamp: Date): History {
  const random = prng(1_000_000 + step);
  return {
    executionId: CRASH_EXECUTION_ID,
    step,
    pc: step % 97,
    instruction: `STEP ${step}`,
    stack: [step, `s${step}`],
    variables: { step, pad: word(random, 512) },
    timestamp,
  };
}

/** The version number stored inside a crash-test record, or `NaN`. */
export function versionOf(record: Execution | Program): number {
  const value = "variables" in record
    ? (record.variables as { version?: unknown }).version
    : (record.bytecode as { arg?: unknown }[] | undefined)?.[0]?.arg;
  return typeof value === "number" ? value : Number.NaN;
}

// --- Concurrency test: many writers, one set of ids ---------------------------------------

/** The execution every concurrent writer saves. */
export const SHARED_EXECUTION_ID = "shared-e1";
/** The program every concurrent writer saves. */
export const SHARED_PROGRAM_ID = "shared-p1";
/** The timestamp every writer uses for a contested history key. */
export const CONTESTED_TIME = new Date(BASE + 1_000_000);

/** Writer `writer`'s version `seq` of the shared execution (about 40 KiB stored). */
export function writerExecution(writer: number, seq: number): Execution {
  const random = prng(writer * 100_003 + seq);
  const stack = [];
  for (let i = 0; i < 400; i++) stack.push({ writer, seq, word: word(random, 40) });
  return {
    id: SHARED_EXECUTION_ID,
    programId: SHARED_PROGRAM_ID,
    state: "running",
    pc: seq,
    stack,
    variables: { writer, seq, blob: word(random, 2048) },
    output: [`writer ${writer} seq ${seq}`],
    created: new Date(BASE),
    updated: new Date(BASE + seq),
  };
}

/** Writer `writer`'s version `seq` of the shared program. */
export function writerProgram(writer: number, seq: number): Program {
  const random = prng(-(writer * 100_003 + seq + 1));
  return {
    id: SHARED_PROGRAM_ID,
    name: `writer ${writer} seq ${seq}`,
    source: word(random, 4096),
    bytecode: [{ writer, seq }],
    created: new Date(BASE),
  };
}

/** Writer `writer`'s own history entry for `step`: a key no other writer uses. */
export function writerHistory(writer: number, step: number): History {
  return writerEntry(2_000_000, "OWN", writer, step, new Date(BASE + writer));
}

/** Writer `writer`'s entry for the contested key `(step, CONTESTED_TIME)`. */
export function contestedHistory(writer: number, step: number): History {
  return writerEntry(3_000_000, "CONTEST", writer, step, CONTESTED_TIME);
}

/** An entry that names its writer and step, padded from a seed only it uses. */
function writerEntry(
  seedBase: number,
  label: string,
  writer: number,
  step: number,
  timestamp: Date,
): History {
  const random = prng(seedBase + writer * 100_003 + step);
  return {
    executionId: SHARED_EXECUTION_ID,
    step,
    pc: step,
    instruction: `${label} ${writer}`,
    stack: [writer, step],
    variables: { writer, step, pad: word(random, 1024) },
    timestamp,
  };
}

/** `"writer/seq"` of a concurrent writer's record, or `undefined` if it has none. */
function writerSeq(values: unknown): { writer: number; seq: number } | undefined {
  const { writer, seq } = (values ?? {}) as { writer?: unknown; seq?: unknown };
  return Number.isSafeInteger(writer) && Number.isSafeInteger(seq)
    ? { writer: writer as number, seq: seq as number }
    : undefined;
}

/**
 * Checks that `record` is exactly one of the versions the concurrent writers write.
 *
 * @returns A description of what is wrong, or `undefined` if it is whole.
 */
export function checkWriterRecord(
  kind: "execution" | "program",
  record: Execution | Program,
): string | undefined {
  const key = kind === "execution"
    ? writerSeq((record as Execution).variables)
    : writerSeq((record as { bytecode: unknown[] }).bytecode?.[0]);
  if (key === undefined) return `${kind} has no writer/seq: ${preview(record)}`;
  const expected = kind === "execution"
    ? writerExecution(key.writer, key.seq)
    : writerProgram(key.writer, key.seq);
  return sameJson(record, expected)
    ? undefined
    : `${kind} claims writer ${key.writer} seq ${key.seq} but differs from it: ${preview(record)}`;
}

/**
 * Checks that `entry` is exactly one of the history entries the concurrent writers write.
 *
 * @returns A description of what is wrong, or `undefined` if it is whole.
 */
export function checkWriterHistory(entry: History): string | undefined {
  const { writer } = (entry.variables ?? {}) as { writer?: unknown };
  if (typeof writer !== "number") return `history entry has no writer: ${preview(entry)}`;
  const contested = entry.timestamp.getTime() === CONTESTED_TIME.getTime();
  const expected = contested
    ? contestedHistory(writer, entry.step)
    : writerHistory(writer, entry.step);
  return sameJson(entry, expected)
    ? undefined
    : `history entry of writer ${writer} at step ${entry.step} is not what it wrote: ${
      preview(entry)
    }`;
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function preview(value: unknown): string {
  const text = JSON.stringify(value);
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
