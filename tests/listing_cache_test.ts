import { assertEquals } from "@std/assert";
import { join } from "../src/_path.ts";
import { ListingCache, SYNC_NAMES } from "../src/file/_listing_cache.ts";
import { countListings } from "./_file_utils.ts";

/** Lists `dir` through a new plan, returning how the names were read: synchronously or not. */
async function listingKind(cache: ListingCache<number>, dir: string): Promise<boolean[]> {
  // Changed just now: listed afresh, never kept.
  await Deno.utime(dir, new Date(), new Date());
  const { listings } = await countListings(() =>
    cache.list(dir, (names) => Promise.resolve(names.length))
  );
  return listings.map((listing) => listing.sync);
}

function addFiles(dir: string, from: number, to: number): void {
  for (let i = from; i < to; i++) {
    Deno.writeFileSync(join(dir, `1700000000000-${i}.json`), new Uint8Array());
  }
}

Deno.test("ListingCache lists a directory known to be small in one synchronous call, and any other asynchronously", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const cache = new ListingCache<number>(2);
    addFiles(dir, 0, 3000);
    // Never listed: its size says nothing yet.
    assertEquals(await listingKind(cache, dir), [false]);
    // 3,000 names last time, and about as many now (its size in bytes tells).
    assertEquals(await listingKind(cache, dir), [true]);
    // Grown past the synchronous bound since: asynchronous again.
    addFiles(dir, 3000, SYNC_NAMES + 3000);
    assertEquals(await listingKind(cache, dir), [false]);
    assertEquals(await listingKind(cache, dir), [false]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
