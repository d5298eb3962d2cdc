/**
 * A tiny CVM-like virtual machine that persists everything through a `StorageAdapter`.
 *
 * It runs a small program step by step, saving the program, the execution after every
 * step, one history entry per step and each printed line (`appendOutput`), and keeps the
 * current-execution pointer, so that a run stopped half-way (Ctrl-C, a crash) resumes from
 * its latest history entry the next time. Then it reads everything back and prints a
 * summary. Storage comes from `createStorage()`, so `CVM_STORAGE_TYPE`, `CVM_DATA_DIR` and
 * `MONGODB_URI` choose where it goes (default: files under `~/.cvm`).
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

  /** The current execution if it is unfinished, else a new one, made current. */
  async resumeOrStart(programId: string): Promise<{ execution: Execution; resumed: boolean }> {
    const currentId = await this.#storage.getCurrentExecutionId();
    const current = currentId === null ? null : await this.#storage.getExecution(currentId);
    if (current !== null && current.state !== "completed") {
      return { execution: current, resumed: true };
    }
    const execution: Execution = {
      id: `run-${Date.now()}`,
      programId,
      state: "ready",
      pc: 0,
      stack: [],
      variables: {},
      error: null,
      created: new Date(),
    };
    await this.#storage.saveExecution(execution);
    await this.#storage.setCurrentExecutionId(execution.id);
    return { execution, resumed: false };
  }

  /** The step to run next: one past the latest history entry, the one to resume from. */
  async nextStep(execution: Execution): Promise<number> {
    const [latest] = await this.#storage.getHistory(execution.id, { reverse: true, limit: 1 });
    return latest === undefined ? 0 : latest.step + 1;
  }

  /** Runs one instruction, then saves its output, the execution and a history entry. */
  async step(execution: Execution, program: Program, step: number): Promise<Execution> {
    const code = program.bytecode as Instruction[];
    const instruction = code[execution.pc];
    const stack = [...execution.stack] as number[];
    const variables = { ...execution.variables };
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
        await this.#storage.appendOutput(execution.id, [String(stack.pop())]);
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

await using storage = createStorage();
await storage.connect();
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
let { execution, resumed } = await vm.resumeOrStart(program.id);
for (let step = await vm.nextStep(execution); execution.state !== "completed"; step++) {
  execution = await vm.step(execution, program, step);
}

// Read everything back from storage, not from memory.
const saved = (await storage.getExecution(execution.id))!;
const history = await storage.getHistory(execution.id);
const output = await storage.getOutput(execution.id);
const runs = await storage.listExecutions({ programId: program.id, state: "completed" });

console.log(
  `Program     ${program.id} ("${program.name}"), ${program.source.split("\n").length} ` +
    "source lines",
);
console.log(
  `Execution   ${saved.id}: ${saved.state} after ${history.length} steps` +
    (resumed ? " (resumed after an interrupted run)" : ""),
);
console.log(`Output      ${output.join(", ")}`);
console.log(`Variables   ${JSON.stringify(saved.variables)}`);
console.log("History");
for (const entry of history) {
  console.log(
    `  step ${entry.step}  pc ${entry.pc}  ${entry.instruction.padEnd(9)} stack ${
      JSON.stringify(entry.stack)
    }`,
  );
}
console.log(`Completed   ${runs.length} run(s) of "${program.id}"`);
if (storage instanceof FileStorageAdapter) {
  console.log(`Stored in   ${storage.dataDir}`);
  console.log(`  programs/${program.id}.json`);
  console.log(`  executions/${saved.id}.json`);
  console.log(`  history/${saved.id}/ (${history.length} files)`);
  console.log(`  outputs/ and metadata.json (the current execution)`);
}
