// Queries as the server runs them: the filter, sort and limit of each read, shaped so that
// MongoDB answers them from the contract's indexes.

import type { Filter, Sort } from "mongodb";
import type { StoredDocument } from "./_connection.ts";
import type { HistoryPlan, ListPlan } from "../query.ts";

/** A read the server runs. */
export interface ServerQuery {
  filter: Filter<StoredDocument>;
  sort: Sort;
  /** At most this many documents; `undefined` for all. */
  limit?: number;
}

/**
 * A history query on the unique index `{ executionId, step, timestamp }`: the step range
 * as bounds on `step`, the cursor as "a later step, or the same step and a later
 * timestamp" (earlier, in reverse), sorted by the index.
 */
export function historyQuery(executionId: string, plan: HistoryPlan): ServerQuery {
  const { fromStep, toStep, after, limit, reverse } = plan;
  const filter: Filter<StoredDocument> = { executionId };
  const step: Record<string, number> = {};
  if (fromStep !== undefined) step.$gte = fromStep;
  if (toStep !== undefined) step.$lte = toStep;
  if (fromStep !== undefined || toStep !== undefined) filter.step = step;
  if (after !== undefined) {
    const past = reverse ? "$lt" : "$gt";
    const timestamp = new Date(after.time);
    filter.$or = [
      { step: { [past]: after.step } },
      { step: after.step, timestamp: { [past]: timestamp } },
    ];
  }
  const order = reverse ? -1 : 1;
  return { filter, sort: { step: order, timestamp: order }, limit };
}

/**
 * A list query on the unique index `{ id }`, with the `programId` and `state` filters.
 * The server orders strings by their UTF-8 bytes, which is code point order.
 *
 * `state` also matches documents without a top-level `state`: version 0.1 kept it inside
 * its JSON text, so the caller checks those after decoding.
 */
export function listQuery(plan: ListPlan): ServerQuery & { checkState: boolean } {
  const { after, limit, programId, state } = plan;
  const filter: Filter<StoredDocument> = {};
  if (after !== undefined) filter.id = { $gt: after };
  if (programId !== undefined) filter.programId = programId;
  if (state !== undefined) filter.state = { $in: [state, null] };
  return { filter, sort: { id: 1 }, limit, checkState: state !== undefined };
}
