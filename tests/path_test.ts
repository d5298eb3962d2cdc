// src/_path.ts gives the same answers as node:path on POSIX systems, for paths made of
// every kind of segment (empty, ".", "..", repeated and trailing slashes).

import { assertEquals } from "@std/assert";
import { posix } from "node:path";
import { dirname, join, resolve } from "../src/_path.ts";
import { prng } from "./_utils.ts";

const SEGMENTS = ["", ".", "..", "a", "bc", "~x", ".cvm", "a.", "é", " ", "...", "/", "//"];

function randomPath(random: () => number): string {
  const count = Math.floor(random() * 6);
  let path = random() < 0.4 ? "/" : "";
  for (let i = 0; i < count; i++) {
    path += SEGMENTS[Math.floor(random() * SEGMENTS.length)];
    if (random() < 0.8) path += "/".repeat(1 + Math.floor(random() * 2));
  }
  if (random() < 0.3) path = path.replace(/\/+$/, "");
  return path;
}

Deno.test({
  name: "join(), dirname() and resolve() answer as node:path does on POSIX",
  ignore: Deno.build.os === "windows",
  fn() {
    const random = prng(20260102);
    for (let i = 0; i < 20_000; i++) {
      const paths = Array.from({ length: 1 + Math.floor(random() * 3) }, () => randomPath(random));
      assertEquals(join(...paths), posix.join(...paths), `join(${JSON.stringify(paths)})`);
      assertEquals(dirname(paths[0]), posix.dirname(paths[0]), `dirname(${paths[0]})`);
      assertEquals(resolve(...paths), posix.resolve(...paths), `resolve(${JSON.stringify(paths)})`);
    }
    assertEquals(join(), posix.join());
    assertEquals(resolve(), posix.resolve());
  },
});
