// Where a command writes: stdout for results, stderr for progress and errors, each awaiting
// the stream so that a large export never buffers in memory. A progress display redraws
// one line on a terminal and prints plain lines otherwise.

import { type EventEmitter, once } from "node:events";
import process from "node:process";

/** The streams and environment a command runs with. */
export interface Io {
  /** Writes to standard output. */
  stdout(text: string): Promise<void>;
  /** Writes to standard error. */
  stderr(text: string): Promise<void>;
  /** Whether standard error is a terminal: progress redraws one line. */
  interactive: boolean;
  /** The environment, for the store `createStorage()` would open. */
  env: Record<string, string | undefined> | undefined;
}

interface NodeWritable {
  write(chunk: string): boolean;
  once(event: string, listener: () => void): unknown;
  isTTY?: boolean;
}

/**
 * A writer for a Node-style stream that waits for `drain` when the stream is full.
 *
 * @param stream `process.stdout` or `process.stderr`.
 * @returns The writer.
 */
export function streamWriter(stream: NodeWritable): (text: string) => Promise<void> {
  return async (text) => {
    if (!stream.write(text)) await once(stream as unknown as EventEmitter, "drain");
  };
}

/** The process's own streams. */
export function processIo(): Io {
  return {
    stdout: streamWriter(process.stdout),
    stderr: streamWriter(process.stderr),
    interactive: process.stderr.isTTY === true,
    env: undefined,
  };
}

/**
 * Collects written text into memory, for `--out` buffers and tests.
 *
 * @returns The writer and the text written so far.
 */
export function collector(): { write(text: string): Promise<void>; text(): string } {
  const chunks: string[] = [];
  return {
    write(text) {
      chunks.push(text);
      return Promise.resolve();
    },
    text: () => chunks.join(""),
  };
}

/** How often a terminal progress line is redrawn, and a plain one printed at most. */
const REDRAW_MS = 100;
const PLAIN_MS = 5000;
const BAR_WIDTH = 24;

/**
 * Shows how far a long command is: on a terminal, one line redrawn in place with a bar;
 * otherwise a plain line when a tenth more is done, or every few seconds.
 */
export class Progress {
  readonly #io: Io;
  readonly #label: string;
  #total = 0;
  #lastDraw = 0;
  #lastTenth = -1;
  #drawn = false;
  #pending: Promise<void> = Promise.resolve();
  readonly #plain: boolean;

  /**
   * @param io Where to write.
   * @param label What is being done, e.g. `Copying`.
   * @param options `plain: false` shows nothing when standard error is not a terminal.
   */
  constructor(io: Io, label: string, options: { plain?: boolean } = {}) {
    this.#io = io;
    this.#label = label;
    this.#plain = options.plain ?? true;
  }

  /** Sets the total the bar measures against. */
  setTotal(total: number): void {
    this.#total = total;
  }

  /**
   * Reports progress; cheap to call often.
   *
   * @param done How many of the total are done.
   * @param detail Counts to show after the bar.
   */
  update(done: number, detail: string): void {
    const now = Date.now();
    const fraction = this.#total > 0 ? Math.min(1, done / this.#total) : 0;
    if (this.#io.interactive) {
      if (now - this.#lastDraw < REDRAW_MS && done < this.#total) return;
      this.#lastDraw = now;
      const filled = Math.round(fraction * BAR_WIDTH);
      const bar = `[${"#".repeat(filled)}${".".repeat(BAR_WIDTH - filled)}]`;
      const percent = `${Math.floor(fraction * 100)}%`.padStart(4);
      this.#write(`\r\x1b[K${this.#label} ${bar} ${percent} ${done}/${this.#total} ${detail}`);
      this.#drawn = true;
      return;
    }
    if (!this.#plain) return;
    const tenth = Math.floor(fraction * 10);
    if (tenth === this.#lastTenth && now - this.#lastDraw < PLAIN_MS) return;
    this.#lastTenth = tenth;
    this.#lastDraw = now;
    this.#write(
      `${this.#label}: ${done}/${this.#total} (${Math.floor(fraction * 100)}%) ${detail}\n`,
    );
  }

  /**
   * Ends the progress display: a terminal line is finished with a newline.
   *
   * @returns When everything is written.
   */
  async end(): Promise<void> {
    if (this.#drawn) this.#write("\n");
    this.#drawn = false;
    await this.#pending;
  }

  #write(text: string): void {
    this.#pending = this.#pending.then(() => this.#io.stderr(text)).catch(() => {});
  }
}

/**
 * Lays out rows as columns: the first column left-aligned, numbers right-aligned.
 *
 * @param rows The rows; the first is the header.
 * @param indent Spaces before each row.
 * @returns The lines, each ending in a newline.
 */
export function table(rows: readonly (readonly string[])[], indent = 2): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => widths[i] = Math.max(widths[i] ?? 0, cell.length));
  }
  const numeric = (cell: string) => /^-?[\d,.]+( [KMG]?i?B)?$/.test(cell);
  return rows.map((row) =>
    " ".repeat(indent) +
    row.map((cell, i) => i > 0 && numeric(cell) ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))
      .join("  ").trimEnd() +
    "\n"
  ).join("");
}

/**
 * A byte count for people: `512 B`, `1.5 KiB`, `20.3 MiB`.
 *
 * @param bytes The count.
 * @returns The text.
 */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/**
 * A value as JSON text for `--json` output, ending in a newline.
 *
 * @param value The value.
 * @returns The text.
 */
export function jsonText(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
