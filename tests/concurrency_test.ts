// The durability kit's concurrency test on the file backend and, when MONGODB_URI is set,
// on MongoDB: writer processes with Worker threads share one store while a reader process
// checks everything it reads; contested history keys get exactly one winner, identical
// saves of one key all succeed, and every output append stays whole.

import { testConcurrentProcesses } from "../src/testing/mod.ts";
import { canSpawn, denoTest, FILE, MONGODB, onMongoDB } from "./_durability/stores.ts";

const noSpawn = canSpawn ? undefined : "the concurrency test needs --allow-run --allow-read";

testConcurrentProcesses({
  ...FILE,
  test: denoTest(noSpawn),
  // Each writer reconnects now and then, and connect() removes the temp files of writers
  // it believes dead. How it tells depends on the permissions (under Deno, /proc needs
  // --allow-all and process.kill() needs --allow-run; with neither it removes none), so
  // the writer processes cover every way while the others have temp files in flight.
  writerPermissions: [
    ["--allow-read", "--allow-write"],
    ["--allow-read", "--allow-write", "--allow-run"],
    ["--allow-all"],
  ],
});

onMongoDB((test) =>
  testConcurrentProcesses({
    ...MONGODB,
    test: noSpawn === undefined ? test : denoTest(noSpawn),
  })
);
