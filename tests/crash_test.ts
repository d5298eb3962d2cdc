// The durability kit's crash test on the file backend and, when MONGODB_URI is set, on
// MongoDB: a writer process is SIGKILLed at random moments, and everything it
// acknowledged must be there, whole.
//
// CVM_CRASH_KILLS sets the number of kills (default 20; `deno task test:crash` runs 200),
// CVM_CRASH_KILLS_MONGODB the number on MongoDB (default 20), and CVM_CRASH_SEED replays
// a seed printed by a failing run. The order of the file backend's fsyncs, which a kill
// cannot show, is tests/fsync_order_test.ts.

import { testCrashConsistency } from "../src/testing/mod.ts";
import { canSpawn, denoTest, envNumber, FILE, MONGODB, onMongoDB } from "./_durability/stores.ts";

const seed = envNumber("CVM_CRASH_SEED");
const noSpawn = canSpawn ? undefined : "the crash test needs --allow-run --allow-read";

testCrashConsistency({
  ...FILE,
  test: denoTest(noSpawn),
  kills: envNumber("CVM_CRASH_KILLS") ?? 20,
  seed,
});

onMongoDB((test) =>
  testCrashConsistency({
    ...MONGODB,
    test: noSpawn === undefined ? test : denoTest(noSpawn),
    kills: envNumber("CVM_CRASH_KILLS_MONGODB") ?? 20,
    seed,
  })
);
