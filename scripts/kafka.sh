#!/usr/bin/env bash
# Local single-node Apache Kafka 4.0.1 (KRaft, combined broker+controller) from Maven Central jars. No Docker.
#
# usage: scripts/kafka.sh fetch|start|stop|kill|status|reset
#   fetch   download the broker jars into .local/kafka/lib (needs Java >= 17 and Maven reaching Maven Central)
#   start   fetch if needed, format storage once, start the broker, wait until a real metadata request succeeds
#   stop    stop the broker (SIGTERM, SIGKILL after 20 s)
#   kill    SIGKILL the broker at once (a crash: no flush, no controlled shutdown); data is kept, `start` recovers it
#   status  exit 0 if running, 3 if not
#   reset   stop and delete the broker's data and cluster id (jars are kept)
#
# env: ROLLSYNC_KAFKA_PORT (19092), ROLLSYNC_KAFKA_CONTROLLER_PORT (19093), ROLLSYNC_KAFKA_START_TIMEOUT (90 s),
#      ROLLSYNC_KAFKA_HEAP (512m). Binds 127.0.0.1 only. State: .local/kafka, log: .local/logs/kafka.log.
# Recipe and sources: the LOCAL_KAFKA.md design note (shared docs).
set -euo pipefail
LOG_TAG=kafka
# shellcheck source=scripts/lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

KAFKA_VERSION=4.0.1
KAFKA_JAR="kafka_2.13-${KAFKA_VERSION}.jar"
KAFKA_DIR="$LOCAL/kafka"
KAFKA_LIB="$KAFKA_DIR/lib"
KAFKA_DATA="$KAFKA_DIR/data"
KAFKA_PROPS="$KAFKA_DIR/server.properties"
CLUSTER_ID_FILE="$KAFKA_DIR/cluster.id"
DEPLOY_DIR="$ROOT/deploy/kafka"
LOG4J_CONF="$DEPLOY_DIR/log4j2.properties"
: "${ROLLSYNC_KAFKA_START_TIMEOUT:=90}"
: "${ROLLSYNC_KAFKA_HEAP:=512m}"
NAME=kafka

usage() {
    echo "usage: $(basename -- "$0") fetch|start|stop|kill|status|reset" >&2
    exit 2
}

require_java() {
    command -v java >/dev/null 2>&1 ||
        die "java not found: install Java 17+ (Debian: apt-get install openjdk-17-jre-headless)"
    local line ver major
    line=$(java -version 2>&1 | head -n 1 || true)
    ver=$(sed -n 's/.*version "\([^"]*\)".*/\1/p' <<<"$line")
    [[ "$ver" == 1.* ]] && ver=${ver#1.}
    major=${ver%%[.+-]*}
    [[ "$major" =~ ^[0-9]+$ ]] || die "cannot parse 'java -version' output ($line); need Java 17+"
    ((major >= 17)) ||
        die "Java $major found, Kafka $KAFKA_VERSION needs 17+ (Debian: apt-get install openjdk-17-jre-headless)"
}

require_maven() {
    command -v mvn >/dev/null 2>&1 || die "mvn not found: install Maven (Debian: apt-get install maven)"
}

jars_present() {
    [[ -f "$KAFKA_LIB/$KAFKA_JAR" ]]
}

cmd_fetch() {
    require_java
    if jars_present; then
        log "jars already in ${KAFKA_LIB#"$ROOT"/} ($KAFKA_JAR present), skipping download"
        return 0
    fi
    require_maven
    mkdir -p "$KAFKA_DIR/build"
    # Run Maven on a copy of the POM inside .local so its target/ dir never lands in the repo tree.
    cp -f "$DEPLOY_DIR/pom.xml" "$KAFKA_DIR/build/pom.xml"
    local tmp="$KAFKA_LIB.tmp.$$" t0=$SECONDS out
    rm -rf "$tmp"
    log "downloading Kafka $KAFKA_VERSION jars from Maven Central (first run only)..."
    if ! out=$(mvn -B -q -f "$KAFKA_DIR/build/pom.xml" -DincludeScope=runtime -DoutputDirectory="$tmp" \
        org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies 2>&1); then
        rm -rf "$tmp"
        printf '%s\n' "$out" | tail -n 20 >&2
        die "mvn copy-dependencies failed (is Maven Central reachable? try: mvn -q dependency:get -Dartifact=org.apache.kafka:kafka_2.13:$KAFKA_VERSION:pom)"
    fi
    local need
    for need in "$KAFKA_JAR" log4j-core-2.24.3.jar log4j-slf4j-impl-2.24.3.jar; do
        [[ -f "$tmp/$need" ]] || { rm -rf "$tmp"; die "download incomplete: $need missing"; }
    done
    rm -rf "$KAFKA_LIB"
    mv "$tmp" "$KAFKA_LIB"
    local n
    n=$(find "$KAFKA_LIB" -maxdepth 1 -name '*.jar' | wc -l)
    log "fetched $n jars into ${KAFKA_LIB#"$ROOT"/} in $((SECONDS - t0))s"
}

storage_tool() {
    java -Xmx256m -Dlog4j2.configurationFile="$LOG4J_CONF" -cp "$KAFKA_LIB/*" kafka.tools.StorageTool "$@"
}

cluster_id() {
    local cid=""
    if [[ -s "$CLUSTER_ID_FILE" ]]; then
        read -r cid <"$CLUSTER_ID_FILE" || true
    elif [[ -f "$KAFKA_DATA/meta.properties" ]]; then
        # Data survived but the id file did not: keep using the formatted id.
        cid=$(sed -n 's/^cluster\.id=//p' "$KAFKA_DATA/meta.properties")
    fi
    if [[ -z "$cid" ]]; then
        cid=$(storage_tool random-uuid 2>/dev/null | tail -n 1) || die "StorageTool random-uuid failed"
        [[ "$cid" =~ ^[A-Za-z0-9_-]{22}$ ]] || die "StorageTool random-uuid returned '$cid'"
    fi
    printf '%s\n' "$cid" >"$CLUSTER_ID_FILE"
    printf '%s' "$cid"
}

check_port_free() {
    local port=$1 var=$2
    if port_in_use "$port"; then
        die "port $port is already in use by $(port_owner_desc "$port"); stop it or choose another port with $var=<port>"
    fi
}

healthy() { # healthy TIMEOUT_S [PID]
    local args=(--bootstrap "127.0.0.1:$ROLLSYNC_KAFKA_PORT" --timeout "$1")
    [[ -n "${2:-}" ]] && args+=(--pid "$2")
    python_run "$ROOT/scripts/wait_kafka.py" "${args[@]}"
}

cmd_start() {
    validate_port ROLLSYNC_KAFKA_PORT "$ROLLSYNC_KAFKA_PORT"
    validate_port ROLLSYNC_KAFKA_CONTROLLER_PORT "$ROLLSYNC_KAFKA_CONTROLLER_PORT"
    [[ "$ROLLSYNC_KAFKA_PORT" != "$ROLLSYNC_KAFKA_CONTROLLER_PORT" ]] ||
        die "ROLLSYNC_KAFKA_PORT and ROLLSYNC_KAFKA_CONTROLLER_PORT must differ"
    ensure_local_dirs
    mkdir -p "$KAFKA_DIR"
    private_log "$(log_file "$NAME")"  # also a log written before logs were made private

    local pid
    if is_running "$NAME" "$KAFKA_LIB"; then
        pid=$(read_pid "$NAME")
        if healthy 5 "$pid" >/dev/null 2>&1; then
            log "already running and healthy (pid $pid, 127.0.0.1:$ROLLSYNC_KAFKA_PORT)"
            return 0
        fi
        log "running (pid $pid) but not answering yet; waiting up to ${ROLLSYNC_KAFKA_START_TIMEOUT}s"
        healthy "$ROLLSYNC_KAFKA_START_TIMEOUT" "$pid" ||
            die "broker pid $pid is not answering on 127.0.0.1:$ROLLSYNC_KAFKA_PORT; see $(log_file "$NAME") or run: $0 stop"
        return 0
    fi
    rm -f "$(pid_file "$NAME")"

    check_port_free "$ROLLSYNC_KAFKA_PORT" ROLLSYNC_KAFKA_PORT
    check_port_free "$ROLLSYNC_KAFKA_CONTROLLER_PORT" ROLLSYNC_KAFKA_CONTROLLER_PORT
    # The readiness check needs aiokafka from the workspace venv; find out before starting anything.
    python_run "$ROOT/scripts/wait_kafka.py" --check-import || exit 1

    cmd_fetch

    # shellcheck disable=SC2034 # read indirectly by render_template
    local KAFKA_PORT=$ROLLSYNC_KAFKA_PORT CONTROLLER_PORT=$ROLLSYNC_KAFKA_CONTROLLER_PORT DATA_DIR=$KAFKA_DATA
    render_template "$DEPLOY_DIR/server.properties.template" "$KAFKA_PROPS" KAFKA_PORT CONTROLLER_PORT DATA_DIR

    local cid out
    cid=$(cluster_id) || exit 1
    mkdir -p "$KAFKA_DATA"
    if [[ ! -f "$KAFKA_DATA/meta.properties" ]]; then
        log "formatting storage in ${KAFKA_DATA#"$ROOT"/} (cluster id $cid)"
        out=$(storage_tool format -t "$cid" -c "$KAFKA_PROPS" --ignore-formatted 2>&1) ||
            { printf '%s\n' "$out" | tail -n 20 >&2; die "kafka storage format failed"; }
    else
        local have
        have=$(sed -n 's/^cluster\.id=//p' "$KAFKA_DATA/meta.properties")
        [[ "$have" == "$cid" ]] || log "note: data dir is formatted with cluster id $have (cluster.id file says $cid)"
    fi

    local logf t0=$SECONDS
    logf=$(log_file "$NAME")
    cd "$KAFKA_DIR"
    start_bg "$NAME" java "-Xms$ROLLSYNC_KAFKA_HEAP" "-Xmx$ROLLSYNC_KAFKA_HEAP" -XX:+UseG1GC \
        -Djava.awt.headless=true "-Dlog4j2.configurationFile=$LOG4J_CONF" \
        -cp "$KAFKA_LIB/*" kafka.Kafka "$KAFKA_PROPS"
    pid=$(read_pid "$NAME")
    log "started broker pid $pid on 127.0.0.1:$ROLLSYNC_KAFKA_PORT (controller $ROLLSYNC_KAFKA_CONTROLLER_PORT), waiting for metadata..."

    local rc=0
    healthy "$ROLLSYNC_KAFKA_START_TIMEOUT" "$pid" || rc=$?
    case $rc in
        0) log "ready in $((SECONDS - t0))s (log: ${logf#"$ROOT"/})" ;;
        3)
            rm -f "$(pid_file "$NAME")"
            echo "----- last 30 lines of $logf -----" >&2
            tail -n 30 "$logf" >&2 || true
            die "broker process $pid exited during startup (log: $logf)"
            ;;
        4)
            stop_pid "$NAME" 20 "$KAFKA_LIB"
            die "readiness check cannot import aiokafka; run 'uv sync' in $ROOT, then start again"
            ;;
        1)
            echo "----- last 30 lines of $logf -----" >&2
            tail -n 30 "$logf" >&2 || true
            stop_pid "$NAME" 20 "$KAFKA_LIB"
            die "broker did not answer a metadata request within ${ROLLSYNC_KAFKA_START_TIMEOUT}s; stopped it (log: $logf)"
            ;;
        *)
            stop_pid "$NAME" 20 "$KAFKA_LIB"
            die "readiness checker scripts/wait_kafka.py failed (exit $rc); stopped the broker (log: $logf)"
            ;;
    esac
}

cmd_stop() {
    stop_pid "$NAME" 20 "$KAFKA_LIB"
}

cmd_kill() {
    local pid
    if ! is_running "$NAME" "$KAFKA_LIB"; then
        log "not running"
        return 0
    fi
    pid=$(read_pid "$NAME")
    kill -KILL "$pid"
    local deadline=$((SECONDS + 20))
    # The JVM's leader thread turns zombie before its other threads let go of the sockets: wait for the ports.
    while pid_alive "$pid" || port_in_use "$ROLLSYNC_KAFKA_PORT" || port_in_use "$ROLLSYNC_KAFKA_CONTROLLER_PORT"; do
        ((SECONDS < deadline)) || die "broker pid $pid or its ports still alive 20 s after SIGKILL"
        sleep 0.1
    done
    rm -f "$(pid_file "$NAME")"
    log "killed broker pid $pid (SIGKILL; data kept in ${KAFKA_DATA#"$ROOT"/})"
}

cmd_status() {
    if is_running "$NAME" "$KAFKA_LIB"; then
        local pid
        pid=$(read_pid "$NAME")
        if port_in_use "$ROLLSYNC_KAFKA_PORT"; then
            echo "kafka: running (pid $pid), listening on 127.0.0.1:$ROLLSYNC_KAFKA_PORT"
        else
            echo "kafka: running (pid $pid), not listening on 127.0.0.1:$ROLLSYNC_KAFKA_PORT yet"
        fi
        exit 0
    fi
    echo "kafka: not running"
    exit 3
}

cmd_reset() {
    cmd_stop
    rm -rf "$KAFKA_DATA" "$CLUSTER_ID_FILE" "$KAFKA_PROPS"
    log "removed broker data and cluster id (jars kept in ${KAFKA_LIB#"$ROOT"/})"
}

[[ $# -ge 1 ]] || usage
case "$1" in
    fetch) take_lock "$NAME"; mkdir -p "$KAFKA_DIR"; cmd_fetch ;;
    start) take_lock "$NAME"; cmd_start ;;
    stop) take_lock "$NAME"; cmd_stop ;;
    kill) take_lock "$NAME"; cmd_kill ;;
    status) cmd_status ;;
    reset) take_lock "$NAME"; cmd_reset ;;
    -h | --help | help) print_help; exit 0 ;;
    *) usage ;;
esac
