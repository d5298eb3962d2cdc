// What `verify` found: problems (the store is not as it should be) and notes (worth
// knowing, not wrong), each with the path or key it is about, and what a repair did.

/** One thing `verify` found. */
export interface Finding {
  /** `problem`: something is wrong; `note`: worth knowing, nothing wrong. */
  severity: "problem" | "note";
  /** The file or directory, relative to the data directory, or the collection. */
  where: string;
  /** What is wrong or worth knowing. */
  message: string;
  /** What `--repair` did about it, if anything. */
  repaired?: string;
}

/** Collects findings. */
export class Findings {
  /** Everything found, in order. */
  readonly list: Finding[] = [];

  /**
   * Records a problem.
   *
   * @param where Its path or key.
   * @param message What is wrong.
   * @returns The finding, to note a repair on.
   */
  problem(where: string, message: string): Finding {
    const finding: Finding = { severity: "problem", where, message };
    this.list.push(finding);
    return finding;
  }

  /**
   * Records a note.
   *
   * @param where Its path or key.
   * @param message What is worth knowing.
   * @returns The finding.
   */
  note(where: string, message: string): Finding {
    const finding: Finding = { severity: "note", where, message };
    this.list.push(finding);
    return finding;
  }
}
