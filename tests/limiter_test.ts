// The bound on the file backend's open descriptors, and the retry of transient failures
// (src/file/_limiter.ts). tests/fd_limit_test.ts shows the same under a real `ulimit -n`.

import { assert, assertEquals, assertRejects } from "@std/assert";
import { descriptorUse, guarded, MAX_OPEN, retryPolicy } from "../src/file/_limiter.ts";

const NOT_WINDOWS = { op: "rename", descriptor: false, windows: false };
const HOLDS = { op: "open", descriptor: true, windows: false };

function failure(code: string): Error {
  return Object.assign(new Error(`${code}: injected`), { code });
}

/** Runs calls until an earlier EMFILE's lowered limit is back at MAX_OPEN. */
async function recover(): Promise<void> {
  for (let i = 0; i < 10_000 && descriptorUse().limit < MAX_OPEN; i++) {
    await guarded(() => Promise.resolve(), HOLDS);
  }
  assertEquals(descriptorUse(), { active: 0, limit: MAX_OPEN });
}

/** Fails with `codes` in turn, then resolves with the number of calls. */
function flaky(...codes: string[]): { work: () => Promise<number>; calls: () => number } {
  let calls = 0;
  return {
    work: () => {
      const code = codes[calls++];
      return code === undefined ? Promise.resolve(calls) : Promise.reject(failure(code));
    },
    calls: () => calls,
  };
}

Deno.test("guarded() retries EMFILE, ENFILE, EAGAIN and EBUSY until the call succeeds", async () => {
  const { work } = flaky("EMFILE", "ENFILE", "EAGAIN", "EBUSY");
  assertEquals(await guarded(work, HOLDS), 5);
  assertEquals(descriptorUse().active, 0);
});

Deno.test("guarded() does not retry other failures", async () => {
  for (const code of ["ENOSPC", "EIO", "ENOENT", "EACCES", "EPERM"]) {
    const { work, calls } = flaky(code);
    const error = await assertRejects(() => guarded(work, NOT_WINDOWS));
    assertEquals((error as { code?: string }).code, code);
    assertEquals(calls(), 1);
  }
  assertEquals(descriptorUse().active, 0);
});

Deno.test("guarded() retries a rename's EPERM and EACCES on Windows only", async () => {
  const { work } = flaky("EPERM", "EACCES");
  assertEquals(await guarded(work, { ...NOT_WINDOWS, windows: true }), 3);
  const stat = flaky("EPERM");
  await assertRejects(() => guarded(stat.work, { op: "stat", descriptor: false, windows: true }));
});

Deno.test("guarded() gives up on a transient failure that lasts, with the last error", async () => {
  const budget = retryPolicy.budgetMs;
  retryPolicy.budgetMs = 50;
  try {
    const started = Date.now();
    const error = await assertRejects(() =>
      guarded(() => Promise.reject(failure("EMFILE")), HOLDS)
    );
    assertEquals((error as { code?: string }).code, "EMFILE");
    assert(Date.now() - started >= 50);
  } finally {
    retryPolicy.budgetMs = budget;
  }
  assertEquals(descriptorUse().active, 0);
});

Deno.test("guarded() holds at most MAX_OPEN descriptors at once, and a handle keeps its slot until closed", async () => {
  await recover();
  let open = 0;
  let most = 0;
  const handles = await Promise.all(
    Array.from({ length: MAX_OPEN }, () =>
      guarded(
        () => Promise.resolve({ close: () => Promise.resolve() }),
        HOLDS,
        (handle, release) => ({ close: () => (release(), handle.close()) }),
      )),
  );
  assertEquals(descriptorUse().active, MAX_OPEN);
  // One more waits until a handle closes.
  let extra = false;
  const waiting = guarded(async () => {
    open++;
    most = Math.max(most, open);
    await new Promise((resolve) => setTimeout(resolve, 1));
    open--;
    extra = true;
  }, HOLDS);
  await new Promise((resolve) => setTimeout(resolve, 20));
  assertEquals(extra, false);
  await handles[0].close();
  await handles[0].close(); // a second close frees nothing more
  await waiting;
  assert(extra);
  for (const handle of handles.slice(1)) await handle.close();
  assertEquals(descriptorUse().active, 0);

  // 500 calls at once: never more than MAX_OPEN run.
  await Promise.all(Array.from({ length: 500 }, () =>
    guarded(async () => {
      open++;
      most = Math.max(most, open);
      await new Promise((resolve) => setTimeout(resolve, 1));
      open--;
    }, HOLDS)));
  assertEquals(most, MAX_OPEN);
  assertEquals(descriptorUse().active, 0);
});

Deno.test("guarded() holds at fewer descriptors after EMFILE, and comes back to MAX_OPEN", async () => {
  await recover();
  let open = 0;
  let emfiles = 0;
  // A process that has room for 10 more open files.
  const work = async () => {
    if (open >= 10) {
      emfiles++;
      throw failure("EMFILE");
    }
    open++;
    await new Promise((resolve) => setTimeout(resolve, 2));
    open--;
  };
  await Promise.all(Array.from({ length: 300 }, () => guarded(work, HOLDS)));
  assert(emfiles > 0);
  // It held at about what the process had room for, rather than failing call after call.
  assert(descriptorUse().limit < MAX_OPEN / 2, `limit ${descriptorUse().limit}`);
  assert(emfiles < 300, `${emfiles} EMFILE for 300 calls`);
  console.log(`300 calls with room for 10: ${emfiles} EMFILE retried`);
  await recover();
});
