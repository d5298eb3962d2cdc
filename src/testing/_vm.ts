/**
 * A small VM written against the original CVM's later storage interface, for the VM flow
 * cases: it keeps its state in executions with the states CVM writes ("READY",
 * "RUNNING", "AWAITING_COGNITIVE_RESULT", "COMPLETED", "ERROR", and the older
 * "waiting_cc"), appends what it prints with `appendOutput`, records each step as a
 * history entry and each cognitive result at step -1, and finds "the current execution"
 * through the stored pointer, so that a new process can resume it.
 *
 * @module
 */

import type { Execution, Program, StorageAdapter } from "../types.ts";

/** One instruction. */
export interface Instruction {
  op: string;
  arg?: unknown;
}

/** The heap: arrays by number, as CVM keeps them, and the next free number. */
interface Heap {
  [ref: string]: { type: "array"; data: unknown[] } | number;
  nextId: number;
}

/** An iterator over a heap array, kept in the execution as CVM does. */
interface Iterator {
  array: unknown[];
  index: number;
}

/** Opcodes of the byte form, which seed-era CVM programs were compiled to. */
const BYTE_OPS = ["NOP", "PUSH", "ADD", "PRINT", "CC_LEGACY", "THROW", "HALT", "PUSH_HALF"];

/**
 * Decodes bytecode: a list of instructions, or bytes in pairs (opcode, argument).
 *
 * @throws {Error} For bytecode the VM cannot read.
 */
export function decode(bytecode: unknown): Instruction[] {
  if (Array.isArray(bytecode)) return bytecode as Instruction[];
  if (bytecode instanceof Uint8Array) {
    const out: Instruction[] = [];
    for (let i = 0; i + 1 < bytecode.length; i += 2) {
      out.push({ op: BYTE_OPS[bytecode[i]] ?? "NOP", arg: bytecode[i + 1] });
    }
    return out;
  }
  throw new Error(`the VM cannot run bytecode ${typeof bytecode}`);
}

/**
 * The VM. It holds nothing between calls but the adapter and a clock: every call reads
 * what it needs from storage, as a new process would.
 */
export class TinyVm {
  readonly #storage: StorageAdapter;
  readonly #clock: () => Date;

  /**
   * @param storage A connected adapter.
   * @param clock Returns the time for each record; strictly increasing.
   */
  constructor(storage: StorageAdapter, clock: () => Date) {
    this.#storage = storage;
    this.#clock = clock;
  }

  /** Saves a program. */
  async load(program: Program): Promise<void> {
    await this.#storage.saveProgram(program);
  }

  /** Creates an execution of a program, READY, and makes it the current one. */
  async start(programId: string, executionId: string): Promise<void> {
    const execution: Execution = {
      id: executionId,
      programId,
      state: "READY",
      pc: 0,
      stack: [],
      variables: {},
      created: this.#clock(),
      heap: { nextId: 0 },
      iterators: [],
    };
    await this.#storage.saveExecution(execution);
    await this.#storage.setCurrentExecutionId(executionId);
  }

  /**
   * Runs the current execution until it stops: completed, failed, or waiting for a
   * cognitive result.
   *
   * @returns The execution as it stopped, or `null` when there is no current execution.
   */
  async run(): Promise<Execution | null> {
    const execution = await this.#current();
    if (execution === null) return null;
    if (execution.state !== "READY" && execution.state !== "RUNNING") return execution;
    const program = await this.#storage.getProgram(execution.programId);
    if (program === null) throw new Error(`program "${execution.programId}" is missing`);
    const code = decode(program.bytecode);
    let step = await this.#nextStep(execution.id);
    execution.state = "RUNNING";
    while (execution.state === "RUNNING") {
      const instruction = code[execution.pc] ?? { op: "HALT" };
      const pc = execution.pc;
      const printed = this.#execute(execution, instruction);
      execution.updated = this.#clock();
      await this.#storage.saveHistory({
        executionId: execution.id,
        step: step++,
        pc,
        instruction: instruction.arg === undefined
          ? instruction.op
          : `${instruction.op} ${JSON.stringify(instruction.arg) ?? ""}`,
        stack: execution.stack,
        variables: execution.variables,
        timestamp: execution.updated,
      });
      if (printed.length > 0) await this.#storage.appendOutput(execution.id, printed);
      await this.#storage.saveExecution(execution);
    }
    return execution;
  }

  /** Hands the current execution the result of its cognitive call, and runs it on. */
  async answer(result: unknown): Promise<Execution | null> {
    const execution = await this.#current();
    if (
      execution === null ||
      (execution.state !== "AWAITING_COGNITIVE_RESULT" && execution.state !== "waiting_cc")
    ) {
      throw new Error(`no execution is waiting for a result: ${execution?.state}`);
    }
    const now = this.#clock();
    // Out-of-band: the result is recorded at step -1, as CVM does.
    await this.#storage.saveHistory({
      executionId: execution.id,
      step: -1,
      pc: execution.pc,
      instruction: "CC_RESULT",
      stack: execution.stack,
      variables: execution.variables,
      timestamp: now,
      prompt: execution.ccPrompt,
      result,
    });
    execution.stack.push(result);
    execution.state = "RUNNING";
    execution.error = null;
    delete execution.ccPrompt;
    delete execution.status;
    execution.updated = now;
    await this.#storage.saveExecution(execution);
    return await this.run();
  }

  async #current(): Promise<Execution | null> {
    const id = await this.#storage.getCurrentExecutionId();
    return id === null ? null : await this.#storage.getExecution(id);
  }

  /** The next step number: one after the latest entry's step, ignoring step -1. */
  async #nextStep(executionId: string): Promise<number> {
    const [latest] = await this.#storage.getHistory(executionId, {
      fromStep: 0,
      reverse: true,
      limit: 1,
    });
    return latest === undefined ? 0 : latest.step + 1;
  }

  /** Executes one instruction; returns the lines it printed. */
  #execute(execution: Execution, { op, arg }: Instruction): string[] {
    const stack = execution.stack;
    const variables = execution.variables;
    const heap = execution.heap as Heap;
    const iterators = execution.iterators as Iterator[];
    const printed: string[] = [];
    execution.pc++;
    switch (op) {
      case "PUSH":
        stack.push(arg);
        break;
      case "PUSH_HALF":
        // Half of an emoji: what "😀".substring(0, 1) gives a VM.
        stack.push("\u{1f600}".substring(0, Number(arg)));
        break;
      case "LOAD":
        stack.push(variables[arg as string]);
        break;
      case "STORE":
        variables[arg as string] = stack.pop();
        break;
      case "ADD": {
        const b = stack.pop() as number;
        stack.push((stack.pop() as number) + b);
        break;
      }
      case "MUL": {
        const b = stack.pop() as number;
        stack.push((stack.pop() as number) * b);
        break;
      }
      case "DIV": {
        const b = stack.pop() as number;
        stack.push((stack.pop() as number) / b);
        break;
      }
      case "SLICE": {
        const [start, end] = arg as [number, number];
        stack.push(String(stack.pop()).substring(start, end));
        break;
      }
      case "PRINT":
        printed.push(String(stack.pop()));
        break;
      case "CC":
      case "CC_LEGACY":
        execution.ccPrompt = String(stack.pop() ?? arg);
        execution.state = op === "CC" ? "AWAITING_COGNITIVE_RESULT" : "waiting_cc";
        execution.status = "waiting for the model";
        break;
      case "NEW_ARRAY": {
        const data = stack.splice(stack.length - Number(arg));
        const ref = heap.nextId++;
        heap[ref] = { type: "array", data };
        // A heap reference looks like a MongoDB DBRef; it must come back as it is.
        stack.push({ $ref: ref });
        break;
      }
      case "ITER_START": {
        const { $ref } = stack.pop() as { $ref: number };
        iterators.push({ array: [...(heap[$ref] as { data: unknown[] }).data], index: 0 });
        break;
      }
      case "ITER_NEXT": {
        const iterator = iterators[iterators.length - 1];
        if (iterator.index < iterator.array.length) {
          stack.push(iterator.array[iterator.index++]);
        } else {
          iterators.pop();
          execution.pc = arg as number;
        }
        break;
      }
      case "JUMP":
        execution.pc = arg as number;
        break;
      case "RETURN":
        execution.returnValue = stack.pop();
        break;
      case "THROW":
        execution.state = "ERROR";
        execution.error = `Uncaught ${String(stack.pop() ?? arg)} at pc ${execution.pc - 1}`;
        break;
      case "HALT":
        execution.state = "COMPLETED";
        break;
      case "NOP":
        break;
      default:
        execution.state = "ERROR";
        execution.error = `Unknown instruction ${op}`;
    }
    return printed;
  }
}
