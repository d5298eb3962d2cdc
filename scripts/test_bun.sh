#!/usr/bin/env bash
# Runs the Bun tests on the TypeScript sources, in place.
#
#   1. installs Bun from npm (@oven/bun-<os>-<arch>, the binary is inside the package) into
#      .tmp/bun/ (gitignored);
#   2. copies the sources (mod.ts, src/), tests/bun/ and the tests/_runtime/ modules it
#      shares with Node into a throwaway Bun project,
#      .tmp/bun/project/, and installs the `mongodb` driver there: `bun test` resolves
#      packages only from node_modules beside the files (it ignores NODE_PATH), and
#      nothing is to be installed into the repository;
#   3. runs `bun test` on tests/bun/ there: the compliance suite against the memory, file
#      and (when MONGODB_URI is set) MongoDB adapters, and a check that importing and using
#      the library does not load the driver;
#   4. fails if a test failed, if no test ran, or if MONGODB_URI is set (or
#      CVM_REQUIRE_MONGODB=1) and a MongoDB test was skipped or missing.
#
# Needs Node.js and npm (to install Bun). BUN=/path/to/bun uses that binary instead;
# BUN_VERSION picks the version to install (default below). The last line printed is
# "bun: N passed, N failed, N skipped (...)".
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
WORK="$ROOT/.tmp/bun"
BUN_VERSION="${BUN_VERSION:-1.4.5}"

# shellcheck source=scripts/_runtime_tests.sh
source scripts/_runtime_tests.sh

NPM_INSTALL=(npm install --no-save --no-audit --no-fund --ignore-scripts --loglevel=error)

if [[ -z "${BUN:-}" ]]; then
  command -v npm >/dev/null || die "npm is not installed; it installs Bun (or set BUN=/path/to/bun)"
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) package=bun-linux-x64 ;;
    Linux-aarch64 | Linux-arm64) package=bun-linux-aarch64 ;;
    Darwin-x86_64) package=bun-darwin-x64 ;;
    Darwin-arm64) package=bun-darwin-aarch64 ;;
    *) die "no Bun package for $(uname -s)-$(uname -m); set BUN=/path/to/bun" ;;
  esac
  prefix="$WORK/bun-$BUN_VERSION"
  BUN="$prefix/node_modules/@oven/$package/bin/bun"
  if [[ "$("$BUN" --version 2>/dev/null || true)" != "$BUN_VERSION" ]]; then
    log "installing Bun $BUN_VERSION from npm (@oven/$package)"
    rm -rf "$prefix"
    mkdir -p "$prefix"
    "${NPM_INSTALL[@]}" --prefix "$prefix" "@oven/$package@$BUN_VERSION"
  fi
fi
"$BUN" --version >/dev/null || die "$BUN does not run"
log "Bun $("$BUN" --version) ($BUN)"

# The driver version the library is built against: deno.json maps "mongodb" to npm:mongodb@^7.
MONGODB_SPEC="$("$BUN" -e 'const c = await Bun.file("deno.json").json(); console.log(c.imports.mongodb.replace(/^npm:/, ""))')"
PROJECT="$WORK/project"
rm -rf "$PROJECT"
mkdir -p "$PROJECT/tests"
cp mod.ts "$PROJECT/"
cp -R src "$PROJECT/src"
cp -R tests/bun "$PROJECT/tests/bun"
cp -R tests/_runtime "$PROJECT/tests/_runtime"
printf '{ "name": "cvm-storage-bun", "private": true, "type": "module" }\n' >"$PROJECT/package.json"
(cd "$PROJECT" && "${NPM_INSTALL[@]}" "$MONGODB_SPEC")

REPORT="$WORK/report.xml"
rm -f "$REPORT"
status=0
# --timeout: the default 5 s per test is far too short for fsync-heavy file tests on slow disks
# and for a MongoDB server under load.
(cd "$PROJECT" && "$BUN" test --timeout 120000 --reporter=junit --reporter-outfile="$REPORT" \
  ./tests/bun/compliance.test.ts ./tests/bun/lazy_driver.test.ts ./tests/bun/file_threads.test.ts ./tests/bun/hostile_files.test.ts) || status=$?
[[ -f "$REPORT" ]] || die "bun test wrote no report (exit status $status)"

# Totals from the JUnit report's <testsuites> element; passed tests per adapter from the
# <testcase> elements, which are self-closing when they passed.
total() { grep -m1 -oE "<testsuites [^>]*\b$1=\"[0-9]+\"" "$REPORT" | grep -oE '[0-9]+"$' | tr -d '"'; }
passed_for() { grep -cE "<testcase name=\"$1: [^>]*/>" "$REPORT" || true; }
TESTS="$(total tests)"
FAIL="$(total failures)"
SKIPPED="$(total skipped)"
PASS=$((TESTS - FAIL - SKIPPED))
MEMORY="$(passed_for MemoryStorageAdapter)"
FILE="$(passed_for FileStorageAdapter)"
MONGO="$(passed_for MongoDBAdapter)"

problems=()
verdict bun
