#!/usr/bin/env bash
# The whole local stack: bootstrap, infra (Kafka, PostgreSQL, nginx), migrations, services.
#
#   scripts/stack.sh bootstrap   uv + the workspace virtualenv
#   scripts/stack.sh infra       Kafka + PostgreSQL, schemas, roles, migrations, dev client
#   scripts/stack.sh up          infra + every service + the ERP simulator + the nginx edge
#   scripts/stack.sh down        stop everything this script started (by pid)
#   scripts/stack.sh env         print the services' environment (for running one by hand)
#   scripts/stack.sh stop-services  stop only the service processes (infra keeps running)
#   scripts/stack.sh rotate-signing-key   new token signing key; the old one stays published (docs/runbook.md)
#   scripts/stack.sh retire-signing-key   stop publishing the previous key (after its last token expired)
#   scripts/stack.sh compose-secrets [DIR]  the secret files docker-compose.yml mounts (default .local/compose-secrets)
LOG_TAG=stack
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

UV_VERSION=0.13.9
SERVICES=(ingest transform rules erp-connector)
# Processes: transform runs its two consumers apart, so a history import never delays progress reports.
PROCESSES=(ingest transform transform-progress rules erp-connector)
SECRETS="$LOCAL/secrets.env"
# Only ingest signs tokens (Ed25519); every other service reads its public keys from ingest's JWKS.
SIGNING_KEY="$LOCAL/secrets/token-signing.pem"
PREVIOUS_KEY="$LOCAL/secrets/token-signing.previous.pem"  # public half only, published until retired
SECRET_DIR="$LOCAL/secrets"  # one file per secret, mode 0600: what the processes are given (<NAME>_FILE)

bootstrap() {
    if ! command -v uv >/dev/null 2>&1; then
        command -v python3 >/dev/null 2>&1 || die "python3 is missing: install python3 (3.11+)"
        log "installing uv $UV_VERSION from PyPI"
        python3 -m pip install --quiet "uv==$UV_VERSION" || die "could not install uv with pip"
    fi
    (cd "$ROOT" && uv sync --frozen --quiet) || die "uv sync failed (see above)"
}

# Random development secrets, made once per checkout and never committed. Needs nothing but the kernel's
# random source (a fresh clone has no .venv yet: the README's Docker path starts here). A file with any secret
# missing or empty (an older version of this script wrote such files) is made again; a complete one is kept.
SECRET_VARS=(PG_INGEST PG_TRANSFORM PG_RULES PG_ERP DEV_CLIENT_SECRET ERP_PASSWORD)

secrets_complete() {
    [[ -s "$SECRETS" ]] || return 1
    local var
    for var in "${SECRET_VARS[@]}"; do
        grep -qE "^${var}=.{16,}$" "$SECRETS" || return 1
    done
}

random_secret() {  # 32 URL-safe characters (192 bits)
    local value
    value=$(head -c 48 /dev/urandom | base64 -w0 | tr '+/' '-_' | tr -d '=' | head -c 32)
    [[ ${#value} -eq 32 ]] || die "could not read /dev/urandom"
    printf '%s' "$value"
}

# new_signing_key PATH: an Ed25519 private key (PKCS#8 PEM), mode 0600. The workspace's Python when it exists,
# else openssl (a fresh clone runs `scripts/stack.sh env` before any .venv).
new_signing_key() {
    local path=$1 tmp="$1.tmp.$$"
    (umask 077 && mkdir -p "$(dirname "$path")" && chmod 700 "$(dirname "$path")")
    if [[ -x "$ROOT/.venv/bin/python" ]] && "$ROOT/.venv/bin/python" -c 'import cryptography' 2>/dev/null; then
        (umask 077 && "$ROOT/.venv/bin/python" - "$tmp" <<'PY'
import sys
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

pem = Ed25519PrivateKey.generate().private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
)
with open(sys.argv[1], "wb") as f:
    f.write(pem)
PY
        )
    elif command -v openssl >/dev/null 2>&1; then
        (umask 077 && openssl genpkey -algorithm ed25519 -out "$tmp" 2>/dev/null) ||
            die "openssl genpkey -algorithm ed25519 failed (OpenSSL 1.1.1 or newer is needed)"
    else
        die "cannot make a token signing key: run 'make bootstrap' first or install openssl"
    fi
    chmod 600 "$tmp"
    mv -f "$tmp" "$path"
}

ensure_signing_key() {
    [[ -s "$SIGNING_KEY" ]] && return 0
    log "writing a new token signing key to $SIGNING_KEY"
    new_signing_key "$SIGNING_KEY"
}

# public_half PRIVATE OUT: the public key of PRIVATE as PEM.
public_half() {
    if command -v openssl >/dev/null 2>&1; then
        openssl pkey -in "$1" -pubout -out "$2" 2>/dev/null || die "openssl could not read $1"
    else
        "$ROOT/.venv/bin/python" - "$1" "$2" <<'PY'
import sys
from cryptography.hazmat.primitives import serialization

key = serialization.load_pem_private_key(open(sys.argv[1], "rb").read(), password=None)
pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
open(sys.argv[2], "wb").write(pem)
PY
    fi
}

ensure_secrets() {
    ensure_local_dirs
    ensure_signing_key
    # The HS256 TOKEN_SECRET of older checkouts is used by nothing now: do not keep a secret around for nothing.
    if [[ -f "$SECRETS" ]] && grep -q '^TOKEN_SECRET=' "$SECRETS"; then
        sed -i '/^TOKEN_SECRET=/d' "$SECRETS"
    fi
    secrets_complete && return 0
    [[ -e "$SECRETS" ]] && log "$SECRETS has a missing or empty secret: writing new ones"
    local tmp="$SECRETS.tmp.$$" var
    (umask 077 && for var in "${SECRET_VARS[@]}"; do printf '%s=%s\n' "$var" "$(random_secret)"; done >"$tmp")
    mv -f "$tmp" "$SECRETS"
}

# secret_file VAR -> the path of VAR's file (.local/secrets/pg-ingest for PG_INGEST).
secret_file() { printf '%s/%s' "$SECRET_DIR" "$(tr 'A-Z_' 'a-z-' <<<"$1")"; }

# write_secret_files -> .local/secrets/<name>, one per secret of secrets.env, readable by their owner only.
# Written again on every start, so an edited secrets.env (a rotation) reaches the processes started next.
write_secret_files() {
    local var value tmp
    (umask 077 && mkdir -p "$SECRET_DIR")
    chmod 700 "$SECRET_DIR"
    while IFS='=' read -r var value; do
        [[ -n "$var" && "$var" != \#* ]] || continue
        tmp="$(secret_file "$var").tmp.$$"
        (umask 077 && printf '%s' "$value" >"$tmp")
        mv -f "$tmp" "$(secret_file "$var")"
    done <"$SECRETS"
}

# service_env SVC -> the KEY=VALUE lines a service process needs. Secrets are paths to their files
# (<NAME>_FILE, read by libs/common settings), so this output holds no secret and may be shown.
service_env() {
    local svc=$1 prefix schema password port
    prefix=$(tr 'a-z-' 'A-Z_' <<<"${svc%-progress}")_
    case $svc in
        ingest) schema=ingest password=PG_INGEST port=$ROLLSYNC_INGEST_PORT ;;
        transform) schema=transform password=PG_TRANSFORM port=$ROLLSYNC_TRANSFORM_PORT ;;
        transform-progress) schema=transform password=PG_TRANSFORM port=${ROLLSYNC_TRANSFORM_PROGRESS_PORT:-8105} ;;
        rules) schema=rules password=PG_RULES port=$ROLLSYNC_RULES_PORT ;;
        erp-connector) schema=erp password=PG_ERP port=$ROLLSYNC_ERP_CONNECTOR_PORT ;;
    esac
    printf '%s\n' "${prefix}ENV=${ROLLSYNC_ENV:-dev}" "${prefix}PORT=$port" \
        "${prefix}POSTGRES__PORT=$ROLLSYNC_PG_PORT" "${prefix}POSTGRES__USER=$schema" \
        "${prefix}POSTGRES__PASSWORD_FILE=$(secret_file "$password")" \
        "${prefix}KAFKA__BOOTSTRAP_SERVERS=127.0.0.1:$ROLLSYNC_KAFKA_PORT"
    if [[ $svc == ingest ]]; then  # the only holder of a private key
        printf '%s\n' "${prefix}TOKEN_SIGNING_KEY_FILE=$SIGNING_KEY"
        [[ -s "$PREVIOUS_KEY" ]] && printf '%s\n' "${prefix}TOKEN_PUBLISHED_KEY_FILES=$PREVIOUS_KEY"
    else
        printf '%s\n' "${prefix}TOKEN_JWKS_URL=http://127.0.0.1:$ROLLSYNC_INGEST_PORT/.well-known/jwks.json"
    fi
    case $svc in
        transform) printf '%s\n' "TRANSFORM_ROLE=lines" ;;
        transform-progress) printf '%s\n' "TRANSFORM_ROLE=progress" ;;
    esac
    if [[ $svc == erp-connector ]]; then
        # Development points the connector at the ERP simulator, with the simulator's generated password.
        printf '%s\n' "${prefix}ERP__BASE_URL=http://127.0.0.1:${ROLLSYNC_ERP_SIMULATOR_PORT:-8190}" \
            "${prefix}ERP__USERNAME=rollsync" "${prefix}ERP__PASSWORD_FILE=$(secret_file ERP_PASSWORD)" \
            "${prefix}PUSH__CREATE_DEFAULTS={\"sort1\":\"101\"}"  # 客户分类 is required on create; per instance
    fi
}

simulator_env() {
    # ORDS_FROM_CLOCK: the simulator keeps customers in memory while PostgreSQL keeps ours; ords from the
    # clock are never re-issued after a restart (else: "ord already linked to another customer").
    printf '%s\n' "ERP_SIMULATOR_PORT=${ROLLSYNC_ERP_SIMULATOR_PORT:-8190}" "ERP_SIMULATOR_USER=rollsync" \
        "ERP_SIMULATOR_PASSWORD_FILE=$(secret_file ERP_PASSWORD)" "ERP_SIMULATOR_ORDS_FROM_CLOCK=true"
}

# start_with_env NAME ENV_FUNC ARG CMD... -> start_bg NAME CMD with the lines of `ENV_FUNC ARG` exported
# (in its environment, not on its command line, so not in the log's start line).
start_with_env() {
    local name=$1 env_func=$2 arg=$3 line
    shift 3
    (
        while IFS= read -r line; do export "${line?}"; done < <("$env_func" "$arg")
        start_bg "$name" "$@"
    )
}

schema_of() { [[ $1 == erp-connector ]] && echo erp || echo "$1"; }

migrate_all() {
    local svc schema pwvar
    for svc in "${SERVICES[@]}"; do
        schema=$(schema_of "$svc")
        pwvar=PG_$(tr 'a-z' 'A-Z' <<<"$schema")
        (ROLLSYNC_PG_PORT=$ROLLSYNC_PG_PORT \
            "$ROOT/.venv/bin/python" -m common.migrations provision --schema "$schema" \
                --password-file "$(secret_file "$pwvar")" &&
            "$ROOT/.venv/bin/python" -m common.migrations migrate --schema "$schema" \
                --dir "$ROOT/services/$svc/migrations") | sed 's/^/[rollsync migrate] /' >&2
    done
}

dev_client() {
    (set -a && source "$SECRETS" && eval "$(service_env ingest | sed 's/^/export /')" &&
        "$ROOT/.venv/bin/python" -m ingest.entrypoints.cli create dev-local --name "development client" \
            --scopes contracts:write,progress:write,customers:write,sync:read,admin \
            --per-minute 100000 --per-day 10000000 --rows-per-day 10000000 --secret-env DEV_CLIENT_SECRET --if-missing) |
        sed 's/^/[rollsync dev-client] /' >&2
}

infra() {
    "$ROOT/scripts/kafka.sh" start
    "$ROOT/scripts/postgres.sh" start
    ensure_secrets
    write_secret_files
    migrate_all
    dev_client
}

wait_ready() {
    local name=$1 url=$2 deadline=$((SECONDS + 120))
    while ((SECONDS < deadline)); do
        curl -fsS -o /dev/null "$url" 2>/dev/null && return 0
        is_running "$name" || {
            tail -n 20 "$(log_file "$name")" >&2
            die "$name exited during start-up (log: $(log_file "$name"))"
        }
        sleep 0.5
    done
    die "$name not ready at $url after 120 s (log: $(log_file "$name"))"
}

start_service() {
    local svc=$1 module port
    module=$(tr '-' '_' <<<"${svc%-progress}")
    if is_running "$svc"; then
        log "$svc already running"
        return 0
    fi
    port=$(service_env "$svc" | sed -n 's/^[A-Z_]*_PORT=//p' | head -1)
    start_with_env "$svc" service_env "$svc" "$ROOT/.venv/bin/python" -m "$module"
    wait_ready "$svc" "http://127.0.0.1:$port/readyz"
    log "$svc ready on http://127.0.0.1:$port"
}

start_simulator() {
    is_running erp-simulator && return 0
    start_with_env erp-simulator simulator_env - "$ROOT/.venv/bin/python" -m erp_simulator
    wait_for_port "${ROLLSYNC_ERP_SIMULATOR_PORT:-8190}" 60 erp-simulator ||
        die "erp-simulator did not start (log: $(log_file erp-simulator))"
}

write_stack_env() {
    # shellcheck disable=SC1090
    source "$SECRETS"
    cat >"$LOCAL/stack.env" <<ENV
ROLLSYNC_URL=http://127.0.0.1:$ROLLSYNC_EDGE_PORT
INGEST_URL=http://127.0.0.1:$ROLLSYNC_INGEST_PORT
TRANSFORM_URL=http://127.0.0.1:$ROLLSYNC_TRANSFORM_PORT
RULES_URL=http://127.0.0.1:$ROLLSYNC_RULES_PORT
ERP_CONNECTOR_URL=http://127.0.0.1:$ROLLSYNC_ERP_CONNECTOR_PORT
ERP_SIMULATOR_URL=http://127.0.0.1:${ROLLSYNC_ERP_SIMULATOR_PORT:-8190}
DEV_CLIENT_ID=dev-local
DEV_CLIENT_SECRET=$DEV_CLIENT_SECRET
ENV
    chmod 600 "$LOCAL/stack.env"
}

up() {
    local started=$SECONDS svc
    bootstrap
    infra
    for svc in "${PROCESSES[@]}"; do start_service "$svc"; done
    start_simulator
    "$ROOT/scripts/nginx.sh" start
    "$ROOT/scripts/alerting.sh" start
    write_stack_env
    log "stack ready in $((SECONDS - started)) s; URLs and the dev client are in .local/stack.env:"
    sed 's/^DEV_CLIENT_SECRET=.*/DEV_CLIENT_SECRET=(see .local\/stack.env)/' "$LOCAL/stack.env" >&2
}

restart_ingest() {
    is_running ingest || return 0
    stop_pid ingest 30
    start_service ingest
}

# The old key's public half stays in the JWKS, so tokens it signed keep working until they expire (15 min).
rotate_signing_key() {
    ensure_signing_key
    local tmp="$PREVIOUS_KEY.tmp.$$"
    public_half "$SIGNING_KEY" "$tmp"
    mv -f "$tmp" "$PREVIOUS_KEY"
    new_signing_key "$SIGNING_KEY"
    log "new token signing key in $SIGNING_KEY; the previous one stays published until retire-signing-key"
    restart_ingest
}

retire_signing_key() {
    rm -f "$PREVIOUS_KEY"
    log "previous token signing key no longer published"
    restart_ingest
}

# A self-signed certificate for the compose edge (docs/runbook.md "Edge TLS"): DIR/tls.crt + DIR/tls.key,
# for localhost and 127.0.0.1, valid 30 days. For trying TLS only; never for a real deployment.
dev_cert() {
    local dir="${1:-}"
    [[ -n "$dir" ]] || die "usage: scripts/stack.sh dev-cert DIR"
    # mounted as a directory into the edge (uid 101): it and the files must be readable by that uid; a
    # self-signed development pair only (a real key: docs/runbook.md, Edge TLS)
    mkdir -p "$dir" && chmod 755 "$dir"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
        -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
        -keyout "$dir/tls.key" -out "$dir/tls.crt" 2>/dev/null || die "openssl could not make a certificate in $dir"
    # The compose edge runs as uid 101 and reads the key through a bind mount.
    chmod 0644 "$dir/tls.crt" "$dir/tls.key"
    log "self-signed certificate $dir/tls.crt (key $dir/tls.key); compose: ROLLSYNC_TLS_DIR=$dir"
}

down() {
    local svc
    "$ROOT/scripts/nginx.sh" stop || true
    "$ROOT/scripts/alerting.sh" stop || true
    for svc in erp-simulator "${PROCESSES[@]}"; do stop_pid "$svc" 30; done
    "$ROOT/scripts/kafka.sh" stop || true
    "$ROOT/scripts/postgres.sh" stop || true
}

# compose_secrets [DIR] -> one file per docker-compose.yml secret in DIR (default .local/compose-secrets), named
# as the compose secret; prints ROLLSYNC_SECRETS_DIR=<absolute DIR> and ROLLSYNC_SECRETS_GID=<gid> for .env.
# Outside Swarm, Compose bind-mounts a file-sourced secret as it is (its uid/gid/mode settings are ignored), so
# the containers see these files with their host owner and mode. The services run as uid 10001, not the host
# user writing them: the files are 0444 so that uid can read them through the mount, and DIR is 0700 so no other
# user on the host can reach them (a bind mount does not go through DIR's permissions; the host path does).
# The exception is ingest's private key: ingest refuses a key file readable by "others" (common.token_keys), so
# token_signing_key is 0440 with group ROLLSYNC_SECRETS_GID (10001 when root writes it, else the writer's own
# group), which compose adds to ingest's groups (group_add), as fsGroup does in Kubernetes.
# Compose-only secrets (PostgreSQL and Grafana admin) are made once here and kept; smtp_password is
# $ALERTMANAGER_SMTP_PASSWORD when set, else the file as it is, else empty (no SMTP relay; docs/runbook.md).
COMPOSE_SECRETS=(pg_ingest:PG_INGEST pg_transform:PG_TRANSFORM pg_rules:PG_RULES pg_erp:PG_ERP erp_password:ERP_PASSWORD)

write_compose_secret() {  # write_compose_secret DIR NAME VALUE [MODE [GROUP]]
    local tmp="$1/.$2.tmp.$$"
    (umask 077 && printf '%s' "$3" >"$tmp")
    [[ -z ${5:-} ]] || chgrp "$5" "$tmp"
    chmod "${4:-444}" "$tmp"
    mv -f "$tmp" "$1/$2"
}

compose_secrets() {
    local dir=${1:-$LOCAL/compose-secrets} pair name var value gid
    gid=$( ((EUID == 0)) && echo 10001 || id -g)
    ensure_secrets
    (umask 077 && mkdir -p "$dir")
    chmod 700 "$dir"
    dir=$(cd "$dir" && pwd -P)
    for pair in "${COMPOSE_SECRETS[@]}"; do
        name=${pair%%:*} var=${pair#*:}
        value=$(sed -n "s/^$var=//p" "$SECRETS")
        [[ -n $value ]] || die "$var is missing from $SECRETS"
        write_compose_secret "$dir" "$name" "$value"
    done
    write_compose_secret "$dir" token_signing_key "$(cat "$SIGNING_KEY")"$'\n' 440 "$gid"
    for name in postgres_admin_password grafana_admin_password; do
        [[ -f $dir/$name && $(wc -c <"$dir/$name") -ge 32 ]] && chmod 444 "$dir/$name" && continue
        write_compose_secret "$dir" "$name" "$(random_secret)"
    done
    if [[ -n ${ALERTMANAGER_SMTP_PASSWORD:-} ]]; then
        write_compose_secret "$dir" smtp_password "$ALERTMANAGER_SMTP_PASSWORD"
    elif [[ -f $dir/smtp_password ]]; then
        chmod 444 "$dir/smtp_password"
    else
        write_compose_secret "$dir" smtp_password ""
    fi
    printf 'ROLLSYNC_SECRETS_DIR=%s\nROLLSYNC_SECRETS_GID=%s\n' "$dir" "$gid"
}

case "${1:-}" in
    bootstrap) bootstrap ;;
    infra) bootstrap && infra ;;
    up) up ;;
    down) down ;;
    env) ensure_secrets && write_secret_files && for s in "${SERVICES[@]}"; do service_env "$s"; done && simulator_env ;;
    stop-services)
        # make test runs its own service processes; a `make up` stack would share their consumer groups.
        for s in erp-simulator "${PROCESSES[@]}"; do
            is_running "$s" && log "stopping $s from a running 'make up' (tests start their own)"
            stop_pid "$s" 30
        done ;;
    rotate-signing-key) rotate_signing_key ;;
    retire-signing-key) retire_signing_key ;;
    compose-secrets) compose_secrets "${2:-}" ;;
    dev-cert) dev_cert "${2:-}" ;;
    *) die "usage: scripts/stack.sh bootstrap|infra|up|down|env|stop-services|rotate-signing-key|retire-signing-key|compose-secrets [DIR]|dev-cert DIR" ;;
esac
