#!/usr/bin/env bash
# Local nginx edge proxy in front of the four services, with its own prefix under .local/ (never /etc/nginx).
#
# usage: scripts/nginx.sh start|stop|status|render
#   start   install nginx from apt if missing (root only), render the config, validate it (nginx -t), start
#           (if already running: re-render and reload when the config changed)
#   stop    graceful stop (SIGQUIT, then TERM/KILL after 20 s)
#   status  exit 0 if running, 3 if not
#   render  only render and validate the config, print its path
#
# env: ROLLSYNC_EDGE_PORT (8080) and upstreams ROLLSYNC_INGEST_PORT (8101), ROLLSYNC_TRANSFORM_PORT (8102),
#      ROLLSYNC_RULES_PORT (8103), ROLLSYNC_ERP_CONNECTOR_PORT (8104); ROLLSYNC_NGINX_INSTANCE (nginx) names the
#      instance: state in .local/<instance>/, pid .local/run/<instance>.pid, log .local/logs/<instance>.log.
# Template: deploy/nginx/rollsync.conf.template. Routing check: scripts/check_edge_routing.sh.
set -euo pipefail
LOG_TAG=nginx
# shellcheck source=scripts/lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

: "${ROLLSYNC_NGINX_INSTANCE:=nginx}"
[[ "$ROLLSYNC_NGINX_INSTANCE" =~ ^[A-Za-z0-9_.-]+$ ]] || die "ROLLSYNC_NGINX_INSTANCE must be a plain name"
NAME=$ROLLSYNC_NGINX_INSTANCE
# shellcheck disable=SC2034 # NGINX_* are read indirectly by render (template variables)
NGINX_NAME=$NAME
LOG_TAG=$NAME
NGINX_PREFIX="$LOCAL/$NAME"
NGINX_CONF="$NGINX_PREFIX/nginx.conf"
NGINX_PID_FILE="$RUN_DIR/$NAME.pid"
NGINX_LOG_DIR="$LOG_DIR"
TEMPLATE="$ROOT/deploy/nginx/rollsync.conf.template"
TEMPLATE_VARS=(ROLLSYNC_EDGE_PORT ROLLSYNC_INGEST_PORT ROLLSYNC_TRANSFORM_PORT ROLLSYNC_RULES_PORT
    ROLLSYNC_ERP_CONNECTOR_PORT NGINX_NAME NGINX_USER_LINE NGINX_PREFIX NGINX_LOG_DIR NGINX_PID_FILE)

usage() {
    echo "usage: $(basename -- "$0") start|stop|status|render" >&2
    exit 2
}

NGINX_BIN=""
find_nginx() {
    NGINX_BIN=$(command -v nginx 2>/dev/null || true)
    [[ -z "$NGINX_BIN" && -x /usr/sbin/nginx ]] && NGINX_BIN=/usr/sbin/nginx
    [[ -n "$NGINX_BIN" ]]
}

install_nginx() {
    is_root || die "nginx not found: install it (Debian: sudo apt-get install nginx-light, or nginx)"
    command -v apt-get >/dev/null 2>&1 || die "nginx not found and apt-get is unavailable: install nginx"
    local before after pkg=nginx t0=$SECONDS
    before=$(pgrep -x nginx | sort || true)
    apt-get update -qq >/dev/null 2>&1 || die "apt-get update failed (run it by hand to see why)"
    # nginx-light (Debian <= 12) is the smallest build; newer releases only ship nginx.
    local policy
    policy=$(apt-cache policy nginx-light 2>/dev/null || true)
    if [[ "$policy" =~ Candidate:\ [0-9] ]]; then
        pkg=nginx-light
    fi
    log "nginx not found; installing Debian package '$pkg' (one-time)..."
    local out
    out=$(DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" 2>&1) ||
        { printf '%s\n' "$out" | tail -n 20 >&2; die "apt-get install $pkg failed"; }
    log "installed $pkg in $((SECONDS - t0))s"
    # The package may have started the system nginx (port 80, /etc/nginx). We never use it: stop it, but only
    # if the install started it.
    after=$(pgrep -x nginx | sort || true)
    local new
    new=$(comm -13 <(printf '%s\n' "$before") <(printf '%s\n' "$after") | grep . || true)
    if [[ -n "$new" ]]; then
        log "the install started the system nginx (pids: $(tr '\n' ' ' <<<"$new")); stopping it (rollsync never uses it)"
        if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet nginx 2>/dev/null; then
            systemctl stop nginx >/dev/null 2>&1 || true
        elif command -v service >/dev/null 2>&1; then
            service nginx stop >/dev/null 2>&1 || true
        fi
        sleep 0.5
        local p
        for p in $new; do
            if pid_alive "$p"; then kill -TERM "$p" 2>/dev/null || true; fi
        done
    else
        log "the install did not start a system nginx (nothing to stop)"
    fi
    find_nginx || die "nginx installed but the nginx binary is not on PATH or in /usr/sbin"
}

nginx_with() { # nginx_with CONF ARGS... -> nginx with our prefix; -e keeps the startup log out of /var/log/nginx
    local conf=$1 help
    shift
    local args=(-p "$NGINX_PREFIX/" -c "$conf")
    help=$("$NGINX_BIN" -h 2>&1 || true)
    if [[ "$help" == *"-e filename"* ]]; then
        args+=(-e "$NGINX_LOG_DIR/$NAME.log")
    fi
    "$NGINX_BIN" "${args[@]}" "$@"
}

render() { # render DEST
    local dest=$1 v
    for v in ROLLSYNC_EDGE_PORT ROLLSYNC_INGEST_PORT ROLLSYNC_TRANSFORM_PORT ROLLSYNC_RULES_PORT ROLLSYNC_ERP_CONNECTOR_PORT; do
        validate_port "$v" "${!v}"
    done
    # Workers must be able to write the root-owned temp dirs under .local, so they run as root too.
    # shellcheck disable=SC2034 # read indirectly below
    local NGINX_USER_LINE="# (not root: no user directive)"
    # shellcheck disable=SC2034
    is_root && NGINX_USER_LINE="user root;"
    [[ -r "$TEMPLATE" ]] || die "template not found: $TEMPLATE"
    if command -v envsubst >/dev/null 2>&1; then
        local shell_format="" ; for v in "${TEMPLATE_VARS[@]}"; do shell_format+="\${$v} "; done
        (
            for v in "${TEMPLATE_VARS[@]}"; do export "$v=${!v}"; done
            envsubst "$shell_format" <"$TEMPLATE" >"$dest"
        )
    else
        local content
        content=$(<"$TEMPLATE")
        for v in "${TEMPLATE_VARS[@]}"; do
            content=${content//"\${$v}"/"${!v}"}
        done
        printf '%s\n' "$content" >"$dest"
    fi
}

prepare() { # render into place and validate; prints nothing on success
    ensure_local_dirs
    mkdir -p "$NGINX_PREFIX/tmp"/{client_body,proxy,fastcgi,uwsgi,scgi} "$NGINX_PREFIX/logs"
    local new="$NGINX_CONF.new" out
    render "$new"
    local rc=0
    out=$(nginx_with "$new" -t -q 2>&1) || rc=$?
    # `nginx -t` creates an empty pid file (it never truncates a live one); drop it when nothing runs.
    [[ -s "$NGINX_PID_FILE" ]] || rm -f "$NGINX_PID_FILE"
    if ((rc != 0)); then
        printf '%s\n' "$out" >&2
        rm -f "$new"
        die "rendered config is invalid (see above; template: ${TEMPLATE#"$ROOT"/})"
    fi
    if [[ -f "$NGINX_CONF" ]] && cmp -s "$new" "$NGINX_CONF"; then
        rm -f "$new"
        return 1 # unchanged
    fi
    mv -f "$new" "$NGINX_CONF"
    return 0
}

running() {
    is_running "$NAME" "$NGINX_PREFIX"
}

cmd_render() {
    find_nginx || install_nginx
    prepare || true
    echo "$NGINX_CONF"
}

cmd_start() {
    find_nginx || install_nginx
    if running; then
        if prepare; then
            nginx_with "$NGINX_CONF" -s reload 2>/dev/null 9>&- || kill -HUP "$(read_pid "$NAME")"
            log "already running (pid $(read_pid "$NAME")); config changed, reloaded"
        else
            log "already running (pid $(read_pid "$NAME")) on 127.0.0.1:$ROLLSYNC_EDGE_PORT"
        fi
        return 0
    fi
    rm -f "$NGINX_PID_FILE"
    if port_in_use "$ROLLSYNC_EDGE_PORT"; then
        die "port $ROLLSYNC_EDGE_PORT is already in use by $(port_owner_desc "$ROLLSYNC_EDGE_PORT"); stop it or choose another port with ROLLSYNC_EDGE_PORT=<port>"
    fi
    prepare || true
    local out
    private_log "$(log_file "$NAME")"
    private_log "$NGINX_LOG_DIR/$NAME-access.log"
    printf '\n===== %s start %s\n' "$(date '+%F %T')" "$NAME" >>"$(log_file "$NAME")"
    out=$(nginx_with "$NGINX_CONF" 2>&1 9>&-) || { printf '%s\n' "$out" >&2; die "nginx failed to start (log: $(log_file "$NAME"))"; }
    local deadline=$((SECONDS + 10))
    until [[ -s "$NGINX_PID_FILE" ]] && running && (exec 3<>"/dev/tcp/127.0.0.1/$ROLLSYNC_EDGE_PORT") 2>/dev/null; do
        ((SECONDS < deadline)) || { tail -n 20 "$(log_file "$NAME")" >&2 || true; die "nginx did not come up on 127.0.0.1:$ROLLSYNC_EDGE_PORT"; }
        sleep 0.1
    done
    log "running (pid $(read_pid "$NAME")) on http://127.0.0.1:$ROLLSYNC_EDGE_PORT -> ingest:$ROLLSYNC_INGEST_PORT transform:$ROLLSYNC_TRANSFORM_PORT rules:$ROLLSYNC_RULES_PORT erp-connector:$ROLLSYNC_ERP_CONNECTOR_PORT"
}

cmd_stop() {
    if ! running; then
        rm -f "$NGINX_PID_FILE"
        log "not running"
        return 0
    fi
    local pid deadline
    pid=$(read_pid "$NAME")
    log "stopping pid $pid (graceful)"
    kill -QUIT "$pid" 2>/dev/null || true
    deadline=$((SECONDS + 20))
    while pid_alive "$pid" && ((SECONDS < deadline)); do
        sleep 0.1
    done
    if pid_alive "$pid"; then
        stop_pid "$NAME" 5 # TERM, then KILL
    fi
    rm -f "$NGINX_PID_FILE"
    log "stopped"
}

cmd_status() {
    if running; then
        echo "$NAME: running (pid $(read_pid "$NAME")) on 127.0.0.1:$ROLLSYNC_EDGE_PORT"
        exit 0
    fi
    echo "$NAME: not running"
    exit 3
}

[[ $# -ge 1 ]] || usage
case "$1" in
    start) take_lock "$NAME"; cmd_start ;;
    stop) take_lock "$NAME"; cmd_stop ;;
    status) cmd_status ;;
    render) take_lock "$NAME"; cmd_render ;;
    -h | --help | help) print_help; exit 0 ;;
    *) usage ;;
esac
