/**
 * Compliance cases: `streamHistory` over the adapter yields what one `getHistory` call
 * would, a page at a time, paging with `after`.
 *
 * @module
 */

import { ValidationError } from "../errors.ts";
import { streamHistory, type StreamHistoryQuery } from "../stream_history.ts";
import type { History, HistoryQuery, StorageAdapter } from "../types.ts";
import { assert, assertEquals, assertRejects, checkEach, render } from "./_assert.ts";
import { at, delegate, expected, makeHistory, shuffled } from "./_fixtures.ts";
import type { Case } from "./_types.ts";

/** 120 entries: steps -1 to 29, two entries at some steps, and a run of 82 at step 7. */
function sampleHistory(): History[] {
  const entries: History[] = [];
  for (let step = -1; step < 30; step++) {
    const runs = step === 7 ? 82 : step % 4 === 0 ? 2 : 1;
    for (let i = 0; i < runs; i++) {
      entries.push(makeHistory("e1", step, { timestamp: at((i * 37) % 83 - step), pc: i }));
    }
  }
  return entries;
}

async function saveSample(adapter: StorageAdapter): Promise<History[]> {
  const entries = sampleHistory();
  for (const entry of shuffled(entries, 41)) await adapter.saveHistory(entry);
  await adapter.saveHistory(makeHistory("e2", 7));
  return entries;
}

async function collect(iterator: AsyncIterable<History>): Promise<History[]> {
  const out: History[] = [];
  for await (const entry of iterator) out.push(entry);
  return out;
}

/** An adapter that records the queries `getHistory` receives, and forwards everything. */
function recording(adapter: StorageAdapter): { adapter: StorageAdapter; queries: HistoryQuery[] } {
  const queries: HistoryQuery[] = [];
  const wrapper = delegate(adapter);
  wrapper.getHistory = (id, query) => {
    queries.push({ ...query });
    return adapter.getHistory(id, query);
  };
  return { adapter: wrapper, queries };
}

/** Streams worth checking against a single `getHistory` call. */
const STREAMS: readonly StreamHistoryQuery[] = [
  {},
  { pageSize: 1 },
  { pageSize: 2 },
  { pageSize: 7 },
  { pageSize: 60 },
  { pageSize: 119 },
  { pageSize: 120 },
  { pageSize: 121 },
  { pageSize: 10_000 },
  { reverse: true, pageSize: 3 },
  { reverse: true, pageSize: 1000 },
  { fromStep: 7, toStep: 7, pageSize: 8 },
  { fromStep: 7, toStep: 7, reverse: true, pageSize: 8 },
  { fromStep: 5, toStep: 12, pageSize: 4 },
  { fromStep: 30, pageSize: 4 },
  { toStep: -1, pageSize: 1 },
  { after: { step: 7, timestamp: at(20) }, pageSize: 5 },
  { after: { step: 7, timestamp: at(20) }, reverse: true, pageSize: 5 },
  { limit: 1 },
  { limit: 5, pageSize: 2 },
  { limit: 59, pageSize: 10 },
  { limit: 60, pageSize: 60 },
  { limit: 61, pageSize: 60 },
  { limit: 200, pageSize: 7 },
  { limit: 10, reverse: true, pageSize: 3 },
  { limit: 10, fromStep: 7, after: { step: 7, timestamp: at(30) }, pageSize: 4 },
];

/** Options `streamHistory` rejects on the first `next()`. */
const BAD_STREAMS: readonly unknown[] = [
  null,
  "e1",
  [],
  { pageSize: 0 },
  { pageSize: -1 },
  { pageSize: 1.5 },
  { pageSize: "10" },
  { pageSize: Infinity },
  { pageSize: null },
  { limit: 0 },
  { limit: 1.5 },
  { fromStep: "1" },
  { reverse: "yes" },
  { after: { step: 1 } },
  { page: 10 },
];

/** The streamHistory cases. */
export const streamHistoryCases: readonly Case[] = [
  {
    name: "streamHistory() yields what getHistory() returns for the same query, page by page",
    async run(adapter) {
      await saveSample(adapter);
      await checkEach(STREAMS, (q) => render(q), async (stream) => {
        const { pageSize: _, ...query } = stream;
        const want = await adapter.getHistory("e1", query);
        const got = await collect(streamHistory(adapter, "e1", stream));
        assertEquals(got, want, `streamHistory("e1", ${render(stream)})`);
      });
    },
  },
  {
    name: "streamHistory() yields every entry once and in order, across pages of any size",
    async run(adapter) {
      const entries = await saveSample(adapter);
      const ascending = expected(
        [...entries].sort((a, b) =>
          a.step - b.step || a.timestamp.getTime() - b.timestamp.getTime()
        ),
      );
      assertEquals(entries.length, 120, "the sample's size");
      for (const pageSize of [1, 3, 81, 82, 83, 119, 120, 121, 500]) {
        assertEquals(
          await collect(streamHistory(adapter, "e1", { pageSize })),
          ascending,
          `streamHistory("e1", { pageSize: ${pageSize} })`,
        );
        assertEquals(
          await collect(streamHistory(adapter, "e1", { pageSize, reverse: true })),
          [...ascending].reverse(),
          `streamHistory("e1", { pageSize: ${pageSize}, reverse: true })`,
        );
      }
      assertEquals(await collect(streamHistory(adapter, "e1")), ascending, "default page size");
    },
  },
  {
    name: "streamHistory() reads pages of at most pageSize entries, with the after cursor",
    async run(adapter) {
      await saveSample(adapter);
      for (const [pageSize, limit] of [[7, undefined], [1, 5], [50, 120], [10, 25]] as const) {
        const { adapter: spy, queries } = recording(adapter);
        const got = await collect(streamHistory(spy, "e1", { pageSize, limit }));
        const context = `streamHistory("e1", ${render({ pageSize, limit })})`;
        assert(queries.length > 0, `${context} never called getHistory()`);
        for (const [i, query] of queries.entries()) {
          assert(
            query.limit !== undefined && query.limit <= pageSize,
            `${context}: page ${i} asked for ${render(query.limit)} entries, more than pageSize`,
          );
          assert(
            i === 0 || query.after !== undefined,
            `${context}: page ${i} was read without the after cursor: ${render(query)}`,
          );
        }
        if (limit !== undefined) {
          assertEquals(got.length, Math.min(limit, 120), `${context}: entries yielded`);
        }
      }
    },
  },
  {
    name: "streamHistory() of an execution without history yields nothing",
    async run(adapter) {
      await saveSample(adapter);
      assertEquals(await collect(streamHistory(adapter, "e-none")), [], "streamHistory()");
      assertEquals(
        await collect(streamHistory(adapter, "e1", { fromStep: 100, pageSize: 1 })),
        [],
        "streamHistory() of an empty range",
      );
    },
  },
  {
    name: "streamHistory() rejects invalid options with ValidationError on the first next()",
    async run(adapter) {
      await saveSample(adapter);
      await checkEach(BAD_STREAMS, (q) => render(q), async (query) => {
        // Creating the iterator never throws: the options are checked when it starts.
        const iterator = streamHistory(adapter, "e1", query as StreamHistoryQuery);
        await assertRejects(
          () => iterator.next(),
          ValidationError,
          "VALIDATION",
          `streamHistory("e1", ${render(query)}).next()`,
        );
      });
      const badId = streamHistory(adapter, "" as string);
      await assertRejects(
        () => badId.next(),
        ValidationError,
        "VALIDATION",
        'streamHistory("").next()',
      );
    },
  },
];
