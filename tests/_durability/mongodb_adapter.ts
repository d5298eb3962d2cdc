// The adapter module the durability kit's processes and threads import for MongoDB: the
// store is a database name on the server MONGODB_URI names.

import process from "node:process";
import { MongoDBAdapter } from "../../mod.ts";

/** A new, unconnected MongoDB adapter on the database `store`. */
export function createAdapter(store: string): MongoDBAdapter {
  const uri = process.env.MONGODB_URI;
  if (!uri) throw new Error("MONGODB_URI is not set: the durability kit cannot reach MongoDB");
  return new MongoDBAdapter({ uri, dbName: store, timeoutMS: 10_000 });
}
