/**
 * The records the durability kit writes. Every record is a pure function of a few numbers
 * stored inside it, so whoever reads one back (the parent test, a reader process) can
 * rebuild what it must be and tell a torn or mixed record from a whole one.
 *
 * @module
 */

import type { Execution, History, Program } from "../../types.ts";
import { diff, render } from "../_assert.ts";

const BASE = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
const CHARS = [..."abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-_ ~é€😀"];

/** A small seeded PRNG (mulberry32): the same seed gives the same sequence. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function word(random: () => number, length: number): string {
  let out = "";
  for (let i = 0; i < length; i++) out += CHARS[Math.floor(random() * CHARS.length)];
  return out;
}

function bytes(random: () => number, length: number): Uint8Array {
  return Uint8Array.from({ length }, () => Math.floor(random() * 256));
}

/** Whether `actual` is exactly `expected`; otherwise what differs, for a message. */
export function mismatch(actual: unknown, expected: unknown): string | undefined {
  const differences = diff(actual, expected);
  return differences.length === 0 ? undefined : differences.slice(0, 3).join("; ");
}

/** A short rendering of a value for a message. */
export function preview(value: unknown): string {
  return render(value, 200);
}

// --- Crash consistency: one writer, a growing log --------------------------------------

/** The execution the crash writer saves again and again. */
export const CRASH_EXECUTION_ID = "crash-e1";
/** The program the crash writer saves again and again. */
export const CRASH_PROGRAM_ID = "crash-p1";

/**
 * Version `version` of the crash writer's execution: about 200 KiB stored, mostly long
 * strings, so that a save spends its time writing rather than encoding; with `NaN`,
 * `-0`, bytes and half an emoji, so that every encoding is written under fire.
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
    state: version % 2 === 0 ? "RUNNING" : "AWAITING_COGNITIVE_RESULT",
    pc: version,
    stack,
    variables: {
      version,
      blob: word(random, 4096),
      nested: { at: new Date(BASE + version), list: [version, `v${version}`, null, true] },
      odd: { nan: NaN, negativeZero: -0, half: "\u{1f600}".substring(0, 1), "$x.y": 1 },
    },
    error: null,
    created: new Date(BASE),
    updated: new Date(BASE + version * 1000),
  };
}

/** Version `version` of the crash writer's program. */
export function crashProgram(version: number): Program {
  const random = prng(-(version + 1));
  return {
    id: CRASH_PROGRAM_ID,
    name: `crash program v${version}`,
    source: word(random, 2048),
    bytecode: bytes(random, 4096),
    version,
    created: new Date(BASE),
    updated: new Date(BASE + version * 1000),
  };
}

/** The crash writer's history entry for `step`, saved at `timestamp`. */
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

/** The lines of the crash writer's output batch `batch`: 1 to 5 of them. */
export function crashLines(batch: number): string[] {
  const random = prng(2_000_000 + batch);
  return Array.from(
    { length: 1 + (batch % 5) },
    (_, i) => `batch ${batch} line ${i} ${word(random, 200 + (batch % 7) * 100)}`,
  );
}

/** The version stored inside a crash record, or `NaN`. */
export function versionOf(record: Execution | Program): number {
  const value = "variables" in record
    ? (record.variables as { version?: unknown }).version
    : record.version;
  return typeof value === "number" ? value : Number.NaN;
}

// --- Concurrency: many writers, one set of ids -------------------------------------------

/** The execution every concurrent writer saves, and appends output to. */
export const SHARED_EXECUTION_ID = "shared-e1";
/** The program every concurrent writer saves. */
export const SHARED_PROGRAM_ID = "shared-p1";
/** The timestamp every writer uses for a contested history key. */
export const CONTESTED_TIME = new Date(BASE + 1_000_000);
/** The timestamp of the keys all writers save the same entry under. */
export const AGREED_TIME = new Date(BASE + 2_000_000);

/** Writer `writer`'s version `seq` of the shared execution (about 40 KiB stored). */
export function writerExecution(writer: number, seq: number): Execution {
  const random = prng(writer * 100_003 + seq);
  const stack = [];
  for (let i = 0; i < 400; i++) stack.push({ writer, seq, word: word(random, 40) });
  return {
    id: SHARED_EXECUTION_ID,
    programId: SHARED_PROGRAM_ID,
    state: "RUNNING",
    pc: seq,
    stack,
    variables: { writer, seq, blob: word(random, 2048), nan: NaN },
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
    bytecode: [{ writer, seq }, bytes(random, 64)],
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

/** The entry every writer saves for the agreed key `(step, AGREED_TIME)`: all the same. */
export function agreedHistory(step: number): History {
  return writerEntry(4_000_000, "AGREED", -1, step, AGREED_TIME);
}

/** The lines writer `writer` appends on its `seq`th write: 1 to 4 of them. */
export function writerLines(writer: number, seq: number): string[] {
  return Array.from(
    { length: 1 + ((writer + seq) % 4) },
    (_, i) => `w${writer} s${seq} l${i} ${"x".repeat((writer * 7 + seq) % 50)}`,
  );
}

/** Splits an output line of a concurrent writer into its numbers, or `undefined`. */
export function parseWriterLine(
  line: string,
): { writer: number; seq: number; index: number } | undefined {
  const match = /^w(\d+) s(\d+) l(\d+) x*$/.exec(line);
  return match === null
    ? undefined
    : { writer: Number(match[1]), seq: Number(match[2]), index: Number(match[3]) };
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

function writerSeq(value: unknown): { writer: number; seq: number } | undefined {
  const { writer, seq } = (value ?? {}) as { writer?: unknown; seq?: unknown };
  return Number.isSafeInteger(writer) && Number.isSafeInteger(seq)
    ? { writer: writer as number, seq: seq as number }
    : undefined;
}

/**
 * Checks that `record` is exactly one of the versions the concurrent writers write.
 *
 * @returns What is wrong, or `undefined` if it is whole.
 */
export function checkWriterRecord(
  kind: "execution" | "program",
  record: Execution | Program,
): string | undefined {
  const key = kind === "execution"
    ? writerSeq((record as Execution).variables)
    : writerSeq((record as { bytecode?: unknown[] }).bytecode?.[0]);
  if (key === undefined) return `${kind} has no writer/seq: ${preview(record)}`;
  const want = kind === "execution"
    ? writerExecution(key.writer, key.seq)
    : writerProgram(key.writer, key.seq);
  const wrong = mismatch(record, want);
  return wrong === undefined
    ? undefined
    : `${kind} claims writer ${key.writer} seq ${key.seq} but differs from it: ${wrong}`;
}

/**
 * Checks that `entry` is exactly one of the history entries the concurrent writers write.
 *
 * @returns What is wrong, or `undefined` if it is whole.
 */
export function checkWriterHistory(entry: History): string | undefined {
  const { writer } = (entry.variables ?? {}) as { writer?: unknown };
  if (typeof writer !== "number") return `history entry has no writer: ${preview(entry)}`;
  const time = entry.timestamp.getTime();
  const want = time === CONTESTED_TIME.getTime()
    ? contestedHistory(writer, entry.step)
    : time === AGREED_TIME.getTime()
    ? agreedHistory(entry.step)
    : writerHistory(writer, entry.step);
  const wrong = mismatch(entry, want);
  return wrong === undefined
    ? undefined
    : `history entry of writer ${writer} at step ${entry.step} is not what it wrote: ${wrong}`;
}

/**
 * Checks that `lines` is whole appends of the concurrent writers, each writer's in the
 * order it made them.
 *
 * @returns What is wrong, or `undefined`; and each writer's number of appends seen.
 */
export function checkWriterOutput(
  lines: readonly string[],
): { problem?: string; appends: Map<number, number> } {
  const appends = new Map<number, number>();
  let at = 0;
  while (at < lines.length) {
    const first = parseWriterLine(lines[at]);
    if (first === undefined || first.index !== 0) {
      return {
        problem: `output line ${at} does not start an append: ${preview(lines[at])}`,
        appends,
      };
    }
    const { writer, seq } = first;
    const expectedSeq = appends.get(writer) ?? 0;
    if (seq !== expectedSeq) {
      return {
        problem: `output line ${at} starts writer ${writer}'s append ${seq}, but its next ` +
          `append is ${expectedSeq}`,
        appends,
      };
    }
    const want = writerLines(writer, seq);
    const got = lines.slice(at, at + want.length);
    const wrong = mismatch(got, want);
    if (wrong !== undefined) {
      return {
        problem: `output lines ${at}–${at + want.length - 1} are not writer ${writer}'s ` +
          `append ${seq} whole: ${wrong}`,
        appends,
      };
    }
    appends.set(writer, seq + 1);
    at += want.length;
  }
  return { appends };
}
