// Checks that jsr.json is an exact copy of deno.json's publishing fields.
// `deno publish` reads deno.json and ignores jsr.json when both exist, so a drift would
// go unnoticed until someone publishes with another tool.
//
//   deno run --allow-read scripts/check_jsr_json.ts

const FIELDS = ["name", "version", "license", "exports", "publish"] as const;

const deno = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
const jsr = JSON.parse(await Deno.readTextFile(new URL("../jsr.json", import.meta.url)));
const expected = Object.fromEntries(FIELDS.map((field) => [field, deno[field]]));

if (JSON.stringify(jsr) !== JSON.stringify(expected)) {
  console.error("jsr.json differs from the publishing fields of deno.json; make it:");
  console.error(JSON.stringify(expected, null, 2));
  Deno.exit(1);
}
console.log(`jsr.json matches deno.json (${FIELDS.join(", ")})`);
