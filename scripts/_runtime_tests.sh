# shellcheck shell=bash disable=SC2154  # status, TESTS, ... are set by the sourcing script
# Sourced by test_node.sh and test_bun.sh: their logging, and one verdict on their test counts.
#
# log and die write to stderr, prefixed with the script's name.
#
# verdict RUNTIME reads the runner's exit `status`, the counts TESTS, PASS, FAIL, SKIPPED,
# the compliance tests passed per adapter MEMORY, FILE and MONGO, and any `problems` the
# caller found; it prints the summary line CI reads,
#   "<runtime>: N passed, N failed, N skipped (...)",
# and exits 1 if a test failed, none ran, or the MongoDB tests were skipped while
# MONGODB_URI is set (or CVM_REQUIRE_MONGODB=1).

log() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }
die() {
  log "$*"
  exit 1
}

verdict() {
  local runtime="$1" problem summary
  ((status == 0)) || problems+=("the $runtime test runner exited with status $status")
  ((TESTS > 0)) || problems+=("no tests ran")
  ((FAIL == 0)) || problems+=("$FAIL failed")
  ((MEMORY > 0)) || problems+=("no MemoryStorageAdapter compliance test passed")
  ((FILE == MEMORY)) || problems+=("FileStorageAdapter passed $FILE compliance tests, memory $MEMORY")
  if [[ -n "${MONGODB_URI:-}" || "${CVM_REQUIRE_MONGODB:-}" == "1" ]]; then
    ((SKIPPED == 0)) || problems+=("MONGODB_URI is set, but $SKIPPED tests were skipped")
    ((MONGO == MEMORY)) || problems+=("MongoDBAdapter passed $MONGO compliance tests, memory $MEMORY")
  else
    log "MONGODB_URI is not set: the MongoDB compliance tests were skipped"
  fi

  summary="$runtime: $PASS passed, $FAIL failed, $SKIPPED skipped"
  summary+=" (MemoryStorageAdapter $MEMORY, FileStorageAdapter $FILE, MongoDBAdapter $MONGO,"
  summary+=" other $((PASS - MEMORY - FILE - MONGO)))"
  for problem in "${problems[@]}"; do log "FAIL: $problem"; done
  echo "$summary"
  ((${#problems[@]} == 0)) || exit 1
}
