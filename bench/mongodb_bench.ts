// The MongoDB adapter against the raw driver storing the same native documents (issue 12:
// target ≥ 0.90). The floor gets the documents ready-made, in the shape the adapter
// writes, and does one driver call per operation; the adapter validates, converts and
// bounds each call on top.
//
//   MONGODB_URI=mongodb://127.0.0.1:27017/ deno run -A bench/mongodb_bench.ts
//
// CVM_BENCH_ROUNDS sets the rounds (default 31); CVM_BENCH_SCALE scales the operations
// per round and the stored history (default 1; CI uses a small scale only to check that
// the benchmark runs). Without MONGODB_URI it says so and does nothing.

import type { MongoClient } from "mongodb";
import { type Execution, type History, MongoDBAdapter } from "../mod.ts";
import { type NativeDocument, toDocument } from "../src/document.ts";
import { checkRecord } from "../src/records.ts";
import { measure, type Result, rounds, scaled, table } from "./_bench.mjs";

const URI = Deno.env.get("MONGODB_URI");
if (URI === undefined || URI === "") {
  console.log("MONGODB_URI is not set: start a server (scripts/ferretdb.sh start) to run this");
  Deno.exit(0);
}

const OPS = scaled(50, 2);
const STORED = scaled(2_000);
const PAGE = 100;
/** Reads that scan on FerretDB take hundreds of milliseconds: fewer per round. */
const QUERY_OPS = scaled(3, 2);
const T0 = 1_700_000_000_000;

const execution = (i: number): Execution => ({
  id: `e${i % OPS}`,
  programId: `p${i % 7}`,
  state: i % 3 === 0 ? "running" : "READY",
  pc: i,
  stack: Array.from({ length: 16 }, (_, k) => (k % 2 ? `s${k}` : k * i)),
  variables: Object.fromEntries(
    Array.from({ length: 16 }, (_, k) => [`v${k}`, k % 3 ? k + i : { nested: [k, `x${i}`] }]),
  ),
  output: [`line ${i}`],
  error: null,
  created: new Date(T0),
  updated: new Date(T0 + i),
});
const entry = (executionId: string, step: number): History => ({
  executionId,
  step,
  pc: step % 64,
  instruction: "PUSH",
  stack: [step, "value", { at: step }],
  variables: { counter: step, name: "loop", flags: [true, false] },
  timestamp: new Date(T0 + step),
});

const { MongoClient: Client } = await import("mongodb");
const suffix = `${Date.now().toString(36)}_${Math.floor(Math.random() * 1e6)}`;
const floorDb = `cvm_bench_floor_${suffix}`;
const libraryDb = `cvm_bench_library_${suffix}`;
const client: MongoClient = new Client(URI, { fieldsAsRaw: Object.create(null) });
await client.connect();
const storage = new MongoDBAdapter({ uri: URI, dbName: libraryDb });
await storage.connect();
try {
  const db = client.db(floorDb);
  const server = typeof (await db.command({ buildInfo: 1 })).ferretdbVersion === "string"
    ? "ferretdb"
    : "mongodb";
  const executions = db.collection<{ _id: string }>("executions");
  const history = db.collection<{ _id: string }>("history");
  // The floor gets the same indexes the adapter creates: every write maintains them.
  await executions.createIndex({ id: 1 }, { unique: true });
  await executions.createIndex({ programId: 1 });
  await executions.createIndex({ state: 1 });
  await history.createIndex({ executionId: 1, step: 1, timestamp: 1 }, { unique: true });
  const native = (kind: "execution" | "history", record: unknown) =>
    toDocument(kind, checkRecord(kind, record).json, { server });

  // A stored history to page through, the same in both databases, written the same way.
  for (let step = 0; step < STORED; step += 100) {
    const batch = Array.from({ length: Math.min(100, STORED - step) }, (_, k) => step + k);
    await Promise.all(
      batch.map((s) => history.insertOne(native("history", entry("paged", s)) as { _id: string })),
    );
    await Promise.all(batch.map((s) => storage.saveHistory(entry("paged", s))));
  }
  for (let i = 0; i < OPS; i++) {
    const document = native("execution", execution(i)) as { _id: string };
    await executions.replaceOne({ _id: document._id }, document, { upsert: true });
    await storage.saveExecution(execution(i));
  }

  let version = OPS;
  let floorVersion = OPS;
  let step = 0;
  let floorStep = 0;
  const count = rounds();
  const results: Result[] = [];
  const row = async (
    name: string,
    floor: () => Promise<unknown>,
    library: () => Promise<unknown>,
    prepare?: () => void,
    ops = OPS,
  ) => {
    const repeat = async (op: () => Promise<unknown>) => {
      for (let i = 0; i < ops; i++) await op();
    };
    results.push(
      await measure({
        name,
        ops,
        target: 0.9,
        prepare,
        floor: { name: "raw driver, same documents", run: () => repeat(floor) },
        library: { name: "MongoDBAdapter", run: () => repeat(library) },
      }, count),
    );
  };
  // Both sides save new versions every round (a server skips a replace that changes
  // nothing); the floor's documents are made before the round, untimed.
  let ready: NativeDocument[] = [];
  await row(
    "`saveExecution` (replace by id)",
    async () => {
      const document = ready.shift()! as { _id: string };
      await executions.replaceOne({ _id: document._id }, document, { upsert: true });
    },
    () => storage.saveExecution(execution(version++)),
    () => {
      ready = Array.from({ length: OPS }, () => native("execution", execution(floorVersion++)));
    },
  );
  let read = 0;
  await row(
    "`getExecution`",
    () => executions.findOne({ _id: `e${read++ % OPS}` }),
    () => storage.getExecution(`e${read++ % OPS}`),
  );
  let entries: NativeDocument[] = [];
  await row(
    "`saveHistory` (insert)",
    () => history.insertOne(entries.shift()! as { _id: string }),
    () => storage.saveHistory(entry("new", step++)),
    () => {
      entries = Array.from({ length: OPS }, () => native("history", entry("new", floorStep++)));
    },
  );
  let from = 0;
  const pageFrom = () => (from = (from + 37) % Math.max(1, STORED - PAGE));
  await row(
    `\`getHistory\` page of ${PAGE} of ${STORED}`,
    () =>
      history.find({ executionId: "paged", step: { $gte: pageFrom() } })
        .sort({ step: 1, timestamp: 1 }).limit(PAGE).toArray(),
    () => storage.getHistory("paged", { fromStep: pageFrom(), limit: PAGE }),
    undefined,
    QUERY_OPS,
  );
  await row(
    `latest \`getHistory\` entry of ${STORED}`,
    () =>
      history.find({ executionId: "paged" }).sort({ step: -1, timestamp: -1 }).limit(1)
        .toArray(),
    () => storage.getHistory("paged", { reverse: true, limit: 1 }),
    undefined,
    QUERY_OPS,
  );

  console.log(
    `MongoDB adapter vs raw driver on ${server} (${URI.replace(/\/\/[^@/]*@/, "//***@")}), ` +
      `${OPS} writes or lookups (${QUERY_OPS} history queries) per round`,
  );
  console.log(table(results, count));
} finally {
  await storage.disconnect();
  await client.db(floorDb).dropDatabase();
  await client.db(libraryDb).dropDatabase();
  await client.close();
}
