// What a connected file adapter runs: loaded by `connect()`, so that importing the library
// (to use the memory or MongoDB backend, say) loads none of it. It is most of the file
// backend's code, and under Deno a module's load time grows with its size.

export { makeDir, syncDir, tempName, writeAtomic } from "./_atomic.ts";
export { metadataPath, readCurrentId, writeCurrentId } from "./_current.ts";
export { syncDirShared } from "./_dir_sync.ts";
export { errorCode, fs } from "./_fs.ts";
export { createEntry, historyFileName, readHistory } from "./_history_files.ts";
export { historyIndex, removeHistoryIndex } from "./_history_index.ts";
export { ioError } from "./_io_error.ts";
export { executionFilter, readList } from "./_list_files.ts";
export { ListingCache } from "./_listing_cache.ts";
export { DIRS, openDataDir } from "./_open.ts";
export { OUTPUT_DIR, OutputLogs } from "./_output.ts";
export { corrupt, readRecord, recordText, removeFile } from "./_record_file.ts";
