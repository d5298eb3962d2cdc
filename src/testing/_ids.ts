/**
 * Compliance cases: any valid id works, and different ids are different records.
 *
 * @module
 */

import type { Execution, History, Program, StorageAdapter } from "../types.ts";
import { assert, assertEquals, assertSame, checkEach } from "./_assert.ts";
import { byId, expected, makeExecution, makeHistory, makeProgram, shuffled } from "./_fixtures.ts";
import { HARD_IDS } from "./_id_values.ts";
import type { Case } from "./_types.ts";

const show = (
  id: string,
) => (id.length > 40
  ? `${JSON.stringify(id.slice(0, 37))}... (${id.length} units)`
  : JSON.stringify(id));

function assertUnique(ids: readonly string[]): void {
  assert(new Set(ids).size === ids.length, "the suite's id list has duplicates");
}

/** Every id gets its own program, which reads and lists back exactly; deletes are exact. */
async function checkProgramIds(adapter: StorageAdapter, ids: readonly string[]): Promise<void> {
  assertUnique(ids);
  const programs = ids.map((id, i) => makeProgram(id, { name: `program #${i}`, source: id }));
  for (const program of shuffled(programs, 3)) await adapter.saveProgram(program);
  await checkEach(programs, (p) => `getProgram(${show(p.id)})`, async (p) => {
    assertEquals(await adapter.getProgram(p.id), expected(p), `getProgram(${show(p.id)})`);
  });
  await checkList(adapter, programs);

  const [gone, kept] = halves(programs);
  await checkEach(gone, (p) => `deleteProgram(${show(p.id)})`, async (p) => {
    assertSame(await adapter.deleteProgram(p.id), true, `deleteProgram(${show(p.id)})`);
    assertSame(await adapter.getProgram(p.id), null, `getProgram(${show(p.id)}) after delete`);
  });
  await checkList(adapter, kept);
  await checkEach(kept, (p) => `getProgram(${show(p.id)})`, async (p) => {
    assertEquals(
      await adapter.getProgram(p.id),
      expected(p),
      `getProgram(${show(p.id)}) after deleting others`,
    );
  });
}

async function checkList(adapter: StorageAdapter, programs: readonly Program[]): Promise<void> {
  const listed = await adapter.listPrograms();
  assertEquals(
    listed.map((p) => p.id),
    byId(programs).map((p) => p.id),
    "listPrograms() ids",
  );
  assertEquals(listed, expected(byId(programs)), "listPrograms()");
}

/** Every id gets its own execution and history; filters and deletes are exact. */
async function checkExecutionIds(adapter: StorageAdapter, ids: readonly string[]): Promise<void> {
  assertUnique(ids);
  // Each execution belongs to a program named by another hard id.
  const executions = ids.map((id, i) =>
    makeExecution(id, ids[(i + 1) % ids.length], { pc: i, output: [id] })
  );
  for (const execution of shuffled(executions, 5)) await adapter.saveExecution(execution);
  await checkEach(executions, (e) => `getExecution(${show(e.id)})`, async (e) => {
    assertEquals(await adapter.getExecution(e.id), expected(e), `getExecution(${show(e.id)})`);
  });
  await checkExecutionList(adapter, executions);
  const step = Math.max(1, Math.floor(ids.length / 20));
  const sample = executions.filter((_, i) => i % step === 0);
  await checkEach(
    sample,
    (e) => `listExecutions({ programId: ${show(e.programId)} })`,
    async (e) =>
      assertEquals(
        await adapter.listExecutions({ programId: e.programId }),
        expected(byId(executions.filter((other) => other.programId === e.programId))),
        `listExecutions({ programId: ${show(e.programId)} })`,
      ),
  );

  const [gone, kept] = halves(executions);
  await checkEach(gone, (e) => `deleteExecution(${show(e.id)})`, async (e) => {
    assertSame(await adapter.deleteExecution(e.id), true, `deleteExecution(${show(e.id)})`);
    assertSame(await adapter.getExecution(e.id), null, `getExecution(${show(e.id)}) after delete`);
  });
  await checkExecutionList(adapter, kept);
}

async function checkExecutionList(
  adapter: StorageAdapter,
  executions: readonly Execution[],
): Promise<void> {
  const listed = await adapter.listExecutions();
  assertEquals(
    listed.map((e) => e.id),
    byId(executions).map((e) => e.id),
    "listExecutions() ids",
  );
  assertEquals(listed, expected(byId(executions)), "listExecutions()");
}

/** Every id gets its own history; deleting an execution removes exactly its history. */
async function checkHistoryIds(adapter: StorageAdapter, ids: readonly string[]): Promise<void> {
  assertUnique(ids);
  const histories = new Map<string, History[]>(
    ids.map((id, i) => [id, [makeHistory(id, i % 3, { instruction: `#${i}`, pc: i })]]),
  );
  for (const id of shuffled(ids, 11)) {
    await adapter.saveHistory((histories.get(id) as History[])[0]);
  }
  const check = async (id: string) => {
    assertEquals(
      await adapter.getHistory(id),
      expected(histories.get(id)),
      `getHistory(${show(id)})`,
    );
  };
  await checkEach(ids, show, check);

  const [gone, kept] = halves(ids);
  for (const id of gone) await adapter.saveExecution(makeExecution(id));
  await checkEach(gone, (id) => `deleteExecution(${show(id)})`, async (id) => {
    assertSame(await adapter.deleteExecution(id), true, `deleteExecution(${show(id)})`);
    assertEquals(await adapter.getHistory(id), [], `getHistory(${show(id)}) after delete`);
  });
  await checkEach(kept, show, check);
}

/** Every id gets its own output; deleting an execution removes exactly its output. */
async function checkOutputIds(adapter: StorageAdapter, ids: readonly string[]): Promise<void> {
  assertUnique(ids);
  const lines = (id: string, i: number) => [id, `#${i}`];
  for (const [i, id] of shuffled([...ids.entries()], 13)) {
    await adapter.appendOutput(id, lines(id, i));
  }
  const check = async (id: string) => {
    const i = ids.indexOf(id);
    assertEquals(await adapter.getOutput(id), lines(id, i), `getOutput(${show(id)})`);
  };
  await checkEach(ids, show, check);
  const [gone, kept] = halves(ids);
  await checkEach(gone, (id) => `deleteExecution(${show(id)})`, async (id) => {
    await adapter.deleteExecution(id);
    assertEquals(await adapter.getOutput(id), [], `getOutput(${show(id)}) after delete`);
  });
  await checkEach(kept, show, check);
}

/** Every id can be the current execution, and reads back exactly. */
async function checkCurrentIds(adapter: StorageAdapter, ids: readonly string[]): Promise<void> {
  await checkEach(ids, show, async (id) => {
    await adapter.setCurrentExecutionId(id);
    assertSame(
      await adapter.getCurrentExecutionId(),
      id,
      `getCurrentExecutionId() after ${show(id)}`,
    );
  });
}

/** Every other item, and the rest. */
function halves<T>(items: readonly T[]): [T[], T[]] {
  return [items.filter((_, i) => i % 2 === 0), items.filter((_, i) => i % 2 === 1)];
}

async function checkAllKinds(adapter: StorageAdapter, ids: readonly string[]): Promise<void> {
  await checkProgramIds(adapter, ids);
  await checkExecutionIds(adapter, ids);
  await checkHistoryIds(adapter, ids);
  await checkOutputIds(adapter, ids);
  await checkCurrentIds(adapter, ids);
}

/** Ids that a case-insensitive file system or a case-folding encoder would merge. */
const CASE_IDS = [
  "ABC",
  "abc",
  "Abc",
  "aBC",
  "\u00df",
  "\u1e9e",
  "SS",
  "ss",
  "K",
  "k",
  "\u212a",
  "I",
  "i",
  "\u0130",
  "\u0131",
  "CON",
  "con",
  "Con",
];

/** Ids that a normalizing file system (macOS) would merge. */
const NORMALIZATION_IDS = [
  "\u00e9",
  "e\u0301",
  "caf\u00e9",
  "cafe\u0301",
  "\u00c5",
  "\u212b",
  "A\u030a",
  "\u2126",
  "\u03a9",
  "\ufb00",
  "ff",
  "\u1e9b\u0323",
  "\u1e69",
  "s\u0323\u0307",
  "s\u0307\u0323",
  "\uac00",
  "\u1100\u1161",
];

/** Ids too long for a file name, which differ only near the end. */
const LONG_IDS = [
  `${"y".repeat(200)}a`,
  `${"y".repeat(200)}b`,
  `${"y".repeat(200)}A`,
  `${"y".repeat(200)}`,
  `${"y".repeat(201)}`,
  `${"y".repeat(255)}a`,
  `${"y".repeat(255)}b`,
  `${"y".repeat(255)}/`,
  `${"y".repeat(254)}..`,
  `${"y".repeat(255)} `,
  "y".repeat(256),
  "x".repeat(256),
  "\u{1f600}".repeat(128),
  `${"\u{1f600}".repeat(127)}a`,
  `${"\u{1f600}".repeat(127)}b`,
  `${"\u{1f600}".repeat(127)}\u00e9`,
  "\u00e9".repeat(256),
  `${"\u00e9".repeat(255)}e`,
  "\u4e2d".repeat(256),
  `${"\u4e2d".repeat(255)}\u6587`,
  `${"/".repeat(255)}a`,
  `${"%2F".repeat(85)}a`,
  `${"CON".repeat(85)}.`,
];

/** Ids that look like one another's escaped forms. */
const LOOKALIKE_IDS = [
  "a/b",
  "a%2Fb",
  "a%2fb",
  "a%252Fb",
  "a%25252Fb",
  "a~2Fb",
  "a~2fb",
  "a_2Fb",
  "a=2Fb",
  "a!2Fb",
  "a+2Fb",
  "a@2Fb",
  "a$2Fb",
  "a'2Fb",
  "a\\b",
  "a%5Cb",
  "a%5cb",
  "A",
  "%41",
  "~41",
  "_41",
  "a",
  "%61",
  "CON",
  "_CON",
  "CON_",
  "%43ON",
  "CON.",
  "CON ",
  "CON%2E",
  ".",
  "%2E",
  "..",
  "%2E%2E",
];

/** The id cases. */
export const idsCases: readonly Case[] = [
  {
    name: "saveProgram() stores every valid id as its own record, listed and deleted exactly",
    run: (adapter) => checkProgramIds(adapter, HARD_IDS),
  },
  {
    name: "saveExecution() stores every valid id as its own record, filtered and deleted exactly",
    run: (adapter) => checkExecutionIds(adapter, HARD_IDS),
  },
  {
    name: "saveHistory() keeps a separate history for every valid execution id",
    run: (adapter) => checkHistoryIds(adapter, HARD_IDS),
  },
  {
    name: "appendOutput() keeps a separate output for every valid execution id",
    run: (adapter) => checkOutputIds(adapter, HARD_IDS),
  },
  {
    name: "setCurrentExecutionId() stores every valid id exactly",
    run: (adapter) => checkCurrentIds(adapter, HARD_IDS),
  },
  {
    name:
      "records, history, output and the current execution treat ids that differ only in case as different",
    run: (adapter) => checkAllKinds(adapter, CASE_IDS),
  },
  {
    name:
      "records, history, output and the current execution treat ids that differ only in Unicode normalization as different",
    run: (adapter) => checkAllKinds(adapter, NORMALIZATION_IDS),
  },
  {
    name:
      "records, history, output and the current execution treat long ids that differ only at the end as different",
    run: (adapter) => checkAllKinds(adapter, LONG_IDS),
  },
  {
    name:
      "records, history, output and the current execution treat ids that look like escaped forms of other ids as different",
    run: (adapter) => checkAllKinds(adapter, LOOKALIKE_IDS),
  },
  {
    name: "getProgram(), getExecution() and getHistory() accept ids of exactly 256 code units",
    async run(adapter) {
      const ids = ["z".repeat(256), "\u{1f600}".repeat(128), "\u00e9".repeat(256)];
      for (const id of ids) {
        assert(id.length === 256, "the suite's 256-unit id has the wrong length");
        assertSame(await adapter.getProgram(id), null, `getProgram(${show(id)})`);
        assertSame(await adapter.getExecution(id), null, `getExecution(${show(id)})`);
        assertEquals(await adapter.getHistory(id), [], `getHistory(${show(id)})`);
        assertEquals(
          await adapter.listExecutions({ programId: id }),
          [],
          `listExecutions({ programId: ${show(id)} })`,
        );
        assertSame(await adapter.deleteProgram(id), false, `deleteProgram(${show(id)})`);
        assertSame(await adapter.deleteExecution(id), false, `deleteExecution(${show(id)})`);
        assertEquals(await adapter.getOutput(id), [], `getOutput(${show(id)})`);
        await adapter.setCurrentExecutionId(id);
        assertSame(await adapter.getCurrentExecutionId(), id, `getCurrentExecutionId()`);
      }
    },
  },
];
