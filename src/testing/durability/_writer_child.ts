/**
 * A writer process of the kit's concurrency test: one writer on its main thread and
 * `threads` more in Workers, which share its process id.
 *
 * Usage: deno run <permissions> _writer_child.ts <adapterModule> <store> <firstWriter>
 *   <threads> <count>
 *
 * Prints {"kind":"process-ready"} once every writer has connected. Commands on stdin, one a
 * line, go to every writer: `go` starts their write loops, `contest <step> <time>` and
 * `agree <step> <time>` race a history key at the wall-clock time <time> (ms). When stdin
 * closes, each writer finishes its loop and races and reports `done`; the process then
 * prints {"kind":"process-done"} and exits. Every report is one JSON line.
 *
 * @module
 */

import { loadAdapterModule } from "./_adapter_module.ts";
import { readStdinLines, report } from "./_child_io.ts";
import { type Command, Writer } from "./_writer.ts";

const [module, store, firstArg, threadsArg, countArg] = Deno.args;
const first = Number(firstArg);
const threads = Number(threadsArg);
const count = Number(countArg);
const create = await loadAdapterModule(module);

const main = new Writer(first, async () => await create(store), count, report);
const workers = Array.from({ length: threads }, (_, i) => {
  const worker = new Worker(new URL("./_writer_thread.ts", import.meta.url), { type: "module" });
  const ready = Promise.withResolvers<void>();
  const done = Promise.withResolvers<void>();
  worker.onmessage = (event: MessageEvent) => {
    const message = event.data as Record<string, unknown>;
    report(message);
    if (message.kind === "ready") ready.resolve();
    if (message.kind === "done") done.resolve();
    if (message.kind === "error" && message.what === undefined) {
      // The Worker failed before it could write: it will never be ready or done.
      ready.resolve();
      done.resolve();
    }
  };
  worker.onerror = (event) => {
    event.preventDefault();
    report({ kind: "error", writer: first + 1 + i, message: `Worker failed: ${event.message}` });
    ready.resolve();
    done.resolve();
  };
  worker.postMessage({ kind: "init", module, store, writer: first + 1 + i, count });
  return { worker, ready: ready.promise, done: done.promise };
});

await main.start();
report({ kind: "ready", writer: first });
await Promise.all(workers.map((w) => w.ready));
report({ kind: "process-ready", pid: Deno.pid });

await readStdinLines((line) => {
  const [kind, step, time] = line.split(" ");
  const command =
    (kind === "go" ? { kind } : { kind, step: Number(step), time: Number(time) }) as Command;
  if (kind !== "go" && kind !== "contest" && kind !== "agree") {
    report({ kind: "error", writer: first, message: `unknown command ${JSON.stringify(line)}` });
    return;
  }
  main.command(command);
  for (const { worker } of workers) worker.postMessage(command);
});

for (const { worker } of workers) worker.postMessage({ kind: "finish" });
await main.finish();
await Promise.all(workers.map((w) => w.done));
for (const { worker } of workers) worker.terminate();
report({ kind: "process-done" });
