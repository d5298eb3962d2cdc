// What a connected MongoDB adapter runs: loaded by `connect()`, with the driver, so that
// importing the library (for the file backend, say) loads none of it.

export { bulkHistory, bulkOutputs } from "./_bulk.ts";
export { bounded } from "./_call.ts";
export { closeSession, openSession } from "./_connection.ts";
export { mapFailure } from "./_errors.ts";
export {
  appendLines,
  deleteLines,
  OutputEnds,
  readCurrent,
  readLines,
  writeCurrent,
} from "./_output.ts";
export {
  checkSize,
  decodeDocument,
  deleteRecord,
  findRecord,
  insertHistory,
  listRecords,
  readHistory,
  saveRecord,
} from "./_records.ts";
export { toDocument } from "../document.ts";
