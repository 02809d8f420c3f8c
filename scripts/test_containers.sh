#!/usr/bin/env bash
# `make test-containers`: build every image and run the docker compose stack end to end on this machine.
#
#   scripts/test_containers.sh           install-if-missing, daemon, base image, build, compose up, tests, down
#   scripts/test_containers.sh build     only the images (prints cold/cached build times)
#   scripts/test_containers.sh up|down   only the compose stack (the local override, .local/containers/compose.env)
#
# No image registry is reachable here, so every image starts from local/debian:bookworm, made once with
# debootstrap (docs: ../shared/docs/LOCAL_DOCKER.md). The user-facing docker-compose.yml keeps the official
# images; deploy/local-images/compose.local.yml swaps in the Debian-built Kafka, PostgreSQL, nginx, Prometheus
# and leaves Grafana out. A dockerd this script starts is stopped on exit; one already running is left alone.
LOG_TAG=containers
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CT="$LOCAL/containers"
# The edge serves HTTPS here (its HTTP port only answers 308); tests/containers/stack.py reads it too.
export ROLLSYNC_EDGE_TLS_PORT="${ROLLSYNC_EDGE_TLS_PORT:-$((ROLLSYNC_EDGE_PORT + 363))}"
TAG=${ROLLSYNC_TAG:-dev}
DEBIAN_MIRROR=${ROLLSYNC_DEBIAN_MIRROR:-http://deb.debian.org/debian}
COMPOSE_VERSION=v5.6.0
BUILDX_VERSION=v0.38.2
IMAGES=(ingest:services/ingest transform:services/transform rules:services/rules
    erp-connector:services/erp-connector erp-simulator:devkit/erp-simulator alert-relay:services/alert-relay)
COMPOSE=(docker compose -p "rollsync-ct-${ROLLSYNC_EDGE_PORT}" -f "$ROOT/docker-compose.yml"
    -f "$ROOT/deploy/local-images/compose.local.yml" --env-file "$CT/compose.env")
STARTED_DOCKERD=""

ensure_engine() {
    command -v dockerd >/dev/null 2>&1 && return 0
    log "installing Debian's docker.io"
    apt-get update -qq && apt-get install -y -qq docker.io >/dev/null
}

build_plugin() {  # build_plugin NAME GO_PACKAGE VERSION
    local name=$1 pkg=$2 version=$3 dir="$CT/plugins"
    docker "$name" version >/dev/null 2>&1 && return 0
    command -v go >/dev/null 2>&1 || die "docker $name is missing and Go is not installed to build it"
    log "building the docker $name plugin $version with Go (a few minutes on 2 cores)"
    local t0=$SECONDS
    mkdir -p "$dir/$name" "$HOME/.docker/cli-plugins"
    (cd "$dir/$name" && printf '//go:build tools\n\npackage tools\n\nimport _ "%s"\n' "$pkg" >tools.go &&
        { [[ -f go.mod ]] || go mod init "plugin-$name" >/dev/null 2>&1; } &&
        go get "$pkg@$version" >/dev/null 2>&1 &&
        go build -o "$HOME/.docker/cli-plugins/docker-$name" "$pkg") || die "could not build docker $name"
    log "docker $name built in $((SECONDS - t0)) s"
}

start_daemon() {
    docker info >/dev/null 2>&1 && return 0
    ensure_local_dirs
    log "starting dockerd (log: .local/logs/dockerd.log)"
    (umask 077 && : >"$LOG_DIR/dockerd.log")  # 0600 like every log under .local (tests/security)
    chmod 600 "$LOG_DIR/dockerd.log"
    dockerd >>"$LOG_DIR/dockerd.log" 2>&1 &
    STARTED_DOCKERD=$!
    echo "$STARTED_DOCKERD" >"$RUN_DIR/dockerd.pid"
    local i
    for ((i = 0; i < 120; i++)); do docker info >/dev/null 2>&1 && return 0; sleep 0.5; done
    die "dockerd did not answer within 60 s (see .local/logs/dockerd.log)"
}

stop_daemon() {
    [[ -n $STARTED_DOCKERD ]] || return 0
    log "stopping the dockerd this script started (pid $STARTED_DOCKERD)"
    kill "$STARTED_DOCKERD" 2>/dev/null && wait "$STARTED_DOCKERD" 2>/dev/null || true
    rm -f "$RUN_DIR/dockerd.pid"
}

base_image() {
    docker image inspect local/debian:bookworm >/dev/null 2>&1 && return 0
    command -v debootstrap >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq debootstrap >/dev/null; }
    local rootfs="$CT/rootfs" t0=$SECONDS
    if [[ ! -f $rootfs/etc/debian_version ]]; then
        log "debootstrap bookworm (minbase) from $DEBIAN_MIRROR"
        rm -rf "$rootfs" && debootstrap --variant=minbase bookworm "$rootfs" "$DEBIAN_MIRROR" >"$LOG_DIR/debootstrap.log"
    fi
    # Without apt's caches, lists and docs: 74 MB instead of 199 MB (images set up their own apt lists).
    tar -C "$rootfs" --exclude='./var/cache/apt/archives/*.deb' --exclude='./var/cache/apt/*.bin' \
        --exclude='./var/lib/apt/lists/*' --exclude='./usr/share/doc/*' --exclude='./usr/share/man/*' \
        --exclude='./usr/share/locale/*' --exclude='./usr/share/info/*' -c . | docker import - local/debian:bookworm >/dev/null
    log "base image local/debian:bookworm made in $((SECONDS - t0)) s"
}

build() {  # build TAG DOCKERFILE CONTEXT [build args...]; its time goes to timings.txt
    local tag=$1 file=$2 context=$3 t0=$EPOCHREALTIME
    shift 3
    docker buildx build --load -q -t "$tag" -f "$file" "$@" "$context" >/dev/null ||
        die "building $tag failed (rerun: docker buildx build -t $tag -f $file $context)"
    awk -v tag="$tag" -v t0="$t0" -v t1="$EPOCHREALTIME" 'BEGIN { printf "%s %.1f\n", tag, t1 - t0 }' \
        >>"$CT/timings.txt"
}

build_images() {
    local t0=$SECONDS ctx="$CT/ctx" image name dir
    rm -f "$CT/timings.txt"  # written by build() and up(), printed at the end of a full run
    mkdir -p "$ctx/python" "$ctx/kafka"
    # The build machine's CA bundle goes only into the builder base (its TLS path to PyPI needs it).
    cp -f "$ROOT/deploy/local-images/python.Dockerfile" "$ctx/python/Dockerfile"
    cp -f "${PIP_CERT:-/etc/ssl/certs/ca-certificates.crt}" "$ctx/python/ca-bundle.crt"
    build local/python:3.11-bookworm "$ctx/python/Dockerfile" "$ctx/python" --target runtime
    build local/python-builder:3.11-bookworm "$ctx/python/Dockerfile" "$ctx/python" --target builder
    "$ROOT/scripts/kafka.sh" fetch
    rm -rf "$ctx/kafka/libs" && cp -r "$LOCAL/kafka/lib" "$ctx/kafka/libs"
    cp -f "$ROOT"/deploy/local-images/kafka-*.sh "$ROOT/deploy/kafka/log4j2.properties" "$ctx/kafka/"
    build rollsync-local/kafka:4.0.1 "$ROOT/deploy/local-images/kafka.Dockerfile" "$ctx/kafka"
    build rollsync-local/postgres:15-bookworm "$ROOT/deploy/local-images/postgres.Dockerfile" "$ROOT/deploy/local-images"
    build rollsync-local/nginx:bookworm "$ROOT/deploy/local-images/nginx.Dockerfile" "$ROOT/deploy/local-images"
    build rollsync-local/prometheus:bookworm "$ROOT/deploy/local-images/prometheus.Dockerfile" "$ROOT/deploy/local-images"
    build rollsync-local/alertmanager:bookworm "$ROOT/deploy/local-images/alertmanager.Dockerfile" "$ROOT/deploy/local-images"
    for image in "${IMAGES[@]}"; do
        name=${image%%:*} dir=${image#*:}
        build "rollsync/$name:$TAG" "$ROOT/$dir/Dockerfile" "$ROOT" \
            --build-arg PYTHON_BASE=local/python:3.11-bookworm \
            --build-arg PYTHON_BUILDER_BASE=local/python-builder:3.11-bookworm
    done
    log "images built in $((SECONDS - t0)) s"
}

# Everything the compose files read from the environment, in ONE place: .local/containers/compose.env (mode
# 600), passed as --env-file. It holds no secret: those are files in .local/containers/secrets, which compose
# bind-mounts (`scripts/stack.sh compose-secrets`: the services' ones from .local/secrets.env and the signing key,
# the compose-only ones made once and kept; a random SMTP password here, so the image scan has one more to look
# for). compose.env names that directory (ROLLSYNC_SECRETS_DIR) and the signing key's group
# (ROLLSYNC_SECRETS_GID), then the local run's settings.
# The local run pushes every 10 s instead of seed 004's 30 min (docker-compose.yml: ERP_PUSH_INTERVAL_S): on
# fresh volumes the connector's first scheduled push is one interval after it first starts, and the test
# expects a captured customer in the ERP simulator within minutes.
ERP_PUSH_INTERVAL_S=${ROLLSYNC_CT_ERP_PUSH_INTERVAL_S:-10}

compose_env() {
    local file="$CT/compose.env" tmp="$CT/compose.env.tmp.$$" smtp="" vars
    [[ -f $CT/secrets/smtp_password && $(wc -c <"$CT/secrets/smtp_password") -ge 32 ]] ||
        smtp=$(head -c 36 /dev/urandom | base64 -w0 | tr '+/' '-_')  # else compose-secrets keeps the file
    vars=$(ALERTMANAGER_SMTP_PASSWORD=$smtp "$ROOT/scripts/stack.sh" compose-secrets "$CT/secrets")
    [[ $vars == *ROLLSYNC_SECRETS_DIR=*ROLLSYNC_SECRETS_GID=* ]] ||
        die "scripts/stack.sh compose-secrets printed no ROLLSYNC_SECRETS_DIR/GID"
    (umask 077 && {
        printf '%s\n' "$vars"  # ROLLSYNC_SECRETS_DIR and _GID
        # no group robot in this run (alert-relay under env=dev answers not_configured)
        printf 'ALERT_WECOM_URL=\nALERT_DINGTALK_URL=\nALERT_DINGTALK_SECRET=\n'
        printf 'ROLLSYNC_TAG=%s\nROLLSYNC_EDGE_PORT=%s\nERP_PUSH_INTERVAL_S=%s\n' "$TAG" "$ROLLSYNC_EDGE_PORT" \
            "$ERP_PUSH_INTERVAL_S"
        # the edge's HTTPS (its HTTP port only redirects) with a self-signed certificate (tests trust tls.crt)
        printf 'ROLLSYNC_TLS_DIR=%s\nROLLSYNC_EDGE_TLS_PORT=%s\n' "$CT/tls" "$ROLLSYNC_EDGE_TLS_PORT"
    } >"$tmp")
    mv -f "$tmp" "$file"
}

# The edge's host port may lie in the kernel's ephemeral range (32768-60999): a passing outgoing connection on
# this machine can hold it as its local port, and Docker's bind then fails (seen once: a client of another
# Kafka held 127.0.0.1:45080). Wait for such a socket to go, and start once more on that one error.
wait_port_unused() {  # wait_port_unused PORT TIMEOUT_S
    local port=$1 deadline=$((SECONDS + $2))
    command -v ss >/dev/null 2>&1 || return 0
    while ((SECONDS < deadline)); do
        [[ -z $(ss -Htan "sport = :$port" 2>/dev/null | grep -v TIME-WAIT) ]] && return 0
        sleep 1
    done
    log "port $port is still in use: $(ss -Htanp "sport = :$port" 2>/dev/null | head -3)"
}

up() {
    [[ -s "$CT/tls/tls.crt" ]] || "$ROOT/scripts/stack.sh" dev-cert "$CT/tls"
    compose_env
    local t0=$SECONDS attempt rc out="$CT/compose-up.log"
    for attempt in 1 2; do
        wait_port_unused "$ROLLSYNC_EDGE_PORT" 120
        rc=0
        "${COMPOSE[@]}" up -d --no-build --wait --wait-timeout 600 2>"$out" || rc=$?
        grep -v '^ \(Container\|Network\|Volume\) ' "$out" >&2 || true
        ((rc == 0)) && break
        if ((attempt == 1)) && grep -q 'address already in use' "$out"; then
            log "the edge's port $ROLLSYNC_EDGE_PORT was held by another socket; starting once more"
            continue
        fi
        "${COMPOSE[@]}" ps -a >&2
        die "compose stack did not become healthy"
    done
    log "compose stack healthy $((SECONDS - t0)) s after up"
    echo "compose up -> every service healthy $((SECONDS - t0))" >>"$CT/timings.txt"
}

down() { "${COMPOSE[@]}" down -v --remove-orphans >/dev/null 2>&1 || true; }

all() {
    local t0=$SECONDS status=0
    ensure_local_dirs
    ensure_engine
    start_daemon
    trap 'down; stop_daemon' EXIT
    build_plugin compose github.com/docker/compose/v5/cmd "$COMPOSE_VERSION"
    build_plugin buildx github.com/docker/buildx/cmd/buildx "$BUILDX_VERSION"
    base_image
    compose_env  # before the build: the image scan then looks for secrets that existed while building
    build_images
    down  # a stack an interrupted run left behind, with its volumes: every run starts from empty ones
    up
    rm -f "$CT/figures.txt"
    ROLLSYNC_CT_COMPOSE="${COMPOSE[*]}" "$ROOT/.venv/bin/python" -m pytest -p no:cacheprovider tests/containers -q ||
        status=$?
    {
        echo "timings this run (s):" && sed 's/^/  /' "$CT/timings.txt"
        [[ ! -f $CT/figures.txt ]] || cat "$CT/figures.txt"
    } | sed 's/^/  /' >&2
    log "test-containers finished in $((SECONDS - t0)) s: $([[ $status == 0 ]] && echo passed || echo FAILED)"
    exit "$status"
}

mkdir -p "$CT"
case ${1:-all} in
    all) all ;;
    build) start_daemon && base_image && build_images ;;
    up) start_daemon && up ;;
    down) down ;;
    *) die "usage: scripts/test_containers.sh [all|build|up|down]" ;;
esac
