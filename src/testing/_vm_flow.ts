/**
 * Compliance cases: a small VM (see `_vm.ts`) runs programs the way the original CVM
 * does, restarts between calls (a new adapter on the same store), and after every restart
 * the store holds exactly what the VM saved.
 *
 * @module
 */

import { streamHistory } from "../stream_history.ts";
import type { Execution, History, Program, StorageAdapter } from "../types.ts";
import { assertEquals, assertSame } from "./_assert.ts";
import { at, byId, delegate, expected } from "./_fixtures.ts";
import type { Case, CaseContext } from "./_types.ts";
import { type Instruction, TinyVm } from "./_vm.ts";

/** Everything the VM saved, as it saved it: what the store must give back. */
interface Saved {
  programs: Map<string, Program>;
  executions: Map<string, Execution>;
  history: Map<string, History[]>;
  output: Map<string, string[]>;
  current: string | null;
}

/**
 * The adapter the VM uses: every write goes through, and once it succeeds, a copy of
 * what was written (taken when the call was made) goes into `saved`.
 */
function recording(adapter: StorageAdapter, saved: Saved): StorageAdapter {
  const wrapper = delegate(adapter);
  wrapper.saveProgram = async (program) => {
    const copy = expected(program);
    await adapter.saveProgram(program);
    saved.programs.set(copy.id, copy);
  };
  wrapper.saveExecution = async (execution) => {
    const copy = expected(execution);
    await adapter.saveExecution(execution);
    saved.executions.set(copy.id, copy);
  };
  wrapper.saveHistory = async (entry) => {
    const copy = expected(entry);
    await adapter.saveHistory(entry);
    const list = saved.history.get(copy.executionId) ?? [];
    list.push(copy);
    saved.history.set(copy.executionId, list);
  };
  wrapper.appendOutput = async (executionId, lines) => {
    const copy = [...lines];
    await adapter.appendOutput(executionId, lines);
    saved.output.set(executionId, [...saved.output.get(executionId) ?? [], ...copy]);
  };
  wrapper.setCurrentExecutionId = async (id) => {
    await adapter.setCurrentExecutionId(id);
    saved.current = id;
  };
  wrapper.deleteExecution = async (id) => {
    const existed = await adapter.deleteExecution(id);
    saved.executions.delete(id);
    saved.history.delete(id);
    saved.output.delete(id);
    return existed;
  };
  return wrapper;
}

/** Checks that the store holds exactly what the VM saved. */
async function expectSaved(adapter: StorageAdapter, saved: Saved, when: string): Promise<void> {
  assertEquals(await adapter.listPrograms(), byId([...saved.programs.values()]), when);
  assertEquals(await adapter.listExecutions(), byId([...saved.executions.values()]), when);
  for (const execution of saved.executions.values()) {
    const id = execution.id;
    assertEquals(await adapter.getExecution(id), execution, `${when}: getExecution("${id}")`);
    const history = [...saved.history.get(id) ?? []].sort((a, b) =>
      a.step - b.step || a.timestamp.getTime() - b.timestamp.getTime()
    );
    assertEquals(await adapter.getHistory(id), history, `${when}: getHistory("${id}")`);
    assertEquals(
      await adapter.getOutput(id),
      saved.output.get(id) ?? [],
      `${when}: getOutput("${id}")`,
    );
  }
  assertSame(await adapter.getCurrentExecutionId(), saved.current, `${when}: current execution`);
}

/** A VM process: a VM on a recording adapter, with a clock that runs on across restarts. */
class Machine {
  readonly saved: Saved = {
    programs: new Map(),
    executions: new Map(),
    history: new Map(),
    output: new Map(),
    current: null,
  };
  #ticks = 0;
  #adapter: StorageAdapter;
  vm: TinyVm;

  constructor(adapter: StorageAdapter, readonly context: CaseContext) {
    this.#adapter = adapter;
    this.vm = this.#boot();
  }

  /** A new process: restarts the adapter, checks the store, and boots a new VM on it. */
  async restart(when: string): Promise<void> {
    this.#adapter = await this.context.restart();
    await expectSaved(this.#adapter, this.saved, `after a restart ${when}`);
    this.vm = this.#boot();
  }

  get adapter(): StorageAdapter {
    return this.#adapter;
  }

  #boot(): TinyVm {
    return new TinyVm(recording(this.#adapter, this.saved), () => at(1_000 * ++this.#ticks));
  }
}

/** Computes NaN, Infinity, -0 and half an emoji, asks the model, then iterates an array. */
const MAIN: Instruction[] = [
  { op: "PUSH", arg: "abc" },
  { op: "PUSH", arg: 2 },
  { op: "MUL" },
  { op: "STORE", arg: "nan" },
  { op: "PUSH", arg: 1 },
  { op: "PUSH", arg: 0 },
  { op: "DIV" },
  { op: "STORE", arg: "inf" },
  { op: "PUSH", arg: -1 },
  { op: "PUSH", arg: 0 },
  { op: "MUL" },
  { op: "STORE", arg: "negativeZero" },
  { op: "PUSH", arg: "\u{1f600} grin" },
  { op: "SLICE", arg: [0, 1] },
  { op: "STORE", arg: "half" },
  { op: "LOAD", arg: "half" },
  { op: "PRINT" },
  { op: "PUSH", arg: "Summarize the variables" },
  { op: "CC" },
  // The model's answer is on the stack.
  { op: "STORE", arg: "answer" },
  { op: "LOAD", arg: "answer" },
  { op: "PRINT" },
  { op: "PUSH", arg: 1 },
  { op: "PUSH", arg: "two" },
  { op: "LOAD", arg: "nan" },
  { op: "NEW_ARRAY", arg: 3 },
  { op: "ITER_START" },
  { op: "ITER_NEXT", arg: 30 },
  { op: "PRINT" },
  { op: "JUMP", arg: 27 },
  { op: "LOAD", arg: "inf" },
  { op: "RETURN" },
  { op: "HALT" },
];

/** Seed-era bytecode in bytes: prints half an emoji and 5 + 7, asks, then throws. */
const BYTES = new Uint8Array([7, 1, 3, 0, 1, 5, 1, 7, 2, 0, 3, 0, 1, 42, 4, 0, 5, 0]);

function program(id: string, bytecode: unknown): Program {
  return {
    id,
    name: `VM flow ${id}`,
    source: `; ${id}`,
    bytecode,
    created: at(0),
  };
}

/** The VM flow cases. */
export const vmFlowCases: readonly Case[] = [
  {
    name:
      "a VM on the CVM interface runs a program across restarts and reads back exactly what it saved",
    async run(adapter, context) {
      const machine = new Machine(adapter, context);
      await machine.vm.load(program("p-main", MAIN));
      await machine.vm.start("p-main", "e-main");
      await machine.restart("once the execution is READY");

      const waiting = await machine.vm.run();
      assertSame(waiting?.state, "AWAITING_COGNITIVE_RESULT", "state after the cognitive call");
      assertSame(waiting?.ccPrompt, "Summarize the variables", "ccPrompt");
      await machine.restart("while AWAITING_COGNITIVE_RESULT");

      const done = await machine.vm.answer("All \u{1f600} fine");
      await machine.restart("once COMPLETED");
      const stored = await machine.adapter.getExecution("e-main");
      assertEquals(stored, done, "the completed execution");
      assertEquals(
        stored?.variables,
        { nan: NaN, inf: Infinity, negativeZero: -0, half: "\ud83d", answer: "All \u{1f600} fine" },
        "its variables",
      );
      assertSame(stored?.state, "COMPLETED", "state");
      assertSame(stored?.error, null, "error after the resumed call");
      assertSame(stored?.returnValue, Infinity, "returnValue");
      assertEquals(
        stored?.heap,
        { 0: { type: "array", data: [1, "two", NaN] }, nextId: 1 },
        "heap",
      );
      assertEquals(
        await machine.adapter.getOutput("e-main"),
        ["\ud83d", "All \u{1f600} fine", "1", "two", "NaN"],
        "output",
      );

      // Resuming and replaying read the history the ways a VM and a debugger do.
      const history = await machine.adapter.getHistory("e-main");
      const [latest] = await machine.adapter.getHistory("e-main", { reverse: true, limit: 1 });
      assertEquals(latest, history[history.length - 1], "the latest entry");
      assertSame(latest.instruction, "HALT", "the latest entry's instruction");
      const outOfBand = await machine.adapter.getHistory("e-main", { fromStep: -1, toStep: -1 });
      assertEquals(outOfBand, [history[0]], "the step -1 entry, first in order");
      assertSame(outOfBand[0]?.result, "All \u{1f600} fine", "the recorded result");
      const replayed: History[] = [];
      for await (const entry of streamHistory(machine.adapter, "e-main", { pageSize: 4 })) {
        replayed.push(entry);
      }
      assertEquals(replayed, history, "streamHistory() of the execution");
    },
  },
  {
    name:
      "a VM on the CVM interface keeps two executions of byte code apart across restarts, through waiting_cc, ERROR and a delete",
    async run(adapter, context) {
      const machine = new Machine(adapter, context);
      await machine.vm.load(program("p-bytes", BYTES));
      await machine.vm.start("p-bytes", "e-1");
      assertSame((await machine.vm.run())?.state, "waiting_cc", "e-1 after its cognitive call");
      await machine.vm.start("p-bytes", "e-2");
      assertSame((await machine.vm.run())?.state, "waiting_cc", "e-2 after its cognitive call");
      await machine.restart("with two executions waiting");

      const failed = await machine.vm.answer("bad answer");
      assertSame(failed?.id, "e-2", "the current execution answered");
      assertSame(failed?.state, "ERROR", "e-2 after throwing");
      assertSame(failed?.error, "Uncaught bad answer at pc 8", "e-2's error");
      // The front end switches back to the first execution.
      await recording(machine.adapter, machine.saved).setCurrentExecutionId("e-1");
      await machine.restart("after switching the current execution");

      assertSame((await machine.vm.answer(NaN))?.error, "Uncaught NaN at pc 8", "e-1's error");
      assertEquals(
        await machine.adapter.getOutput("e-1"),
        ["\ud83d", "12"],
        "e-1's output",
      );
      await recording(machine.adapter, machine.saved).deleteExecution("e-2");
      await machine.restart("after deleting e-2");
      assertEquals(await machine.adapter.getHistory("e-2"), [], "e-2's history after delete");
      assertEquals(await machine.adapter.getOutput("e-2"), [], "e-2's output after delete");
      assertSame(await machine.adapter.getCurrentExecutionId(), "e-1", "the current execution");
      const program_ = await machine.adapter.getProgram("p-bytes");
      assertEquals(program_?.bytecode, BYTES, "the byte code");
    },
  },
];
