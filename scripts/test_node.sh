#!/usr/bin/env bash
# Runs the Node.js tests against the BUILT package, the way a Node user receives it.
#
#   1. builds dist/ (scripts/build_npm.ts) and packs it with `npm pack`;
#   2. installs the tarball into two throwaway projects under .tmp/node/ (gitignored):
#        consumer/  the package and `mongodb`: the compliance suite under node:test against
#                   the memory, file and (when MONGODB_URI is set) MongoDB adapters, and a
#                   check that importing and using the package does not load the driver
#                   (tests/node/ with the tests/_runtime/ modules it shares with Bun);
#        fresh/     the package alone: saves and reads a record with the file backend, and
#                   shows the driver was neither installed nor loaded; runs the cvm-storage
#                   bin (tests/node/cli.test.mjs);
#   3. fails if a test failed, if no test ran, or if MONGODB_URI is set (or
#      CVM_REQUIRE_MONGODB=1) and a MongoDB test was skipped or missing.
#
# Needs Node.js >= 20.19, npm and Deno (for the build); everything else comes from npm.
# The last line printed is "node: N passed, N failed, N skipped (...)".
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
WORK="$ROOT/.tmp/node"

# shellcheck source=scripts/_runtime_tests.sh
source scripts/_runtime_tests.sh

command -v node >/dev/null || die "Node.js is not installed; install Node.js >= 20.19"
# shellcheck disable=SC2016 # JavaScript, not shell
node -e '
  const [major, minor] = process.versions.node.split(".").map(Number);
  if (major < 20 || (major === 20 && minor < 19)) {
    console.error(`test_node.sh: Node.js ${process.version} is too old; @cvm/storage needs >= 20.19`);
    process.exit(1);
  }' || exit 1
command -v deno >/dev/null || die "Deno is not installed; npm install -g deno@2.9.6"
log "Node.js $(node --version), npm $(npm --version)"

# The driver version the library is built against: deno.json maps "mongodb" to npm:mongodb@^7.
MONGODB_SPEC="$(node -p 'JSON.parse(require("fs").readFileSync("deno.json", "utf8")).imports.mongodb.replace(/^npm:/, "")')"

deno run --allow-read --allow-write --allow-run --allow-env scripts/build_npm.ts

rm -rf "$WORK"
mkdir -p "$WORK/consumer" "$WORK/fresh"
TARBALL="$WORK/$(cd "$WORK" && npm pack "$ROOT/dist" --silent | tail -n 1)"
[[ -f "$TARBALL" ]] || die "npm pack did not produce a tarball in $WORK"

new_project() {
  printf '{ "name": "%s", "private": true, "type": "module" }\n' "$2" >"$1/package.json"
}
NPM_INSTALL=(npm install --no-audit --no-fund --loglevel=error)

new_project "$WORK/consumer" cvm-storage-node-consumer
(cd "$WORK/consumer" && "${NPM_INSTALL[@]}" "$TARBALL" "$MONGODB_SPEC")
# Laid out as in the repository: the tests import ../_runtime/, shared with test_bun.sh.
mkdir -p "$WORK/consumer/tests/node"
cp -R tests/_runtime "$WORK/consumer/tests/_runtime"
cp tests/node/compliance.test.mjs tests/node/lazy_driver.test.mjs tests/node/file_threads.test.mjs tests/node/hostile_files.test.mjs \
  "$WORK/consumer/tests/node/"

new_project "$WORK/fresh" cvm-storage-node-fresh
(cd "$WORK/fresh" && "${NPM_INSTALL[@]}" "$TARBALL")
cp tests/node/fresh_project.test.mjs tests/node/cli.test.mjs "$WORK/fresh/"

status=0
run_tests() { # dir tap-file test-files...
  local dir="$1" tap="$2"
  shift 2
  (cd "$dir" && node --test --test-timeout=120000 --test-reporter=spec --test-reporter-destination=stdout \
    --test-reporter=tap --test-reporter-destination="$tap" "$@") || status=$?
}
run_tests "$WORK/consumer" "$WORK/consumer.tap" tests/node/compliance.test.mjs \
  tests/node/lazy_driver.test.mjs tests/node/file_threads.test.mjs tests/node/hostile_files.test.mjs
run_tests "$WORK/fresh" "$WORK/fresh.tap" fresh_project.test.mjs cli.test.mjs

# Totals from the TAP summaries ("# pass 12"), and passed tests per adapter from the test
# lines ("ok 3 - MongoDBAdapter: ..."; a skipped one ends in "# SKIP ...").
total() { awk -v key="$1" '$1 == "#" && $2 == key { n += $3 } END { print n + 0 }' "$WORK"/*.tap; }
passed_for() {
  grep -hE "^ *ok [0-9]+ - $1: " "$WORK"/*.tap | grep -cvE '# (SKIP|TODO)' || true
}
TESTS="$(total tests)"
PASS="$(total pass)"
FAIL="$(total fail)"
SKIPPED="$(total skipped)"
CANCELLED="$(total cancelled)"
TODO="$(total todo)"
MEMORY="$(passed_for MemoryStorageAdapter)"
FILE="$(passed_for FileStorageAdapter)"
MONGO="$(passed_for MongoDBAdapter)"

problems=()
((CANCELLED == 0)) || problems+=("$CANCELLED cancelled")
((TODO == 0)) || problems+=("$TODO tests are marked todo")
verdict node
