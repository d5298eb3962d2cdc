import { assertEquals, assertThrows } from "@std/assert";
import { ValidationError } from "../src/errors.ts";
import {
  checkHistoryQuery,
  checkListQuery,
  checkOutputQuery,
  compareCodePoints,
  selectHistory,
  selectPage,
} from "../src/query.ts";

Deno.test("compareCodePoints() orders as UTF-8 bytes do", () => {
  const ids = ["b", "a", "\uffff", "😀", "\ue000", "é", "A", "", "aa", "\ud7ff"];
  const byBytes = [...ids].sort((x, y) => {
    const a = new TextEncoder().encode(x);
    const b = new TextEncoder().encode(y);
    for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i];
    return a.length - b.length;
  });
  assertEquals([...ids].sort(compareCodePoints), byBytes);
  // JavaScript's own order puts the emoji (a surrogate pair) before U+E000.
  assertEquals(compareCodePoints("😀", "\ue000") > 0, true);
});

const keys = [
  { step: -1, time: 5 },
  { step: 0, time: 1 },
  { step: 1, time: 1 },
  { step: 1, time: 2 },
  { step: 1, time: 3 },
  { step: 2, time: 0 },
  { step: 10, time: 0 },
];
const select = (query: unknown) =>
  selectHistory(keys, checkHistoryQuery(query, "t"), (k) => k).map((k) => `${k.step}@${k.time}`);

Deno.test("selectHistory() applies ranges, cursors, limits and order together", () => {
  assertEquals(select(undefined), ["-1@5", "0@1", "1@1", "1@2", "1@3", "2@0", "10@0"]);
  assertEquals(select({ reverse: true, limit: 1 }), ["10@0"]);
  assertEquals(select({ fromStep: 1, toStep: 2 }), ["1@1", "1@2", "1@3", "2@0"]);
  assertEquals(select({ fromStep: 3, toStep: 2 }), []);
  const at = (step: number, time: number) => ({ step, timestamp: new Date(time) });
  assertEquals(select({ after: at(1, 1), limit: 2 }), ["1@2", "1@3"]);
  assertEquals(select({ after: at(1, 2), reverse: true }), ["1@1", "0@1", "-1@5"]);
  assertEquals(select({ after: at(1, 2), reverse: true, fromStep: 0, limit: 5 }), ["1@1", "0@1"]);
  // A cursor between stored keys works too.
  assertEquals(select({ after: at(1, 1.5 as number), limit: 1 }), ["1@2"]);
  assertEquals(select({ after: at(99, 0) }), []);
  assertEquals(select({ after: at(-99, 0), reverse: true }), []);
});

Deno.test("selectPage() pages after an exclusive cursor", () => {
  const ids = ["a", "b", "c", "d"];
  const page = (query: unknown) => selectPage(ids, checkListQuery(query, "t", false), (i) => i);
  assertEquals(page({ limit: 2 }), ["a", "b"]);
  assertEquals(page({ after: "b", limit: 5 }), ["c", "d"]);
  assertEquals(page({ after: "bb" }), ["c", "d"]);
  assertEquals(page({ after: "" }), ids);
});

Deno.test("check*Query() reject what is not a documented option of the right type", () => {
  const history: unknown[] = [
    null,
    "p1",
    [],
    1,
    { limit: 0 },
    { limit: 1.5 },
    { limit: "1" },
    { limit: Infinity },
    { fromStep: 0.5 },
    { toStep: {} },
    { reverse: "yes" },
    { after: 1 },
    { after: { step: 1 } },
    { after: { step: 1, timestamp: new Date(NaN) } },
    { after: { step: {}, timestamp: new Date() } },
    { unknown: 1 },
    { pageSize: 10 },
  ];
  for (const query of history) {
    assertThrows(() => checkHistoryQuery(query, "t"), ValidationError, undefined, String(query));
  }
  for (const query of [null, "p1", { programId: "" }, { state: 1 }, { after: 1 }, { x: 1 }]) {
    assertThrows(() => checkListQuery(query, "t", true), ValidationError);
  }
  assertThrows(() => checkListQuery({ programId: "p" }, "t", false), ValidationError);
  for (const query of [{ from: -1 }, { from: 1.5 }, { limit: 0 }, { to: 1 }]) {
    assertThrows(() => checkOutputQuery(query, "t"), ValidationError);
  }
  assertEquals(checkHistoryQuery({ limit: undefined }, "t"), { reverse: false });
});
