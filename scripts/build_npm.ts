// Builds the published entry points into `dist/`, the JavaScript package a Node.js user
// receives: one `.js` and one `.d.ts` per source module (the shape JSR's npm compatibility
// layer serves), relative `.ts` imports rewritten to `.js`, and `import("mongodb")` left
// as the bare, lazy specifier it is in the source. `mongodb` is an optional peer
// dependency, so installing the package never installs or loads the driver.
//
// Why TypeScript's `tsc` rather than `deno bundle --platform node` (Deno 2.9.6):
// - `deno bundle --packages external` still inlines `mongodb` (1.5 MB) because the source
//   reaches it through the import map (`mongodb` -> `npm:mongodb@^7`); only an explicit
//   `--external mongodb` keeps it out, and a later npm import would be inlined silently.
// - Its `--declaration` writes one `mod.d.ts` per entry name, so the testing entry's
//   overwrites the main one, and it keeps `import type` paths to modules it did not emit.
// - Bundling two entries duplicates shared modules unless `--code-splitting` is on; a
//   second copy of `errors.ts` would break `instanceof ConflictError` across entries.
// A per-file emit has none of these failure modes: modules are the source modules, types
// come from the compiler, and a bare specifier can never be pulled in.
//
// Type checking is `deno check`'s job (tsc here lacks Deno's and Node's types), so tsc runs
// with `--noCheck`; the emitted declarations are type-checked as a consumer sees them.
//
// Usage: deno run --allow-read --allow-write --allow-run --allow-env scripts/build_npm.ts

import { dirname, join, relative } from "node:path";

/** The TypeScript compiler used to emit; pinned so builds are reproducible. */
const TYPESCRIPT = "npm:typescript@5.9.3/tsc";

interface DenoConfig {
  name: string;
  version: string;
  license?: string;
  exports: Record<string, string>;
}

const root = join(import.meta.dirname!, "..");
const outDir = join(root, "dist");
const config: DenoConfig = JSON.parse(await Deno.readTextFile(join(root, "deno.json")));
const entries = Object.entries(config.exports).map(([key, source]) => ({
  key,
  source: source.replace(/^\.\//, ""),
  js: "./" + source.replace(/^\.\//, "").replace(/\.ts$/, ".js"),
  dts: "./" + source.replace(/^\.\//, "").replace(/\.ts$/, ".d.ts"),
}));

async function tsc(args: string[], cwd: string): Promise<void> {
  const { code } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--no-config",
      "--no-lock",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      TYPESCRIPT,
      ...args,
    ],
    cwd,
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (code !== 0) throw new Error(`tsc ${args.join(" ")} failed with exit code ${code}`);
}

async function* walk(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) yield* walk(path);
    else if (entry.isFile) yield path;
  }
}

// `rewriteRelativeImportExtensions` rewrites the JavaScript only; declarations keep the
// `.ts` paths. TypeScript maps those to the `.d.ts` files, but they name files the package
// does not contain, so point them at the `.js` files beside the declarations.
const RELATIVE_TS = /((?:from|import)\s*\(?\s*["'])(\.{1,2}\/[^"']*?)\.ts(["'])/g;
const STATIC_MONGODB = /^\s*(?:import|export)\b[^;]*?\bfrom\s*["']mongodb(?:\/[^"']*)?["']/m;
const SIDE_EFFECT_MONGODB = /^\s*import\s*["']mongodb(?:\/[^"']*)?["']/m;

await Deno.remove(outDir, { recursive: true }).catch((error) => {
  if (!(error instanceof Deno.errors.NotFound)) throw error;
});

await tsc([
  "--target",
  "es2022",
  "--module",
  "esnext",
  "--moduleResolution",
  "bundler",
  "--rewriteRelativeImportExtensions",
  "--allowImportingTsExtensions",
  "--declaration",
  "--noCheck",
  "--skipLibCheck",
  "--newLine",
  "lf",
  "--rootDir",
  ".",
  "--outDir",
  outDir,
  ...entries.map((entry) => entry.source),
], root);

const problems: string[] = [];
let files = 0;
for await (const path of walk(outDir)) {
  const name = relative(outDir, path);
  if (path.endsWith(".d.ts")) {
    const text = await Deno.readTextFile(path);
    const rewritten = text.replace(RELATIVE_TS, "$1$2.js$3");
    if (rewritten !== text) await Deno.writeTextFile(path, rewritten);
  } else if (path.endsWith(".js")) {
    files++;
    const text = await Deno.readTextFile(path);
    for (const match of text.matchAll(RELATIVE_TS)) {
      problems.push(`${name} still imports "${match[2]}.ts"`);
    }
    if (STATIC_MONGODB.test(text) || SIDE_EFFECT_MONGODB.test(text)) {
      problems.push(`${name} imports "mongodb" statically; only \`await import("mongodb")\` may`);
    }
  }
}
for (const entry of entries) {
  for (const file of [entry.js, entry.dts]) {
    try {
      await Deno.stat(join(outDir, file));
    } catch {
      problems.push(`entry "${entry.key}" was not emitted: ${file} is missing`);
    }
  }
}
if (problems.length > 0) {
  throw new Error(`The npm build is wrong:\n  ${problems.join("\n  ")}`);
}

const manifest = {
  name: config.name,
  version: config.version,
  description:
    "Storage for CVM programs, executions and execution history: JSON files, MongoDB or memory",
  license: config.license ?? "MIT",
  private: true,
  type: "module",
  engines: { node: ">=20.19" },
  sideEffects: false,
  exports: Object.fromEntries(
    entries.map((entry) => [entry.key, { types: entry.dts, default: entry.js }]),
  ),
  bin: { "cvm-storage": "./bin/cvm-storage.js" },
  peerDependencies: { mongodb: "^7" },
  peerDependenciesMeta: { mongodb: { optional: true } },
};
await Deno.writeTextFile(join(outDir, "package.json"), JSON.stringify(manifest, null, 2) + "\n");
// The `cvm-storage` command: a program that runs the `./cli` entry's main(). The entry
// itself only runs when it is the main module (`import.meta.main`), which Node lacks.
const cli = entries.find((entry) => entry.key === "./cli");
if (cli === undefined) {
  throw new Error('deno.json exports no "./cli" entry for the cvm-storage bin');
}
await Deno.mkdir(join(outDir, "bin"));
await Deno.writeTextFile(
  join(outDir, "bin", "cvm-storage.js"),
  `#!/usr/bin/env node
// The cvm-storage command of ${config.name}: see ${config.name}/cli.
import process from "node:process";
import { main } from "..${cli.js.slice(1)}";

process.exitCode = await main(process.argv.slice(2));
`,
  { mode: 0o755 },
);
for (const file of ["README.md", "LICENSE"]) {
  await Deno.copyFile(join(root, file), join(outDir, file)).catch((error) => {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  });
}

// Type-check the declarations the way a Node TypeScript user resolves them: through the
// package's `exports` from `node_modules`, with strict settings and no ambient types.
const consumer = await Deno.makeTempDir({ prefix: "cvm-storage-dts-" });
try {
  const packageDir = join(consumer, "node_modules", ...config.name.split("/"));
  await Deno.mkdir(dirname(packageDir), { recursive: true });
  await Deno.symlink(outDir, packageDir, { type: "dir" });
  const imports = entries.map((entry, index) =>
    `import * as entry${index} from "${join(config.name, entry.key)}";\n` +
    `export const keys${index}: string[] = Object.keys(entry${index});\n`
  );
  // The two entry points' types must fit together, as an adapter author uses them.
  const usage = `
import { MemoryStorageAdapter, type StorageAdapter } from "${config.name}";
import { testStorageAdapter } from "${config.name}/testing";
const adapter: StorageAdapter = new MemoryStorageAdapter();
testStorageAdapter({ name: "memory", test: () => {}, createAdapter: () => adapter });
`;
  await Deno.writeTextFile(join(consumer, "consumer.mts"), imports.join("") + usage);
  const tsconfig = {
    compilerOptions: {
      noEmit: true,
      strict: true,
      target: "es2022",
      // StorageAdapter extends AsyncDisposable (`await using`), which TypeScript declares
      // in esnext.disposable: a consumer's TypeScript needs it too (TypeScript >= 5.2).
      lib: ["es2022", "esnext.disposable"],
      module: "nodenext",
      moduleResolution: "nodenext",
      types: [],
      skipLibCheck: false,
    },
    files: ["consumer.mts"],
  };
  await Deno.writeTextFile(join(consumer, "tsconfig.json"), JSON.stringify(tsconfig));
  await tsc(["--project", "tsconfig.json"], consumer);
} finally {
  await Deno.remove(consumer, { recursive: true });
}

console.log(
  `Built ${config.name}@${config.version} into ${relative(Deno.cwd(), outDir) || "."}: ` +
    `${files} modules, entries ${entries.map((entry) => `"${entry.key}"`).join(", ")}`,
);
