// Record ids: validation, the id → file-name encoding, and a seeded fuzz of hostile ids
// against the properties the file backend promises (no escape, no collision even on
// case-insensitive or normalizing file systems, names that fit, exact round trips).

import { assert, assertEquals, assertMatch, assertThrows } from "@std/assert";
import { createHash } from "node:crypto";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import { FileStorageAdapter, ValidationError } from "../mod.ts";
import { assertId, idToFileStem, MAX_ID_LENGTH } from "../src/ids.ts";
import { compareCodePoints } from "../src/query.ts";
import { allSettled, makeHistory, makeProgram, prng, withTempDir } from "./_utils.ts";

// ---------------------------------------------------------------------------------------
// assertId

Deno.test("assertId() accepts non-empty, well-formed strings of up to 256 code units", () => {
  for (
    const id of [
      "a",
      " ",
      "\0",
      "..",
      "/",
      "CON",
      "😀",
      "x".repeat(MAX_ID_LENGTH),
      `${"x".repeat(MAX_ID_LENGTH - 2)}😀`,
    ]
  ) {
    assertId(id, "Cannot save program");
  }
});

Deno.test("assertId() rejects other values with a ValidationError naming the field", () => {
  const cases: [unknown, RegExp][] = [
    ["", /is empty/],
    ["x".repeat(MAX_ID_LENGTH + 1), /is 257 UTF-16 code units long/],
    [`${"x".repeat(MAX_ID_LENGTH - 1)}😀`, /is 257 UTF-16 code units long/],
    ["\uD800", /lone surrogate/],
    ["a\uDC00", /lone surrogate/],
    ["\uDE00\uD83D", /lone surrogate/],
    [undefined, /is missing/],
    [null, /is null/],
    [1, /is a number/],
    [1n, /is a bigint/],
    [true, /is a boolean/],
    [Symbol("id"), /is a symbol/],
    [{}, /is an object/],
    [["a"], /is an object/],
    [new String("a"), /is an object/],
  ];
  for (const [id, problem] of cases) {
    const error = assertThrows(
      () => assertId(id, "Cannot save program", "programId"),
      ValidationError,
    );
    assertMatch(error.message, /^Cannot save program: programId /);
    assertMatch(error.message, problem);
    assertMatch(error.message, /pass a non-empty, well-formed string of at most 256/);
    assertEquals(error.code, "VALIDATION");
  }
});

// ---------------------------------------------------------------------------------------
// idToFileStem

Deno.test("idToFileStem() keeps plain ids verbatim", () => {
  for (const id of ["hello", "e1", "a.b", "my-prog_2.v1", "_", "-", "0", "com10", "console"]) {
    assertEquals(idToFileStem(id), id);
  }
});

Deno.test("idToFileStem() encodes every other id readably", () => {
  const cases: [string, string][] = [
    ["My File", "~^my%20^file"],
    ["CON", "~^c^o^n"],
    ["con", "~con"],
    ["nul.txt", "~nul.txt"],
    ["lpt9", "~lpt9"],
    ["a.", "~a%2e"],
    [".a", "~%2ea"],
    [".", "~%2e"],
    ["..", "~%2e%2e"],
    ["...", "~%2e.%2e"],
    ["../x", "~%2e.%2fx"],
    ["a\\b", "~a%5cb"],
    ["a\0b", "~a%00b"],
    ["a ", "~a%20"],
    ["~", "~%7e"],
    ["%", "~%25"],
    ["^", "~%5e"],
    ["ü", "~%c3%bc"],
    ["😀", "~%f0%9f%98%80"],
  ];
  for (const [id, stem] of cases) assertEquals(idToFileStem(id), stem, id);
});

Deno.test("idToFileStem() shortens long names to a readable prefix and a SHA-256", () => {
  assertEquals(idToFileStem("a".repeat(250)), "a".repeat(250));
  const sha = (id: string) => createHash("sha256").update(id, "utf8").digest("hex");
  const long = "a".repeat(251);
  assertEquals(idToFileStem(long), `${"a".repeat(185)}~${sha(long)}`);
  const upper = "A".repeat(256);
  assertEquals(idToFileStem(upper), `~${"^a".repeat(92)}~${sha(upper)}`);
  // A %xx escape is never cut in half.
  const accents = "é".repeat(256);
  const stem = idToFileStem(accents);
  assertMatch(stem, /^~(%c3%a9)+(%c3)?~[0-9a-f]{64}$/);
  assertEquals(stem.length, 184 + 65);
});

// ---------------------------------------------------------------------------------------
// Fuzz

function fuzzSeed(): number {
  const granted =
    Deno.permissions.querySync({ name: "env", variable: "CVM_FUZZ_SEED" }).state === "granted";
  const override = granted ? Deno.env.get("CVM_FUZZ_SEED") : undefined;
  if (override !== undefined && override !== "") {
    const seed = Number(override);
    if (!Number.isSafeInteger(seed)) throw new Error(`CVM_FUZZ_SEED must be an integer`);
    return seed >>> 0;
  }
  return crypto.getRandomValues(new Uint32Array(1))[0];
}

const PLAIN_CHARS = [..."abcdefghijklmnopqrstuvwxyz0123456789_-."];
const TOKENS = [
  // Separators and traversal.
  "/",
  "\\",
  "..",
  ".",
  "../",
  "..\\",
  ":",
  "C:\\",
  "//",
  // NUL, control characters (C0, DEL, C1) and odd whitespace.
  "\0",
  ...Array.from({ length: 31 }, (_, i) => String.fromCharCode(i + 1)),
  "\x7f",
  "\x85",
  "\x9f",
  " ",
  "\u00a0",
  "\u2028",
  "\u3000",
  "\u200b",
  "\ufeff",
  "\u202e",
  // Characters Windows forbids, and the encoding's own markers.
  "<",
  ">",
  '"',
  "|",
  "?",
  "*",
  "~",
  "%",
  "^",
  "%2e",
  "^a",
  "~0",
  // Case: ASCII and beyond (case-folding pairs, titlecase, dotted and dotless i).
  "A",
  "Z",
  "a",
  "z",
  "É",
  "é",
  "ß",
  "ẞ",
  "İ",
  "ı",
  "ǅ",
  "Σ",
  "σ",
  "ς",
  "K",
  "k",
  "\u212a", // Kelvin sign, folds to k
  // Normalization: composed/decomposed, compatibility forms.
  "e\u0301",
  "\u00c5",
  "\u212b", // Angstrom sign, NFC → Å
  "\u2126", // Ohm sign, NFC → Ω
  "ﬁ",
  "①",
  "Ⅸ",
  "ｆ",
  "ᾳ",
  "\uffff",
  "\ue000",
  "\ufffd",
  // Astral: emoji (with joiners), math letters (NFKC → ASCII), a case-folding pair.
  "😀",
  "🏳️‍🌈",
  "𝒜",
  "𝟘",
  "\u{10400}",
  "\u{10428}",
  "\u{10ffff}",
];
const DEVICES = [
  "CON",
  "PRN",
  "AUX",
  "NUL",
  ...Array.from({ length: 10 }, (_, i) => `COM${i}`),
  ...Array.from({ length: 10 }, (_, i) => `LPT${i}`),
  "COM¹",
  "COM²",
  "COM³",
  "LPT¹",
  "LPT²",
  "LPT³",
  "CONIN$",
  "CONOUT$",
  "CLOCK$",
];
const WINDOWS_RESERVED = new Set(DEVICES.map((name) => name.toUpperCase()));

/** Cuts `id` to at most `max` code units without splitting a surrogate pair. */
function cut(id: string, max = MAX_ID_LENGTH): string {
  if (id.length <= max) return id;
  const end = /[\uD800-\uDBFF]/.test(id[max - 1]) ? max - 1 : max;
  return id.slice(0, end);
}

/** Generates groups of related ids: an id with its case and normalization variants. */
function* generateIds(random: () => number): Generator<string[]> {
  const int = (n: number) => Math.floor(random() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)];
  const randomCase = (s: string) =>
    [...s].map((c) => random() < 0.5 ? c.toLowerCase() : c.toUpperCase()).join("");
  const plain = (n: number) => Array.from({ length: n }, () => pick(PLAIN_CHARS)).join("");
  const length = () => {
    const r = random();
    return r < 0.6 ? 1 + int(12) : r < 0.9 ? 1 + int(MAX_ID_LENGTH) : 240 + int(17);
  };
  const shapes: (() => string)[] = [
    // A mix of hostile tokens and plain characters.
    () => {
      const n = length();
      let id = "";
      while (id.length < n) id += random() < 0.4 ? pick(TOKENS) : plain(1 + int(3));
      return cut(id, n);
    },
    // Plain-looking ids, which are stored verbatim unless they break a rule.
    () => plain(length()),
    // Windows device names, any case, with or without an extension, dots or spaces.
    () =>
      randomCase(pick(DEVICES)) +
      pick(["", "", ".", ". ", " ", "  ", ".txt", ".json", ".tar.gz", "..", " .x", "1"]),
    // Trailing (and leading) dots and spaces.
    () =>
      pick(["", "", ".", " ", ". "]) + plain(1 + int(8)) +
      Array.from({ length: 1 + int(3) }, () => pick([".", " "])).join(""),
    // Traversal.
    () => Array.from({ length: 1 + int(6) }, () => pick(["..", ".", "/", "\\", "x"])).join(""),
    // Long ids around the 250-byte limit: 1-, 2-, 3- and 4-byte characters escaped.
    () => {
      const unit = pick(["a", "A", "%", "é", "€", "😀", " "]);
      return cut(plain(int(8)) + unit.repeat(MAX_ID_LENGTH));
    },
    () => cut(plain(230 + int(30))),
    // Unicode only, astral included.
    () => {
      const n = 1 + int(20);
      let id = "";
      while (id.length < n) id += pick(TOKENS.slice(TOKENS.indexOf("É")));
      return cut(id);
    },
  ];
  while (true) {
    const id = pick(shapes)();
    // Cutting before an astral character can leave nothing.
    if (id.length === 0) continue;
    const group = new Set([id]);
    for (
      const variant of [
        id.toLowerCase(),
        id.toUpperCase(),
        randomCase(id),
        id.normalize("NFC"),
        id.normalize("NFD"),
        id.normalize("NFKC"),
        id.normalize("NFKD"),
      ]
    ) {
      if (variant.length > 0 && variant.length <= MAX_ID_LENGTH) group.add(variant);
    }
    yield [...group];
  }
}

const ID_COUNT = 12_000;
const ROUND_TRIP_SAMPLE = 2_000;

/** Every id, grouped with its variants; at least `ID_COUNT` distinct ids. */
function fuzzIds(seed: number): string[][] {
  const seen = new Set<string>();
  const groups: string[][] = [];
  for (const group of generateIds(prng(seed))) {
    const fresh = group.filter((id) => !seen.has(id));
    for (const id of fresh) {
      assertId(id, "fuzz");
      seen.add(id);
    }
    if (fresh.length > 0) groups.push(fresh);
    if (seen.size >= ID_COUNT) return groups;
  }
  return groups;
}

/** What a Windows or macOS file system may treat as the same name. */
const FOLDS: [string, (name: string) => string][] = [
  ["identity", (s) => s],
  ["toLowerCase", (s) => s.toLowerCase()],
  ["toUpperCase", (s) => s.toUpperCase()],
  ["NFC", (s) => s.normalize("NFC")],
  ["NFD", (s) => s.normalize("NFD")],
  ["NFKC", (s) => s.normalize("NFKC")],
  ["NFKD", (s) => s.normalize("NFKD")],
  ["NFKC + toLowerCase", (s) => s.normalize("NFKC").toLowerCase()],
  ["toUpperCase + NFD + toLowerCase", (s) => s.toUpperCase().normalize("NFD").toLowerCase()],
];

const utf8 = new TextEncoder();

/** Why `name` is not a safe path component on every platform, or `undefined`. */
function unsafeComponent(name: string): string | undefined {
  if (name === "" || name === "." || name === "..") return "is empty, . or ..";
  if (utf8.encode(name).length > 255) return "is longer than 255 bytes";
  // deno-lint-ignore no-control-regex
  if (/[\x00-\x1f\x7f<>:"/\\|?*]/.test(name)) return "holds a character Windows forbids";
  if (/[. ]$/.test(name)) return "ends in a dot or space";
  const base = name.split(".")[0].replace(/ +$/, "").toUpperCase();
  if (WINDOWS_RESERVED.has(base)) return "is a Windows device name";
  return undefined;
}

const seed = fuzzSeed();
const groups = fuzzIds(seed);
const ids = groups.flat();

Deno.test(`idToFileStem() fuzz: ${ID_COUNT}+ hostile ids (seed ${seed})`, () => {
  console.log(
    `idToFileStem() fuzz: ${ids.length} ids in ${groups.length} groups, seed ${seed} ` +
      `(set CVM_FUZZ_SEED=${seed} and --allow-env to replay)`,
  );
  assert(ids.length >= 10_000);
  const dataDir = resolve("/data/cvm");
  const stems = ids.map((id) => idToFileStem(id));
  let shortened = 0;
  for (const [i, id] of ids.entries()) {
    const stem = stems[i];
    const context = `id ${JSON.stringify(id)} → stem ${JSON.stringify(stem)} (seed ${seed})`;
    assertEquals(idToFileStem(id), stem, `not deterministic: ${context}`);
    for (const name of [stem, `${stem}.json`]) {
      const problem = unsafeComponent(name);
      assert(problem === undefined, `${JSON.stringify(name)} ${problem}: ${context}`);
    }
    if (
      /^[a-z0-9_-](?:[a-z0-9_.-]*[a-z0-9_-])?$/.test(id) && !WINDOWS_RESERVED.has(
        id.split(".")[0].toUpperCase(),
      ) && id.length <= 250
    ) {
      assertEquals(stem, id, `a plain id is not verbatim: ${context}`);
    }
    if (stem.length > 0 && /~[0-9a-f]{64}$/.test(stem) && stem.indexOf("~", 1) > 0) shortened++;
    for (
      const path of [
        join(dataDir, "programs", `${stem}.json`),
        join(dataDir, "history", stem, "1767323045678-3.json"),
      ]
    ) {
      const inside = relative(dataDir, resolve(path));
      assert(!inside.startsWith("..") && !isAbsolute(inside), `escapes: ${context}`);
    }
    assertEquals(dirname(resolve(dataDir, "programs", `${stem}.json`)), join(dataDir, "programs"));
    assertEquals(
      dirname(resolve(dataDir, "history", stem, "1-1.json")),
      join(dataDir, "history", stem),
    );
  }
  assert(shortened > 100, `only ${shortened} ids were long enough to be shortened`);
  for (const [fold, f] of FOLDS) {
    const owners = new Map<string, string>();
    for (const [i, id] of ids.entries()) {
      const key = f(stems[i]);
      const other = owners.get(key);
      assert(
        other === undefined,
        `ids ${JSON.stringify(other)} and ${JSON.stringify(id)} share file name ` +
          `${JSON.stringify(key)} under ${fold} (seed ${seed})`,
      );
      owners.set(key, id);
    }
  }
});

Deno.test(`FileStorageAdapter round-trips ${ROUND_TRIP_SAMPLE} fuzzed ids (seed ${seed})`, async () => {
  // Whole groups, so that case and normalization variants share a directory.
  const sample: string[] = [];
  for (const group of groups) {
    if (sample.length >= ROUND_TRIP_SAMPLE) break;
    sample.push(...group);
  }
  await withTempDir(async (root) => {
    const dataDir = join(root, "data");
    const storage = new FileStorageAdapter({ dataDir, fsync: false });
    await storage.connect();
    const batch = 64;
    for (let i = 0; i < sample.length; i += batch) {
      await allSettled(
        sample.slice(i, i + batch).map(async (id, j) => {
          await storage.saveProgram(makeProgram({ id, name: `#${i + j}` }));
          if ((i + j) % 10 === 0) await storage.saveHistory(makeHistory({ executionId: id }));
        }),
      );
    }
    for (let i = 0; i < sample.length; i += batch) {
      await allSettled(
        sample.slice(i, i + batch).map(async (id, j) => {
          const context = `id ${JSON.stringify(id)} (seed ${seed})`;
          assertEquals(
            await storage.getProgram(id),
            makeProgram({ id, name: `#${i + j}` }),
            context,
          );
          if ((i + j) % 10 === 0) {
            assertEquals(await storage.getHistory(id), [makeHistory({ executionId: id })], context);
          }
        }),
      );
    }
    const listed = (await storage.listPrograms()).map((program) => program.id);
    assertEquals(listed, [...sample].sort(compareCodePoints));
    // One file per id, each where its stem says, and nothing outside the data directory.
    const files: string[] = [];
    for await (const entry of Deno.readDir(join(dataDir, "programs"))) files.push(entry.name);
    assertEquals(files.sort(), sample.map((id) => `${idToFileStem(id)}.json`).sort());
    const top: string[] = [];
    for await (const entry of Deno.readDir(root)) top.push(entry.name);
    assertEquals(top, ["data"]);
    await storage.disconnect();
  });
});
