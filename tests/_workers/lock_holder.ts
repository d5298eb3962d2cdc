// Child process of tests/temp_files_test.ts: a writer paused mid-write. It creates the temp
// file named on the command line, takes the exclusive advisory lock on it that writers hold
// while they use a temp file, prints "locked", and keeps both until stdin closes.
//
// Usage: deno run --allow-read --allow-write lock_holder.ts <path>

import { readStdinLines } from "./_stdin.ts";

const file = await Deno.open(Deno.args[0], { write: true, createNew: true, mode: 0o600 });
if (!file.tryLockSync(true)) throw new Error("the lock was taken");
await file.write(new TextEncoder().encode('{"id": "half a rec'));
console.log("locked");
await readStdinLines(() => {});
file.close();
