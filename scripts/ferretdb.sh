#!/usr/bin/env bash
# Start/stop a throwaway FerretDB v1 server (SQLite backend) for the MongoDB tests.
#
# Usage: scripts/ferretdb.sh start|stop|status|env
#
#   start   build FerretDB if needed, start it on a free loopback port, wait until it answers
#           a MongoDB `ping`, print `MONGODB_URI=mongodb://127.0.0.1:<port>/` on stdout
#           (idempotent: if it is already running, just prints the URI)
#   stop    stop it and remove its directory (idempotent)
#   status  say whether it is running; exit 0 if it is, 3 if not
#   env     print `MONGODB_URI=...` of the running server; exit 1 if none
#
# Only the MONGODB_URI line goes to stdout, so in CI:
#   scripts/ferretdb.sh start >> "$GITHUB_ENV"        or   eval "export $(scripts/ferretdb.sh start)"
#
# Environment:
#   FERRETDB_DIR            state, data, pid, port and log files   (default /tmp/cvm-ferretdb)
#   FERRETDB_PORT           port to listen on                      (default: first free from 27117)
#   FERRETDB_BIN            ferretdb binary to use / build         (default: ferretdb in GOBIN or GOPATH/bin)
#   FERRETDB_START_TIMEOUT  seconds to wait for the first ping     (default 60)
#
# Why not plain `go install github.com/FerretDB/FerretDB/cmd/ferretdb@v1.24.2`: the binary it
# produces panics at startup ("Invalid build/version/version.txt file content"), because the
# module zip lacks the generated build/version/version.txt. So this script builds the same
# module source from a copy with that file written (`go build -trimpath`; Go build cache makes
# rebuilds take seconds).
set -euo pipefail

readonly FERRETDB_VERSION="v1.24.2"
readonly FERRETDB_MODULE="github.com/FerretDB/FerretDB"
readonly DIR="${FERRETDB_DIR:-/tmp/cvm-ferretdb}"
readonly START_TIMEOUT="${FERRETDB_START_TIMEOUT:-60}"
readonly MARKER=".cvm-ferretdb"
readonly FIRST_PORT=27117

log() { printf 'ferretdb.sh: %s\n' "$*" >&2; }
die() {
  log "$*"
  exit 1
}

# --- binary ----------------------------------------------------------------------------------

default_bin() {
  if [[ -n "${FERRETDB_BIN:-}" ]]; then
    printf '%s\n' "$FERRETDB_BIN"
    return
  fi
  command -v go >/dev/null 2>&1 || die "Go is not installed; install Go (>= 1.24) or set FERRETDB_BIN to a working ferretdb ${FERRETDB_VERSION} binary"
  local gobin
  gobin="$(go env GOBIN)"
  [[ -n "$gobin" ]] || gobin="$(go env GOPATH)/bin"
  printf '%s/ferretdb\n' "$gobin"
}

bin_works() { [[ -x "$1" ]] && "$1" --version >/dev/null 2>&1; }

build_bin() {
  local bin="$1" src_dir work build_log
  build_log="${TMPDIR:-/tmp}/cvm-ferretdb-build.log"
  log "building FerretDB ${FERRETDB_VERSION} into ${bin} (first build takes minutes; log: ${build_log})"
  src_dir="$(go mod download -json "${FERRETDB_MODULE}@${FERRETDB_VERSION}" 2>>"$build_log" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')" ||
    die "go mod download ${FERRETDB_MODULE}@${FERRETDB_VERSION} failed; see ${build_log}"
  [[ -n "$src_dir" && -d "$src_dir" ]] || die "could not locate the FerretDB module source; see ${build_log}"
  work="$(mktemp -d "${TMPDIR:-/tmp}/cvm-ferretdb-src.XXXXXX")"
  cp -R "$src_dir/." "$work/"
  chmod -R u+w "$work"
  printf '%s\n' "$FERRETDB_VERSION" >"$work/build/version/version.txt"
  mkdir -p "$(dirname "$bin")"
  if ! (cd "$work" && GOFLAGS=-buildvcs=false go build -trimpath -o "$bin.tmp.$$" ./cmd/ferretdb) \
    >>"$build_log" 2>&1; then
    rm -rf "$bin.tmp.$$" "$work"
    tail -n 30 "$build_log" >&2 || true
    die "building FerretDB failed; full log: ${build_log}"
  fi
  rm -rf "$work"
  mv -f "$bin.tmp.$$" "$bin"
  bin_works "$bin" || die "built ${bin} but '${bin} --version' fails"
}

ensure_bin() {
  local bin lock
  bin="$(default_bin)"
  if bin_works "$bin"; then
    printf '%s\n' "$bin"
    return
  fi
  if [[ -n "${FERRETDB_BIN:-}" && -e "$bin" ]]; then
    die "FERRETDB_BIN=${bin} does not run ('${bin} --version' fails)"
  fi
  # One build at a time, across processes.
  lock="${TMPDIR:-/tmp}/cvm-ferretdb-build.lock"
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$lock"
    flock 9
  fi
  bin_works "$bin" || build_bin "$bin"
  if command -v flock >/dev/null 2>&1; then exec 9>&-; fi
  printf '%s\n' "$bin"
}

# --- MongoDB ping over bash /dev/tcp (no client needed) -------------------------------------

# OP_MSG { ping: 1, $db: "admin" }; answers OK if the reply contains `ok: 1` (double or int32).
ping_port() {
  # shellcheck disable=SC2016 # the snippet is expanded by the inner bash
  timeout 5 bash -c '
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    printf "\x33\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\xdd\x07\x00\x00\x00\x00\x00\x00\x00\x1e\x00\x00\x00\x10ping\x00\x01\x00\x00\x00\x02\$db\x00\x06\x00\x00\x00admin\x00\x00" >&3
    len=$(head -c 4 <&3 | od -An -tu4 | tr -d " \n")
    [[ -n "$len" && "$len" -gt 4 && "$len" -lt 65536 ]] || exit 1
    hex=$(head -c $((len - 4)) <&3 | od -An -tx1 | tr -d " \n")
    [[ "$hex" == *016f6b00000000000000f03f* || "$hex" == *106f6b0001000000* ]]
  ' _ "$1" 2>/dev/null
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

free_port() {
  local p
  for ((p = FIRST_PORT; p < FIRST_PORT + 200; p++)); do
    if ! port_in_use "$p"; then
      printf '%s\n' "$p"
      return
    fi
  done
  die "no free port in ${FIRST_PORT}-$((FIRST_PORT + 199)); set FERRETDB_PORT"
}

# --- state -----------------------------------------------------------------------------------

pid_alive() {
  local pid="$1"
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  # Make sure the pid was not reused by something else.
  if [[ -r "/proc/$pid/cmdline" ]]; then
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q ferretdb
  else
    ps -p "$pid" -o command= 2>/dev/null | grep -q ferretdb
  fi
}

read_file() { if [[ -f "$1" ]]; then cat "$1" 2>/dev/null || true; fi; }

running_pid() {
  local pid
  pid="$(read_file "$DIR/pid")"
  if [[ -n "$pid" ]] && pid_alive "$pid"; then printf '%s\n' "$pid"; fi
}

uri() { printf 'MONGODB_URI=mongodb://127.0.0.1:%s/\n' "$(read_file "$DIR/port")"; }

remove_dir() {
  [[ -d "$DIR" ]] || return 0
  if [[ -f "$DIR/$MARKER" ]]; then
    rm -rf "$DIR"
  elif rmdir "$DIR" 2>/dev/null; then
    :
  else
    die "${DIR} exists but was not created by this script (no ${MARKER}); refusing to delete it. Remove it or set FERRETDB_DIR."
  fi
}

# --- commands --------------------------------------------------------------------------------

cmd_start() {
  local pid bin port attempt deadline
  pid="$(running_pid)"
  if [[ -n "$pid" ]]; then
    if ping_port "$(read_file "$DIR/port")"; then
      log "already running (pid ${pid})"
      uri
      return
    fi
    log "pid ${pid} is running but does not answer ping; restarting it"
    cmd_stop
  fi
  remove_dir # leftovers of a crashed run

  bin="$(ensure_bin)"

  for attempt in 1 2 3; do
    if [[ -n "${FERRETDB_PORT:-}" ]]; then port="$FERRETDB_PORT"; else port="$(free_port)"; fi
    remove_dir
    mkdir -p "$DIR/data" "$DIR/state"
    chmod 700 "$DIR"
    : >"$DIR/$MARKER"
    printf '%s\n' "$port" >"$DIR/port"

    # --debug-addr=- : no debug HTTP listener (its default 127.0.0.1:8088 clashes between runs).
    local -a args=(
      --handler=sqlite
      "--sqlite-url=file:$DIR/data/"
      "--state-dir=$DIR/state"
      --telemetry=disable
      "--listen-addr=127.0.0.1:$port"
      --debug-addr=-
      --log-level=warn
    )
    printf '%s %s\n' "$bin" "${args[*]}" >"$DIR/cmdline"
    if command -v setsid >/dev/null 2>&1; then
      setsid nohup "$bin" "${args[@]}" </dev/null >"$DIR/ferretdb.log" 2>&1 &
    else
      nohup "$bin" "${args[@]}" </dev/null >"$DIR/ferretdb.log" 2>&1 &
    fi
    pid=$!
    printf '%s\n' "$pid" >"$DIR/pid"

    deadline=$((SECONDS + START_TIMEOUT))
    while ((SECONDS < deadline)); do
      if ! kill -0 "$pid" 2>/dev/null; then break; fi
      if ping_port "$port"; then
        log "started (pid ${pid}, port ${port}, dir ${DIR})"
        uri
        return
      fi
      sleep 0.2
    done

    if kill -0 "$pid" 2>/dev/null; then
      log "FerretDB (pid ${pid}) did not answer ping on 127.0.0.1:${port} within ${START_TIMEOUT}s; last log lines:"
      tail -n 40 "$DIR/ferretdb.log" >&2 || true
      cmd_stop
      exit 1
    fi
    if [[ -z "${FERRETDB_PORT:-}" ]] && grep -qi 'address already in use' "$DIR/ferretdb.log"; then
      log "port ${port} was taken meanwhile; trying another (attempt ${attempt})"
      continue
    fi
    log "FerretDB exited during startup; last log lines (${DIR}/ferretdb.log):"
    tail -n 40 "$DIR/ferretdb.log" >&2 || true
    exit 1
  done
  die "could not find a port to start FerretDB on"
}

cmd_stop() {
  local pid i
  pid="$(running_pid)"
  if [[ -n "$pid" ]]; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      log "pid ${pid} ignored SIGTERM for 10s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    log "stopped (pid ${pid})"
  fi
  remove_dir
}

cmd_status() {
  local pid
  pid="$(running_pid)"
  if [[ -n "$pid" ]]; then
    if ping_port "$(read_file "$DIR/port")"; then
      echo "running: pid ${pid}, port $(read_file "$DIR/port"), dir ${DIR}"
    else
      echo "running but not answering ping: pid ${pid}, port $(read_file "$DIR/port"), dir ${DIR}"
    fi
    return 0
  fi
  echo "not running (dir ${DIR})"
  return 3
}

cmd_env() {
  [[ -n "$(running_pid)" ]] || die "FerretDB is not running; run '$0 start'"
  uri
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  env) cmd_env ;;
  *)
    echo "usage: $0 start|stop|status|env" >&2
    exit 2
    ;;
esac
