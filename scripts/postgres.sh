#!/usr/bin/env bash
# Private PostgreSQL cluster for local development and tests, in .local/pg/data, on 127.0.0.1 only.
#
# usage: scripts/postgres.sh start|stop [--immediate]|crash|status|psql [psql args...]|reset
#   start   install PostgreSQL from apt if missing (root only), initdb once, start, wait until it accepts connections
#   stop    fast shutdown (pg_ctl stop -m fast); --immediate is the same as crash
#   crash   immediate shutdown (pg_ctl stop -m immediate: no checkpoint, WAL recovery on the next start); data kept
#   status  exit 0 if running, 3 if not
#   psql    psql as rollsync_admin on database postgres; remaining args are passed through
#   reset   stop and delete the cluster's data directory
#
# env: ROLLSYNC_PG_PORT (55432); ROLLSYNC_PG_FAST=1 turns fsync and synchronous_commit OFF - only for throwaway
#      runs that crash nothing (a crash can then lose committed transactions; DELIVERY.md section 2).
# DSN: postgresql://rollsync_admin@127.0.0.1:$ROLLSYNC_PG_PORT/postgres (no password: trust on loopback, see write_config).
# When run as root the server runs as the `postgres` OS user; the Debian system cluster (port 5432) is never used.
set -euo pipefail
LOG_TAG=postgres
# shellcheck source=scripts/lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

PG_SUPERUSER=rollsync_admin
PG_OS_USER=postgres
PG_DIR="$LOCAL/pg"
PG_LOG="$LOG_DIR/postgres.log"

# The server runs as the `postgres` OS user, which must reach its data directory. A checkout inside a 0700
# directory (a mktemp -d clone, /root) is out of its reach: then the cluster lives in a directory of its own
# under /var/tmp and .local/pg and .local/logs/postgres.log are links to it, so `make down`/`reset` still find it.
if [[ -L "$PG_DIR" ]]; then
    PG_DIR=$(readlink -f -- "$PG_DIR")
    PG_LOG="$PG_DIR/postgres.log"
elif [[ "$(id -u)" -eq 0 ]] && id -u "$PG_OS_USER" >/dev/null 2>&1 &&
    ! runuser -u "$PG_OS_USER" -- test -x "$ROOT" 2>/dev/null; then
    outside="/var/tmp/rollsync-pg-$(printf '%s' "$ROOT" | sha1sum | cut -c1-12)"
    mkdir -p "$LOCAL" "$LOG_DIR" "$outside"
    ln -sfn "$outside" "$PG_DIR"
    ln -sfn "$outside/postgres.log" "$PG_LOG"
    PG_DIR="$outside"
    PG_LOG="$PG_DIR/postgres.log"
fi
PG_DATA="$PG_DIR/data"
PG_RUN="$PG_DIR/run"
: "${ROLLSYNC_PG_FAST:=0}"
NAME=postgres

usage() {
    echo "usage: $(basename -- "$0") start|stop [--immediate]|crash|status|psql [args...]|reset" >&2
    exit 2
}

# --- binaries -------------------------------------------------------------------------------------------------

highest_bin_dir() {
    local d best="" best_v=-1 v
    for d in /usr/lib/postgresql/*/bin; do
        [[ -x "$d/initdb" && -x "$d/pg_ctl" ]] || continue
        v=$(basename -- "$(dirname -- "$d")")
        [[ "$v" =~ ^[0-9]+$ ]] || continue
        if ((v > best_v)); then best_v=$v best=$d; fi
    done
    printf '%s' "$best"
}

install_postgres() {
    is_root || die "PostgreSQL server not found (no /usr/lib/postgresql/*/bin/initdb): install it, e.g. sudo apt-get install postgresql"
    command -v apt-get >/dev/null 2>&1 || die "PostgreSQL server not found and apt-get is unavailable: install PostgreSQL 15+"
    log "PostgreSQL server not found; installing the Debian 'postgresql' package (one-time)..."
    local t0=$SECONDS
    apt-get update -qq >/dev/null 2>&1 || die "apt-get update failed (run it by hand to see why)"
    local out
    out=$(DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql 2>&1) ||
        { printf '%s\n' "$out" | tail -n 20 >&2; die "apt-get install postgresql failed"; }
    log "installed postgresql in $((SECONDS - t0))s"
    # Debian's postgresql-common creates a 'main' cluster on port 5432 and may start it. We never touch or use
    # it: our private cluster lives in .local/pg on port $ROLLSYNC_PG_PORT.
    local online=""
    if command -v pg_lsclusters >/dev/null 2>&1; then
        online=$(pg_lsclusters -h 2>/dev/null | awk '$4 ~ /online/ {printf "%s/%s port %s ", $1, $2, $3}' || true)
    fi
    if [[ -n "$online" ]]; then
        log "note: Debian auto-started its system cluster (${online% }); rollsync neither uses nor touches it"
    fi
}

PG_BIN=""
resolve_bin() {
    PG_BIN=$(highest_bin_dir)
    if [[ -z "$PG_BIN" ]]; then
        install_postgres
        PG_BIN=$(highest_bin_dir)
        [[ -n "$PG_BIN" ]] || die "PostgreSQL installed but no /usr/lib/postgresql/*/bin/initdb found"
    fi
    # An existing cluster must be run by its own major version.
    if [[ -f "$PG_DATA/PG_VERSION" ]]; then
        local have
        read -r have <"$PG_DATA/PG_VERSION"
        if [[ "/usr/lib/postgresql/$have/bin" != "$PG_BIN" ]]; then
            [[ -x "/usr/lib/postgresql/$have/bin/pg_ctl" ]] ||
                die "cluster in $PG_DATA is PostgreSQL $have but only $(basename -- "$(dirname -- "$PG_BIN")") is installed; run: $0 reset"
            PG_BIN="/usr/lib/postgresql/$have/bin"
        fi
    fi
}

# --- running as the postgres OS user when we are root ---------------------------------------------------------

as_pg() {
    if is_root; then
        (cd "$PG_DIR" && runuser -u "$PG_OS_USER" -- "$@")
    else
        (cd "$PG_DIR" && "$@")
    fi
}

pg_can() { # pg_can TEST-FLAG PATH -> the server's OS user passes `test FLAG PATH`
    if is_root; then runuser -u "$PG_OS_USER" -- test "$1" "$2"; else test "$1" "$2"; fi
}

prepare_dirs() {
    ensure_local_dirs
    mkdir -p "$PG_DIR" "$PG_RUN"
    [[ -e "$PG_DATA" ]] || install -d -m 0700 "$PG_DATA"
    [[ -e "$PG_LOG" ]] || : >"$PG_LOG"
    chmod 600 "$PG_LOG"  # the server's owner reads it; nobody else
    if is_root; then
        id -u "$PG_OS_USER" >/dev/null 2>&1 || die "OS user '$PG_OS_USER' missing (it comes with the postgresql package)"
        # .local and .local/logs belong to root: the server only needs to traverse them.
        chmod o+x "$LOCAL" "$LOG_DIR" 2>/dev/null || true
        chmod 0755 "$PG_DIR"
        chown "$PG_OS_USER:$PG_OS_USER" "$PG_DIR" "$PG_RUN" "$PG_LOG"
        if [[ "$(stat -c %U "$PG_DATA")" != "$PG_OS_USER" ]]; then
            chown -R "$PG_OS_USER:$PG_OS_USER" "$PG_DATA"
        fi
        chmod 0700 "$PG_DATA"
        if ! pg_can -w "$PG_DIR"; then
            local d="" part
            local IFS=/
            for part in ${PG_DIR#/}; do
                d+="/$part"
                pg_can -x "$d" ||
                    die "OS user '$PG_OS_USER' cannot traverse $d ($(stat -c '%A %U' "$d")); run 'chmod o+x $d' or move the repo (e.g. under /work or /srv)"
            done
            die "OS user '$PG_OS_USER' cannot write $PG_DIR"
        fi
        pg_can -w "$PG_LOG" || die "OS user '$PG_OS_USER' cannot write $PG_LOG"
    fi
}

# --- cluster ----------------------------------------------------------------------------------------------------

pg_running() {
    [[ -f "$PG_DATA/PG_VERSION" ]] || return 1
    as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1
}

pg_ready() { # pg_ready [TIMEOUT_S]
    "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$ROLLSYNC_PG_PORT" -d postgres -U "$PG_SUPERUSER" -t "${1:-3}"
}

ensure_initdb() {
    if [[ -f "$PG_DATA/PG_VERSION" ]]; then
        return 0
    fi
    if [[ -n "$(ls -A "$PG_DATA")" ]]; then
        die "$PG_DATA is not empty but holds no cluster (no PG_VERSION); inspect it or run: $0 reset"
    fi
    local locale_opt=--locale=C.UTF-8
    local locales
    locales=$(locale -a 2>/dev/null || true)
    if ! grep -qiE '^c\.utf-?8$' <<<"$locales"; then
        locale_opt=--locale=C
    fi
    local t0=$SECONDS out
    log "initdb in ${PG_DATA#"$ROOT"/} (PostgreSQL $(basename -- "$(dirname -- "$PG_BIN")"), $locale_opt)"
    if ! out=$(as_pg "$PG_BIN/initdb" -D "$PG_DATA" --auth=trust --username="$PG_SUPERUSER" -E UTF8 \
        "$locale_opt" 2>&1); then
        printf '%s\n' "$out" | tail -n 20 >&2
        die "initdb failed"
    fi
    # Our settings live in rollsync.conf, regenerated on every start.
    printf "\n# rollsync: local overrides, regenerated by scripts/postgres.sh on every start\ninclude_if_exists = 'rollsync.conf'\n" \
        >>"$PG_DATA/postgresql.conf"
    log "initdb done in $((SECONDS - t0))s"
}

write_config() {
    local sockets="$PG_RUN" fsync=on sync_commit=on fpw=on
    # Unix socket paths are limited to 107 bytes; fall back to TCP only for very deep checkouts.
    if ((${#PG_RUN} + 16 > 107)); then
        log "warning: $PG_RUN is too long for a unix socket path; listening on TCP 127.0.0.1 only"
        sockets=""
    fi
    if [[ "$ROLLSYNC_PG_FAST" == 1 ]]; then
        log "warning: ROLLSYNC_PG_FAST=1: fsync=off, synchronous_commit=off (throwaway runs that crash nothing only)"
        fsync=off sync_commit=off fpw=off
    fi
    local conf="$PG_DATA/rollsync.conf"
    cat >"$conf" <<EOF
# Managed by scripts/postgres.sh - regenerated on every start; change the script, not this file.
listen_addresses = '127.0.0.1'
port = $ROLLSYNC_PG_PORT
unix_socket_directories = '$sockets'
max_connections = 200
shared_buffers = 256MB
# Durability: ON by default (crash tests need it). ROLLSYNC_PG_FAST=1 turns it off for throwaway runs.
fsync = $fsync
synchronous_commit = $sync_commit
full_page_writes = $fpw
# stderr is captured by pg_ctl -l into .local/logs/postgres.log
logging_collector = off
log_destination = 'stderr'
log_line_prefix = '%m [%p] %q%u@%d '
log_min_duration_statement = -1
EOF
    # Private dev/test cluster bound to 127.0.0.1: trust on loopback is acceptable here (no passwords to
    # manage); anything listening elsewhere, or any shared machine, needs scram-sha-256 instead.
    cat >"$PG_DATA/pg_hba.conf" <<'EOF'
# Managed by scripts/postgres.sh. Private dev/test cluster, loopback only: trust is acceptable here.
# TYPE  DATABASE     USER  ADDRESS        METHOD
local   all          all                  trust
host    all          all   127.0.0.1/32   trust
host    replication  all   127.0.0.1/32   trust
EOF
    if is_root; then chown "$PG_OS_USER:$PG_OS_USER" "$conf" "$PG_DATA/pg_hba.conf"; fi
}

record_pid() {
    local pid=""
    [[ -r "$PG_DATA/postmaster.pid" ]] && read -r pid <"$PG_DATA/postmaster.pid"
    if [[ "$pid" =~ ^[0-9]+$ ]]; then printf '%s\n' "$pid" >"$(pid_file "$NAME")"; fi
}

cmd_start() {
    validate_port ROLLSYNC_PG_PORT "$ROLLSYNC_PG_PORT"
    resolve_bin
    prepare_dirs
    if pg_running; then
        if pg_ready 10; then
            record_pid
            log "already running (pid $(read_pid "$NAME"), 127.0.0.1:$ROLLSYNC_PG_PORT)"
            local want=on have
            [[ "$ROLLSYNC_PG_FAST" == 1 ]] && want=off
            have=$("$PG_BIN/psql" -X -Atq -h 127.0.0.1 -p "$ROLLSYNC_PG_PORT" -U "$PG_SUPERUSER" -d postgres \
                -c 'SHOW fsync' 2>/dev/null || true)
            if [[ -n "$have" && "$have" != "$want" ]]; then
                log "warning: running with fsync=$have but ROLLSYNC_PG_FAST=$ROLLSYNC_PG_FAST wants fsync=$want; run '$0 stop' then start to apply"
            fi
            return 0
        fi
        die "cluster in ${PG_DATA#"$ROOT"/} is running but not accepting connections on 127.0.0.1:$ROLLSYNC_PG_PORT (ROLLSYNC_PG_PORT changed? run '$0 stop' first); see $PG_LOG"
    fi
    if port_in_use "$ROLLSYNC_PG_PORT"; then
        die "port $ROLLSYNC_PG_PORT is already in use by $(port_owner_desc "$ROLLSYNC_PG_PORT"); stop it or choose another port with ROLLSYNC_PG_PORT=<port>"
    fi
    local t0=$SECONDS
    ensure_initdb
    write_config
    printf '\n===== %s start postgres (%s)\n' "$(date '+%F %T')" "$PG_BIN" >>"$PG_LOG"
    if ! as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t 60 start >/dev/null 2>&1 9>&-; then
        echo "----- last 30 lines of $PG_LOG -----" >&2
        tail -n 30 "$PG_LOG" >&2 || true
        die "pg_ctl start failed (log: $PG_LOG)"
    fi
    local deadline=$((SECONDS + 30))
    until pg_ready 2; do
        ((SECONDS < deadline)) || die "server started but 127.0.0.1:$ROLLSYNC_PG_PORT is not accepting connections; see $PG_LOG"
        sleep 0.3
    done
    record_pid
    log "ready in $((SECONDS - t0))s: postgresql://$PG_SUPERUSER@127.0.0.1:$ROLLSYNC_PG_PORT/postgres (pid $(read_pid "$NAME"), log: ${PG_LOG#"$ROOT"/})"
}

cmd_stop() { # cmd_stop [MODE=fast]
    local mode=${1:-fast}
    PG_BIN=$(highest_bin_dir)
    if [[ -z "$PG_BIN" || ! -f "$PG_DATA/PG_VERSION" ]]; then
        rm -f "$(pid_file "$NAME")"
        log "not running"
        return 0
    fi
    resolve_bin
    if ! pg_running; then
        rm -f "$(pid_file "$NAME")"
        log "not running"
        return 0
    fi
    log "stopping ($mode)"
    as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m "$mode" -w -t 60 stop >/dev/null ||
        die "pg_ctl stop failed; see $PG_LOG"
    rm -f "$(pid_file "$NAME")"
    log "stopped"
}

cmd_status() {
    PG_BIN=$(highest_bin_dir)
    if [[ -n "$PG_BIN" && -f "$PG_DATA/PG_VERSION" ]]; then
        resolve_bin
        if pg_running; then
            local pid=""
            read -r pid <"$PG_DATA/postmaster.pid" || true
            if pg_ready 2; then
                echo "postgres: running (pid $pid), accepting connections on 127.0.0.1:$ROLLSYNC_PG_PORT"
            else
                echo "postgres: running (pid $pid), NOT accepting connections on 127.0.0.1:$ROLLSYNC_PG_PORT"
            fi
            exit 0
        fi
    fi
    echo "postgres: not running"
    exit 3
}

cmd_psql() {
    resolve_bin
    pg_running || die "not running; start it with: $0 start"
    local psql="$PG_BIN/psql"
    [[ -x "$psql" ]] || psql=$(command -v psql || true)
    [[ -n "$psql" ]] || die "psql not found (Debian: apt-get install postgresql-client)"
    exec "$psql" -h 127.0.0.1 -p "$ROLLSYNC_PG_PORT" -U "$PG_SUPERUSER" -d postgres "$@"
}

cmd_reset() {
    cmd_stop
    rm -rf "$PG_DATA"
    rm -rf "${PG_RUN:?}"/* "${PG_RUN:?}"/.s.PGSQL.* 2>/dev/null || true
    log "removed ${PG_DATA#"$ROOT"/}"
}

[[ $# -ge 1 ]] || usage
cmd=$1
shift
case "$cmd" in
    start) take_lock "$NAME"; cmd_start ;;
    stop)
        case "${1:-}" in
            "") mode=fast ;;
            --immediate) mode=immediate ;;
            *) usage ;;
        esac
        take_lock "$NAME"
        cmd_stop "$mode"
        ;;
    crash) take_lock "$NAME"; cmd_stop immediate ;;
    status) cmd_status ;;
    psql) cmd_psql "$@" ;;
    reset) take_lock "$NAME"; cmd_reset ;;
    -h | --help | help) print_help; exit 0 ;;
    *) usage ;;
esac
