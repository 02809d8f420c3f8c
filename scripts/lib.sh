# shellcheck shell=bash
# Shared helpers for the rollsync local-stack scripts (kafka.sh, postgres.sh, nginx.sh, ...).
#
# Source it from a script that lives in scripts/:
#     source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#
# Every piece of state lives under $ROOT/.local (git-ignored):
#     .local/run/<name>.pid    pid files        .local/logs/<name>.log   logs
#     .local/kafka, .local/pg, .local/nginx     per-component state
#
# Environment (all optional): ROLLSYNC_KAFKA_PORT=19092, ROLLSYNC_KAFKA_CONTROLLER_PORT=19093,
# ROLLSYNC_PG_PORT=55432, ROLLSYNC_EDGE_PORT=8080, ROLLSYNC_{INGEST,TRANSFORM,RULES,ERP_CONNECTOR}_PORT=8101..8104.

if [[ -n "${_ROLLSYNC_LIB_SOURCED:-}" ]]; then
    return 0
fi
_ROLLSYNC_LIB_SOURCED=1

set -euo pipefail
# bash 5.2: '&' in a ${var//pat/rep} replacement means "the match"; we want it literal (paths may contain '&').
shopt -u patsub_replacement 2>/dev/null || true

# Repo root = parent of the directory holding this file; independent of the caller's cwd.
ROOT="$(cd -P -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)"
LOCAL="$ROOT/.local"
RUN_DIR="$LOCAL/run"
LOG_DIR="$LOCAL/logs"

: "${ROLLSYNC_KAFKA_PORT:=19092}"
: "${ROLLSYNC_KAFKA_CONTROLLER_PORT:=19093}"
: "${ROLLSYNC_PG_PORT:=55432}"
: "${ROLLSYNC_EDGE_PORT:=8080}"
: "${ROLLSYNC_INGEST_PORT:=8101}"
: "${ROLLSYNC_TRANSFORM_PORT:=8102}"
: "${ROLLSYNC_RULES_PORT:=8103}"
: "${ROLLSYNC_ERP_CONNECTOR_PORT:=8104}"

# Prefix for log lines; scripts may override it before or after sourcing.
: "${LOG_TAG:=$(basename -- "$0" .sh)}"

log() {
    printf '[rollsync %s] %s\n' "$LOG_TAG" "$*" >&2
}

die() {
    printf '[rollsync %s] error: %s\n' "$LOG_TAG" "$*" >&2
    exit 1
}

# One clear line instead of a silent `set -e` exit when an unexpected command fails.
_rollsync_on_err() {
    local rc=$1 line=$2 cmd=$3
    trap - ERR
    printf '[rollsync %s] error: command failed (exit %s) at %s:%s: %s\n' \
        "$LOG_TAG" "$rc" "$(basename -- "${BASH_SOURCE[1]:-$0}")" "$line" "$cmd" >&2
    exit "$rc"
}
set -E
trap '_rollsync_on_err "$?" "$LINENO" "$BASH_COMMAND"' ERR

ensure_local_dirs() {
    mkdir -p "$RUN_DIR" "$LOG_DIR"
}

is_root() {
    [[ "$(id -u)" -eq 0 ]]
}

# validate_port NAME VALUE -> dies unless VALUE is a TCP port number.
validate_port() {
    local name=$1 value=$2
    if [[ ! "$value" =~ ^[0-9]+$ ]] || ((value < 1 || value > 65535)); then
        die "$name='$value' is not a valid TCP port"
    fi
}

# port_in_use PORT -> 0 if something listens on PORT (any address), else 1.
port_in_use() {
    local port=$1
    if command -v ss >/dev/null 2>&1; then
        [[ -n "$(ss -Hltn "sport = :$port" 2>/dev/null)" ]] && return 0
        # ss found nothing listening; still try a connect in case ss lacks permission/namespace view.
    fi
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
}

# listener_pids PORT -> pids listening on PORT (needs ss; empty when unknown).
listener_pids() {
    local port=$1
    command -v ss >/dev/null 2>&1 || return 0
    ss -Hltnp "sport = :$port" 2>/dev/null | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u || true
}

# port_owner_desc PORT -> short human description of who listens on PORT.
port_owner_desc() {
    local port=$1 pid desc=""
    for pid in $(listener_pids "$port"); do
        desc+="${desc:+, }pid $pid ($(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | cut -c1-80))"
    done
    printf '%s' "${desc:-unknown process}"
}

# wait_for_port PORT [TIMEOUT_S=30] [PIDNAME] -> 0 once a TCP connect to 127.0.0.1:PORT succeeds.
# With PIDNAME, returns 2 early if that process is no longer running.
wait_for_port() {
    local port=$1 timeout=${2:-30} name=${3:-} deadline
    deadline=$((SECONDS + timeout))
    while ((SECONDS < deadline)); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            return 0
        fi
        if [[ -n "$name" ]] && ! is_running "$name"; then
            return 2
        fi
        sleep 0.2
    done
    return 1
}

# take_lock NAME [TIMEOUT_S=180] -> serialize start/stop of NAME across concurrent callers (flock on fd 9,
# released when the script exits). Long-running children must not inherit fd 9: start_bg closes it, other
# daemon launches use `9>&-`.
take_lock() {
    command -v flock >/dev/null 2>&1 || return 0
    ensure_local_dirs
    exec 9>"$RUN_DIR/$1.lock"
    flock -w "${2:-180}" 9 || die "another '$1' start/stop is still running (lock: $RUN_DIR/$1.lock)"
}

pid_file() { printf '%s/%s.pid' "$RUN_DIR" "$1"; }
log_file() { printf '%s/%s.log' "$LOG_DIR" "$1"; }

# read_pid NAME -> prints the pid recorded for NAME (nothing if none/garbage).
read_pid() {
    local f pid
    f=$(pid_file "$1")
    [[ -r "$f" ]] || return 0
    read -r pid <"$f" || true
    [[ "${pid:-}" =~ ^[0-9]+$ ]] && printf '%s' "$pid"
    return 0
}

# pid_alive PID -> process exists and is not a zombie.
pid_alive() {
    local pid=$1 state
    kill -0 "$pid" 2>/dev/null || return 1
    state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || true)
    [[ -n "$state" && "$state" != Z && "$state" != X ]]
}

# is_running NAME [MATCH] -> pid file names a live process (whose command line contains MATCH, if given;
# guards against a recycled pid).
is_running() {
    local name=$1 match=${2:-} pid
    pid=$(read_pid "$name")
    [[ -n "$pid" ]] || return 1
    pid_alive "$pid" || return 1
    if [[ -n "$match" ]]; then
        local cmdline
        cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)
        [[ "$cmdline" == *"$match"* ]] || return 1
    fi
}

# private_log FILE -> FILE exists and only its owner can read it (logs may hold what a process said).
private_log() {
    (umask 077 && : >>"$1")
    chmod 600 "$1"
}

# start_bg NAME CMD... -> runs CMD detached (own session, immune to SIGHUP), stdout+stderr appended to
# .local/logs/NAME.log (mode 0600), pid in .local/run/NAME.pid. Prints nothing; caller checks readiness.
# The log's start line shows CMD only: pass settings in the environment (exported by the caller) and secrets
# as files (<NAME>_FILE variables), never as arguments.
start_bg() {
    local name=$1
    shift
    ensure_local_dirs
    local logf
    logf=$(log_file "$name")
    private_log "$logf"
    printf '\n===== %s start %s: %s\n' "$(date '+%F %T')" "$name" "$*" >>"$logf"
    # A non-interactive shell does not put `&` jobs in their own process group, so setsid does not need to
    # fork and $! is the pid of CMD itself (setsid and nohup both exec).
    setsid nohup "$@" >>"$logf" 2>&1 </dev/null 9>&- &
    printf '%s\n' "$!" >"$(pid_file "$name")"
}

# stop_pid NAME [TIMEOUT_S=20] [MATCH] -> SIGTERM (to the whole session/process group when NAME leads one),
# wait, then SIGKILL. Removes the pid file. Succeeds when nothing runs. With MATCH, a live pid whose command
# line lacks MATCH is treated as a stale (recycled) pid and left alone.
stop_pid() {
    local name=$1 timeout=${2:-20} match=${3:-} pid target deadline
    pid=$(read_pid "$name")
    if [[ -z "$pid" ]] || ! pid_alive "$pid"; then
        rm -f "$(pid_file "$name")"
        log "$name: not running"
        return 0
    fi
    if [[ -n "$match" ]] && ! is_running "$name" "$match"; then
        rm -f "$(pid_file "$name")"
        log "$name: not running (stale pid file named pid $pid, which is another process; left alone)"
        return 0
    fi
    target=$pid
    if [[ "$(ps -o pgid= -p "$pid" 2>/dev/null | tr -d ' ')" == "$pid" ]]; then
        target=-$pid # process-group leader (started by start_bg): signal its children too
    fi
    log "$name: stopping pid $pid"
    kill -TERM -- "$target" 2>/dev/null || true
    deadline=$((SECONDS + timeout))
    while pid_alive "$pid" && ((SECONDS < deadline)); do
        sleep 0.2
    done
    if pid_alive "$pid"; then
        log "$name: still alive after ${timeout}s, sending SIGKILL"
        kill -KILL -- "$target" 2>/dev/null || true
        sleep 0.5
    fi
    rm -f "$(pid_file "$name")"
    log "$name: stopped"
}

# print_help -> the calling script's header comment (lines 2.. up to the first non-comment line).
print_help() {
    awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "$0"
}

# python_run SCRIPT ARGS... -> run a Python helper in the workspace venv (no dependency sync).
python_run() {
    local uv_bin
    uv_bin=$(command -v uv 2>/dev/null || true)
    [[ -z "$uv_bin" && -x "$HOME/.local/bin/uv" ]] && uv_bin="$HOME/.local/bin/uv"
    if [[ -n "$uv_bin" ]]; then
        "$uv_bin" run --quiet --no-sync --project "$ROOT" python "$@"
    elif [[ -x "$ROOT/.venv/bin/python" ]]; then
        "$ROOT/.venv/bin/python" "$@"
    else
        die "uv not found: install it (python3 -m pip install uv==0.13.9) and run 'uv sync' in $ROOT"
    fi
}

# render_template SRC DST VAR... -> copy SRC to DST replacing @VAR@ with the value of shell variable VAR.
render_template() {
    local src=$1 dst=$2 content var
    shift 2
    [[ -r "$src" ]] || die "template not found: $src"
    content=$(<"$src")
    for var in "$@"; do
        content=${content//"@${var}@"/"${!var}"}
    done
    if [[ "$content" =~ @[A-Z_]+@ ]]; then
        die "unrendered placeholder ${BASH_REMATCH[0]} left in $dst (from $src)"
    fi
    printf '%s\n' "$content" >"$dst.tmp.$$"
    mv -f "$dst.tmp.$$" "$dst"
}
