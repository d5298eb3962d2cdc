// The compliance suite against a MongoDB server (MONGODB_URI; CI starts FerretDB), one
// fresh database per adapter, dropped afterwards.

import { MongoDBAdapter } from "../mod.ts";
import { testStorageAdapter } from "../src/testing/mod.ts";
import {
  dropDatabase,
  freshDbName,
  mongoTest,
  noServer,
  reportMissingServer,
  uri,
} from "./_mongodb.ts";

reportMissingServer("mongodb_compliance_test.ts");

if (noServer === undefined) {
  const dbNames = new Map<unknown, string>();
  testStorageAdapter({
    name: "MongoDBAdapter",
    test: (name, fn) => mongoTest(name, undefined, fn),
    createAdapter: () => {
      const dbName = freshDbName();
      const adapter = new MongoDBAdapter({ uri: uri!, dbName, timeoutMS: 10_000 });
      dbNames.set(adapter, dbName);
      return adapter;
    },
    reopenAdapter: (adapter) => {
      const dbName = dbNames.get(adapter)!;
      const next = new MongoDBAdapter({ uri: uri!, dbName, timeoutMS: 10_000 });
      dbNames.set(next, dbName);
      return next;
    },
    destroyAdapter: async (adapter) => {
      const dbName = dbNames.get(adapter)!;
      dbNames.delete(adapter);
      await dropDatabase(uri!, dbName);
    },
  });
} else {
  mongoTest("MongoDBAdapter: compliance suite", noServer, () => Promise.resolve());
}
