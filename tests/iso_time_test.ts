// The codec's own ISO 8601 text of a time and its parser: the same text as
// `Date.prototype.toISOString()` and the same time as `Date.parse()`, only cheaper.

import { assertEquals } from "@std/assert";
import { isoText, parseIsoTime } from "../src/_iso_time.ts";

/** Years 0-9999, the range in which `toISOString()` writes four-digit years. */
const MIN = -62_167_219_200_000;
const MAX = 253_402_300_799_999;
const DAY = 86_400_000;

/** A deterministic pseudo-random sequence (xorshift), for reproducible samples. */
function* times(count: number): Generator<number> {
  let x = 0x9e3779b9;
  for (let i = 0; i < count; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const fraction = (x >>> 0) / 2 ** 32;
    yield MIN + Math.floor(fraction * (MAX - MIN));
  }
}

const EDGES = [
  MIN,
  MAX,
  0,
  -1,
  1,
  DAY - 1,
  -DAY,
  951_782_400_000, // 2000-02-29
  951_868_800_000 - 1, // the last millisecond of 2000-02-29
  -2_203_891_200_000, // 1900-03-01 (1900 is no leap year)
  -62_162_035_200_000, // 0000-02-29 (year 0 is a leap year)
  1_767_323_045_678,
  253_402_214_400_000, // 9999-12-31
];

Deno.test("isoText() writes what toISOString() writes, in years 0-9999", () => {
  for (const time of [...EDGES, ...times(200_000)]) {
    assertEquals(isoText(time), new Date(time).toISOString(), String(time));
  }
  // Every day of a leap and a common year, and around the turn of each century.
  for (const start of [Date.UTC(2024, 0, 1), Date.UTC(2023, 0, 1), Date.UTC(1600, 0, 1)]) {
    for (let day = 0; day < 400; day++) {
      const time = start + day * DAY + 45_296_789; // 12:34:56.789
      assertEquals(isoText(time), new Date(time).toISOString());
    }
  }
});

Deno.test("parseIsoTime() reads what Date.parse() reads", () => {
  for (const time of [...EDGES, ...times(200_000)]) {
    const text = new Date(time).toISOString();
    assertEquals(parseIsoTime(text), time, text);
  }
  // Not in the canonical form, or not a valid date: whatever Date.parse says, NaN included.
  const others = [
    "2024-02-30T00:00:00.000Z",
    "2023-02-29T00:00:00.000Z",
    "2024-04-31T00:00:00.000Z",
    "2024-13-01T00:00:00.000Z",
    "2024-00-10T00:00:00.000Z",
    "2024-01-00T00:00:00.000Z",
    "2024-01-01T24:00:00.000Z",
    "2024-01-01T23:60:00.000Z",
    "2024-01-01T23:59:60.000Z",
    "2024-01-01T00:00:00Z",
    "2024-01-01T00:00:00.000+01:00",
    "2024-01-01T00:00:00.000z",
    "2024-01-01 00:00:00.000Z",
    "+010000-01-01T00:00:00.000Z",
    "-000001-12-31T23:59:59.999Z",
    "2024-01-01T00:00:00.0000Z",
    "2024-1-01T00:00:00.000Z",
    "２０２４-01-01T00:00:00.000Z",
    "2024-01-01T00:00:00.00AZ",
    "2024",
    "",
    "not a date",
  ];
  for (const text of others) {
    assertEquals(parseIsoTime(text), Date.parse(text), JSON.stringify(text));
  }
});
