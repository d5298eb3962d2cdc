/**
 * A Worker of a writer process in the kit's concurrency test: one more writer sharing the
 * process (and its process id) with the main thread's writer. It gets
 * `{ kind: "init", module, store, writer, count }`, then the parent's commands, then
 * `{ kind: "finish" }`; it posts its reports to the main thread.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { loadAdapterModule } from "./_adapter_module.ts";
import { type Command, Writer } from "./_writer.ts";

let writer: Writer | undefined;

self.onmessage = async (event: MessageEvent) => {
  const message = event.data as
    | Command
    | { kind: "init"; module: string; store: string; writer: number; count: number }
    | { kind: "finish" };
  try {
    if (message.kind === "init") {
      const create = await loadAdapterModule(message.module);
      writer = new Writer(
        message.writer,
        async () => await create(message.store),
        message.count,
        (report) => self.postMessage(report),
      );
      await writer.start();
      self.postMessage({ kind: "ready", writer: message.writer });
    } else if (message.kind === "finish") {
      await writer!.finish();
    } else {
      writer!.command(message);
    }
  } catch (error) {
    self.postMessage({ kind: "error", writer: writer?.writer, message: String(error) });
  }
};
