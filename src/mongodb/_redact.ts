// Keeps credentials out of every message and error the MongoDB adapter produces. Driver
// messages and stacks are scrubbed before they are quoted, and driver errors are never
// attached as they are: a `cause` is a scrubbed copy holding only name, message, stack and
// code, so nothing reachable from a thrown error (including inspected properties such as
// a topology description) can hold a password.

/** Shorter secrets would match ordinary text; a message containing one is withheld. */
const MIN_REPLACEABLE = 4;
const WITHHELD = "(details withheld: they might contain a credential)";
const MAX_CAUSE_DEPTH = 4;

/** Removes secrets from text. */
export class Redactor {
  readonly #secrets: string[];
  readonly #display: string;
  readonly #uri: string;

  /**
   * @param uri The raw connection string; replaced by `display` wherever it appears.
   * @param display The connection string as messages may show it.
   * @param secrets Passwords and tokens, in every encoding they might appear in.
   */
  constructor(uri: string, display: string, secrets: readonly string[]) {
    this.#uri = uri;
    this.#display = display;
    // Longest first, so a secret containing another is replaced whole.
    this.#secrets = [...new Set(secrets)].filter((s) => s !== "").sort((a, b) =>
      b.length - a.length
    );
  }

  /**
   * The text with every secret replaced by `***`, or a note that it was withheld when a
   * secret is too short to replace safely.
   */
  text(text: string): string {
    let out = text.split(this.#uri).join(this.#display);
    for (const secret of this.#secrets) {
      if (!out.includes(secret)) continue;
      if (secret.length < MIN_REPLACEABLE) return WITHHELD;
      out = out.split(secret).join("***");
    }
    return out;
  }

  /** A one-line description of a driver error, `Name: message`, scrubbed. */
  describe(error: unknown): string {
    const text = error instanceof Error
      ? `${error.name && error.name !== "Error" ? `${error.name}: ` : ""}${error.message}`
      : String(error);
    // Messages are quoted inside ours, which go on after them: one line, no final period.
    return this.text(text).replace(/\s*\n\s*/g, " ").replace(/\.+$/, "");
  }

  /**
   * A copy of a driver error safe to attach as a `cause`: its name, message, stack, `code`
   * and `codeName`, scrubbed, with its own cause copied the same way.
   */
  error(error: unknown, depth = 0): Error {
    if (!(error instanceof Error)) return new Error(this.text(String(error)));
    const cause = error.cause !== undefined && depth < MAX_CAUSE_DEPTH
      ? this.error(error.cause, depth + 1)
      : undefined;
    const copy = new Error(
      this.text(error.message),
      cause === undefined ? undefined : { cause },
    ) as Error & { code?: unknown; codeName?: unknown };
    copy.name = this.text(String(error.name));
    copy.stack = typeof error.stack === "string"
      ? this.text(error.stack)
      : `${copy.name}: ${copy.message}`;
    const { code, codeName } = error as { code?: unknown; codeName?: unknown };
    if (typeof code === "string" || typeof code === "number") {
      copy.code = typeof code === "string" ? this.text(code) : code;
    }
    if (typeof codeName === "string") copy.codeName = this.text(codeName);
    return copy;
  }
}
