/**
 * A tiny CVM-like virtual machine that persists everything through a `StorageAdapter`.
 *
 * It runs a small program step by step, saving the program, the execution after every
 * step, and one history entry per step; then it reads everything back and prints a
 * summary. Storage comes from `createStorage()`, so `CVM_STORAGE_TYPE`, `CVM_DATA_DIR`
 * and `MONGODB_URI` choose where it goes (default: files under `~/.cvm`).
 *
 * Run it with `deno task demo`.
 *
 * @module
 */

import {
  createStorage,
  type Execution,
  FileStorageAdapter,
  type Program,
  type StorageAdapter,
} from "../mod.ts";

type Instruction =
  | { op: "PUSH"; value: number }
  | { op: "ADD" | "MUL" | "PRINT" | "HALT" }
  | { op: "STORE" | "LOAD"; name: string };

/** Runs programs one step at a time, persisting each step (the seed's `VMManager`). */
class VMManager {
  readonly #storage: StorageAdapter;

  constructor(storage: StorageAdapter) {
    this.#storage = storage;
  }

  async load(id: string, name: string, source: string, bytecode: Instruction[]): Promise<void> {
    await this.#storage.saveProgram({ id, name, source, bytecode, created: new Date() });
  }

  async start(programId: string, executionId: string): Promise<Execution> {
    const execution: Execution = {
      id: executionId,
      programId,
      state: "ready",
      pc: 0,
      stack: [],
      variables: {},
      output: [],
      created: new Date(),
    };
    await this.#storage.saveExecution(execution);
    return execution;
  }

  /** Runs one instruction, then saves the execution and a history entry. */
  async step(execution: Execution, program: Program, step: number): Promise<Execution> {
    const code = program.bytecode as Instruction[];
    const instruction = code[execution.pc];
    const stack = [...execution.stack] as number[];
    const variables = { ...execution.variables };
    const output = [...execution.output];
    let state: Execution["state"] = "running";
    switch (instruction.op) {
      case "PUSH":
        stack.push(instruction.value);
        break;
      case "ADD":
        stack.push(stack.pop()! + stack.pop()!);
        break;
      case "MUL":
        stack.push(stack.pop()! * stack.pop()!);
        break;
      case "STORE":
        variables[instruction.name] = stack.pop();
        break;
      case "LOAD":
        stack.push(variables[instruction.name] as number);
        break;
      case "PRINT":
        output.push(String(stack.pop()));
        break;
      case "HALT":
        state = "completed";
        break;
    }
    const next: Execution = {
      ...execution,
      state,
      pc: execution.pc + 1,
      stack,
      variables,
      output,
      updated: new Date(),
    };
    await this.#storage.saveExecution(next);
    await this.#storage.saveHistory({
      executionId: execution.id,
      step,
      pc: execution.pc,
      instruction: Object.values(instruction).join(" "),
      stack,
      variables,
      timestamp: new Date(),
    });
    return next;
  }
}

const storage = createStorage();
await storage.connect();
try {
  const vm = new VMManager(storage);
  const source = "x = 2 + 3\nprint x * 7";
  await vm.load("demo-arithmetic", "Arithmetic demo", source, [
    { op: "PUSH", value: 2 },
    { op: "PUSH", value: 3 },
    { op: "ADD" },
    { op: "STORE", name: "x" },
    { op: "LOAD", name: "x" },
    { op: "PUSH", value: 7 },
    { op: "MUL" },
    { op: "PRINT" },
    { op: "HALT" },
  ]);

  const program = (await storage.getProgram("demo-arithmetic"))!;
  const executionId = `run-${Date.now()}`;
  let execution = await vm.start(program.id, executionId);
  for (let step = 0; execution.state !== "completed"; step++) {
    execution = await vm.step(execution, program, step);
  }

  // Read everything back from storage, not from memory.
  const saved = (await storage.getExecution(executionId))!;
  const history = await storage.getHistory(executionId);
  const runs = await storage.listExecutions({ programId: program.id });

  console.log(
    `Program     ${program.id} ("${program.name}"), ${
      program.source.split("\n").length
    } source lines`,
  );
  console.log(`Execution   ${saved.id}: ${saved.state} after ${history.length} steps`);
  console.log(`Output      ${saved.output.join(", ")}`);
  console.log(`Variables   ${JSON.stringify(saved.variables)}`);
  console.log("History");
  for (const entry of history) {
    console.log(
      `  step ${entry.step}  pc ${entry.pc}  ${entry.instruction.padEnd(9)} stack ${
        JSON.stringify(entry.stack)
      }`,
    );
  }
  console.log(`Runs so far ${runs.length} of "${program.id}"`);
  if (storage instanceof FileStorageAdapter) {
    console.log(`Stored in   ${storage.dataDir}`);
    console.log(`  programs/${program.id}.json`);
    console.log(`  executions/${saved.id}.json`);
    console.log(`  history/${saved.id}/ (${history.length} files)`);
  }
} finally {
  await storage.disconnect();
}
