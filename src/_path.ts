// The path functions the library uses (`join`, `dirname`, `resolve`), without importing
// `node:path` when the library is imported: under Deno, the first `node:` import starts the
// Node compatibility layer, which cost 7.5 ms of the 13 ms that `import "@cvm/storage"`
// added to an empty script. On POSIX systems these are the few lines below, which give the
// same answers as `node:path` (tests/path_test.ts compares them); on Windows, whose paths
// have drive letters and UNC prefixes, they are `node:path`'s own, loaded on first use.

import type * as NodePath from "node:path";
import { builtin, cwd, windows } from "./_runtime.ts";

function win32(): typeof NodePath.win32 {
  return builtin<typeof NodePath>("node:path").win32;
}

/** `path` with `.`, `..` and repeated slashes resolved, as `node:path`'s `normalize`. */
function normalize(path: string): string {
  if (path === "") return ".";
  const absolute = path.startsWith("/");
  const parts: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part !== "..") parts.push(part);
    else if (parts.length > 0 && parts[parts.length - 1] !== "..") parts.pop();
    else if (!absolute) parts.push("..");
  }
  let out = (absolute ? "/" : "") + parts.join("/");
  if (out === "") out = absolute ? "/" : ".";
  if (path.endsWith("/") && out !== "/") out += "/";
  return out;
}

/** Joins path segments and normalizes the result, as `node:path`'s `join`. */
export function join(...paths: string[]): string {
  if (windows) return win32().join(...paths);
  return normalize(paths.filter((path) => path !== "").join("/"));
}

/** The directory part of `path`, as `node:path`'s `dirname` (its algorithm, for POSIX). */
export function dirname(path: string): string {
  if (windows) return win32().dirname(path);
  if (path === "") return ".";
  const rooted = path[0] === "/";
  let end = -1;
  let trailing = true;
  for (let i = path.length - 1; i >= 1; i--) {
    if (path[i] !== "/") trailing = false;
    else if (!trailing) {
      end = i;
      break;
    }
  }
  if (end === -1) return rooted ? "/" : ".";
  if (rooted && end === 1) return "//";
  return path.slice(0, end);
}

/** `paths` resolved to an absolute path, as `node:path`'s `resolve`. */
export function resolve(...paths: string[]): string {
  if (windows) return win32().resolve(...paths);
  let resolved = "";
  for (let i = paths.length - 1; i >= 0 && !resolved.startsWith("/"); i--) {
    if (paths[i] !== "") resolved = resolved === "" ? paths[i] : `${paths[i]}/${resolved}`;
  }
  if (!resolved.startsWith("/")) {
    const dir = cwd();
    resolved = resolved === "" ? dir : `${dir}/${resolved}`;
  }
  const out = normalize(resolved);
  return out.length > 1 && out.endsWith("/") ? out.slice(0, -1) : out;
}

/** The path separator: `\` on Windows, `/` elsewhere. */
export const sep: string = windows ? "\\" : "/";
