#!/usr/bin/env bash
# `cond && pass || fail` below is safe (pass always succeeds):
# shellcheck disable=SC2015
# End-to-end check of the nginx edge routing (deploy/nginx/rollsync.conf.template), for CI and by hand.
#
# usage: scripts/check_edge_routing.sh
#
# Starts a separate nginx instance (ROLLSYNC_NGINX_INSTANCE=nginx-edge-check, via scripts/nginx.sh) on free
# ports, with four throwaway Python echo backends standing in for ingest/transform/rules/erp-connector, then
# curls every route and checks which backend answered and what it received (exact raw path bytes, Host,
# X-Request-ID, X-Forwarded-For, body). Also checks /healthz, the 404/413 JSON bodies and the 503 JSON when an
# upstream is down. Everything it starts is stopped and its temp files removed on exit. Exit 0 = all passed.
# Does not touch a running dev edge (scripts/nginx.sh) or the default ports.
set -euo pipefail
LOG_TAG=check-edge
# shellcheck source=scripts/lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

command -v curl >/dev/null 2>&1 || die "curl not found (Debian: apt-get install curl)"
PY=$(command -v python3 2>/dev/null || true)
[[ -n "$PY" ]] || PY="$ROOT/.venv/bin/python"
[[ -x "$PY" ]] || die "python3 not found"

export ROLLSYNC_NGINX_INSTANCE=nginx-edge-check
INSTANCE_DIR="$LOCAL/$ROLLSYNC_NGINX_INSTANCE"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/rollsync-edge-check.XXXXXX")
BACKEND_PIDS=()
FAILURES=0
PASSES=0

cleanup() {
    local rc=$?
    trap - EXIT ERR
    set +e
    "$ROOT/scripts/nginx.sh" stop >/dev/null 2>&1
    local p
    for p in "${BACKEND_PIDS[@]}"; do
        kill "$p" 2>/dev/null
    done
    for p in "${BACKEND_PIDS[@]}"; do
        wait "$p" 2>/dev/null
    done
    rm -rf "$TMP" "$INSTANCE_DIR" "$RUN_DIR/$ROLLSYNC_NGINX_INSTANCE.lock"
    if ((rc == 0)); then
        rm -f "$LOG_DIR/$ROLLSYNC_NGINX_INSTANCE.log" "$LOG_DIR/$ROLLSYNC_NGINX_INSTANCE-access.log"
    fi
    exit "$rc"
}
trap cleanup EXIT

# ---- free ports ----------------------------------------------------------------------------------------------
next_port=$((20000 + RANDOM % 20000))
pick_port() { # pick_port VAR
    while port_in_use "$next_port"; do next_port=$((next_port + 1)); done
    printf -v "$1" '%s' "$next_port"
    next_port=$((next_port + 1))
}
pick_port ROLLSYNC_EDGE_PORT
pick_port ROLLSYNC_INGEST_PORT
pick_port ROLLSYNC_TRANSFORM_PORT
pick_port ROLLSYNC_RULES_PORT
pick_port ROLLSYNC_ERP_CONNECTOR_PORT
export ROLLSYNC_EDGE_PORT ROLLSYNC_INGEST_PORT ROLLSYNC_TRANSFORM_PORT ROLLSYNC_RULES_PORT ROLLSYNC_ERP_CONNECTOR_PORT
EDGE="http://127.0.0.1:$ROLLSYNC_EDGE_PORT"

# ---- echo backends -------------------------------------------------------------------------------------------
cat >"$TMP/backend.py" <<'PYEOF'
import json, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

NAME, PORT = sys.argv[1], int(sys.argv[2])

class Echo(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like the real services

    def _echo(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        out = json.dumps({
            "backend": NAME,
            "method": self.command,
            "path_hex": self.path.encode("latin-1").hex(),  # raw request-target bytes as received
            "host": self.headers.get("Host"),
            "x_request_id": self.headers.get("X-Request-ID"),
            "x_forwarded_for": self.headers.get("X-Forwarded-For"),
            "body_len": len(body),
        }).encode()
        self.send_response(int(self.headers.get("X-Echo-Status") or 200))
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _echo

    def log_message(self, *args):
        pass

ThreadingHTTPServer(("127.0.0.1", PORT), Echo).serve_forever()
PYEOF

# Sends a request whose target holds raw (not percent-encoded) UTF-8 bytes, as some clients do; curl would
# percent-encode them.
cat >"$TMP/raw_http.py" <<'PYEOF'
import socket, sys
method, target, port = sys.argv[1], sys.argv[2].encode("utf-8"), int(sys.argv[3])
req = method.encode() + b" " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}"
with socket.create_connection(("127.0.0.1", port), timeout=15) as s:
    s.sendall(req)
    data = b""
    while chunk := s.recv(65536):
        data += chunk
head, _, body = data.partition(b"\r\n\r\n")
print(head.split(b" ", 2)[1].decode())
print(body.decode("utf-8", "replace"))
PYEOF

declare -A BACKEND_PORT=(
    [ingest]=$ROLLSYNC_INGEST_PORT [transform]=$ROLLSYNC_TRANSFORM_PORT
    [rules]=$ROLLSYNC_RULES_PORT [erp-connector]=$ROLLSYNC_ERP_CONNECTOR_PORT
)
declare -A BACKEND_PID=()
for b in ingest transform rules erp-connector; do
    "$PY" "$TMP/backend.py" "$b" "${BACKEND_PORT[$b]}" >"$TMP/$b.log" 2>&1 &
    BACKEND_PID[$b]=$!
    BACKEND_PIDS+=("$!")
done
for b in ingest transform rules erp-connector; do
    wait_for_port "${BACKEND_PORT[$b]}" 10 ||
        die "test backend $b did not start on port ${BACKEND_PORT[$b]}: $(cat "$TMP/$b.log")"
done

# ---- nginx ---------------------------------------------------------------------------------------------------
"$ROOT/scripts/nginx.sh" start 2>"$TMP/nginx-start.err" ||
    { cat "$TMP/nginx-start.err" >&2; die "could not start the nginx test instance"; }
log "nginx test instance on $EDGE; backends ingest:$ROLLSYNC_INGEST_PORT transform:$ROLLSYNC_TRANSFORM_PORT rules:$ROLLSYNC_RULES_PORT erp-connector:$ROLLSYNC_ERP_CONNECTOR_PORT"

# ---- helpers -------------------------------------------------------------------------------------------------
STATUS="" CTYPE="" BODY=""
request() { # request METHOD PATH [curl args...] -> STATUS, CTYPE, BODY
    local method=$1 path=$2 meta
    shift 2
    meta=$(curl -sS --path-as-is -g --max-time 15 -o "$TMP/body" -w '%{http_code} %{content_type}' \
        -X "$method" "$@" "$EDGE$path" 2>"$TMP/curl.err") || meta="000 curl-error:$(tr '\n' ' ' <"$TMP/curl.err")"
    STATUS=${meta%% *}
    CTYPE=${meta#* }
    BODY=$(cat "$TMP/body" 2>/dev/null || true)
}

field() { # field NAME -> value of a top-level JSON field of BODY ("" if absent / not JSON)
    "$PY" -c 'import json,sys
try: v = json.loads(sys.argv[1]).get(sys.argv[2])
except Exception: v = None
print("" if v is None else v)' "$BODY" "$1"
}

hex_of() { printf '%s' "$1" | od -An -v -tx1 | tr -d ' \n'; }

pass() { PASSES=$((PASSES + 1)); printf '  ok    %s\n' "$*"; }
fail() { FAILURES=$((FAILURES + 1)); printf '  FAIL  %s\n' "$*"; }

expect_route() { # expect_route METHOD PATH BACKEND [curl args...]
    local method=$1 path=$2 want=$3
    shift 3
    request "$method" "$path" "$@"
    local got seen
    got=$(field backend)
    seen=$(field path_hex)
    if [[ "$STATUS" == 200 && "$got" == "$want" && "$seen" == "$(hex_of "$path")" ]]; then
        pass "$method $path -> $want"
    elif [[ "$STATUS" == 200 && "$got" == "$want" ]]; then
        fail "$method $path -> $want, but the upstream saw path bytes $seen (sent $(hex_of "$path"))"
    else
        fail "$method $path: expected $want, got status $STATUS backend '${got:-none}' body ${BODY:0:160}"
    fi
}

expect_route_raw() { # expect_route_raw METHOD PATH BACKEND -> PATH sent as raw UTF-8 bytes
    local method=$1 path=$2 want=$3 out got seen
    out=$("$PY" "$TMP/raw_http.py" "$method" "$path" "$ROLLSYNC_EDGE_PORT" 2>&1) || out="000 $out"
    STATUS=${out%%$'\n'*}
    BODY=${out#*$'\n'}
    got=$(field backend)
    seen=$(field path_hex)
    if [[ "$STATUS" == 200 && "$got" == "$want" && "$seen" == "$(hex_of "$path")" ]]; then
        pass "$method $path (raw UTF-8) -> $want"
    else
        fail "$method $path (raw UTF-8): expected $want with the same bytes, got status $STATUS backend '${got:-none}' path bytes $seen"
    fi
}

expect_json() { # expect_json METHOD PATH STATUS FIELD VALUE [curl args...]
    local method=$1 path=$2 want_status=$3 key=$4 want=$5
    shift 5
    request "$method" "$path" "$@"
    local got
    got=$(field "$key")
    if [[ "$STATUS" == "$want_status" && "$CTYPE" == application/json* && "$got" == "$want" ]]; then
        pass "$method $path -> $STATUS application/json $key=$want"
    else
        fail "$method $path: expected $want_status JSON $key=$want, got $STATUS ($CTYPE) ${BODY:0:160}"
    fi
}

# ---- routing -------------------------------------------------------------------------------------------------
echo "routing:"
expect_route POST /auth/system-login ingest -d 'client_id=a&client_secret=b&grant_type=client_credentials'
expect_route GET /.well-known/jwks.json ingest
expect_route POST /sync/contracts/batch ingest -H 'Content-Type: application/json' -d '{"contracts":[]}'
expect_route PUT /sync/contracts/HT2023001/progress ingest -d '{}'
expect_route PUT '/sync/contracts/HT%E5%90%882023/progress' ingest -d '{}'
expect_route_raw PUT '/sync/contracts/HT合2023/progress' ingest
expect_route PUT '/sync/contracts/HT%202023%2B1/progress' ingest -d '{}'
expect_route POST /customers/capture ingest -d '{}'
expect_route POST /customers/capture/wechat ingest -d '{}'
expect_route POST /ingest/anything ingest -d '{}'
expect_route GET '/sync/pending-updates?since=2024-01-01T00:00:00&limit=10' transform
expect_route GET '/sync/pending-updates?since=c%3A42' transform
expect_route POST /sync/reconciliation transform -H 'Content-Type: application/json' -d '{"contracts":[],"complete":false}'
expect_route GET /contracts transform
expect_route GET /processes transform
expect_route POST '/processes/%E7%83%AD%E5%96%B7%E6%B6%82/rename' transform -H 'Content-Type: application/json' -d '{}'
expect_route PUT /process-routes/anilox transform -H 'Content-Type: application/json' -d '{}'
expect_route POST /sync/employees/batch ingest -H 'Content-Type: application/json' -d '{"employees":[]}'
expect_route GET '/contracts/HT%E5%90%882023?with=products' transform
expect_route GET /reports/consistency transform
expect_route GET /transform/dlq transform
expect_route GET /rules/config rules
expect_route POST /rules/dry-run rules -d '{}'
expect_route GET /customers rules
expect_route GET '/customers?phone=13800000000' rules
expect_route GET /customers/42 rules
expect_route GET /customers/captured-list rules
expect_route POST /sync/erp/trigger erp-connector -d '{"mode":"both"}'
expect_route GET /sync/erp/status erp-connector
expect_route POST /erp/pause erp-connector
# bare forms of the slash-terminated prefixes are routed too (no nginx 301 to "/x/")
expect_route POST /auth ingest -d '{}'
expect_route GET /ingest ingest
expect_route GET /reports transform
expect_route GET /transform transform
expect_route GET '/rules?page=2' rules
expect_route GET /sync/erp erp-connector
expect_route GET /erp erp-connector

echo "edge-local answers:"
expect_json GET /healthz 200 status ok
expect_json GET /nope 404 code not_found
expect_json GET /internal/token-revocations 404 code not_found
expect_json GET /sync/contracts/HT2023001 404 code not_found
expect_json PUT /sync/contracts/HT1/progress/extra 404 code not_found
head -c $((16 * 1024 * 1024 + 1)) /dev/zero >"$TMP/big"
expect_json POST /sync/contracts/batch 413 code payload_too_large --data-binary "@$TMP/big"

echo "headers and body:"
request POST /sync/contracts/batch -H 'Content-Type: application/json' --data-binary '{"contracts":[{"合同编号":"HT2023001"}]}'
if [[ "$(field x_request_id)" =~ ^[0-9a-f]{32}$ ]]; then pass "X-Request-ID minted when absent ($(field x_request_id))"; else fail "X-Request-ID not minted: '$(field x_request_id)'"; fi
[[ "$(field body_len)" == "$(printf '%s' '{"contracts":[{"合同编号":"HT2023001"}]}' | wc -c)" ]] &&
    pass "request body passed through ($(field body_len) bytes)" || fail "request body length $(field body_len)"
request GET /contracts -H 'X-Request-ID: req-abc-123'
[[ "$(field x_request_id)" == req-abc-123 ]] && pass "client X-Request-ID kept" || fail "X-Request-ID not kept: '$(field x_request_id)'"
request GET /contracts -H 'Host: api.rollsync.test:8443'
[[ "$(field host)" == api.rollsync.test:8443 ]] && pass "Host passed through" || fail "Host: '$(field host)'"
request GET /contracts -H 'X-Forwarded-For: 10.1.2.3'
[[ "$(field x_forwarded_for)" == "10.1.2.3, 127.0.0.1" ]] && pass "X-Forwarded-For appended" || fail "X-Forwarded-For: '$(field x_forwarded_for)'"
big_ok=$((1024 * 1024 + 1))
head -c "$big_ok" /dev/zero >"$TMP/mid"
request POST /sync/contracts/batch --data-binary "@$TMP/mid"
[[ "$STATUS" == 200 && "$(field body_len)" == "$big_ok" ]] &&
    pass "1 MiB+1 body reaches the service (its own limit applies there)" || fail "1 MiB+1 body: $STATUS ${BODY:0:120}"

request GET /contracts -H 'X-Echo-Status: 503'
[[ "$STATUS" == 503 && "$(field backend)" == transform ]] &&
    pass "a service's own 503 passes through unchanged" || fail "service 503 was rewritten: $STATUS ${BODY:0:120}"
request POST /sync/contracts/batch -H 'X-Echo-Status: 422' -d '{}'
[[ "$STATUS" == 422 && "$(field backend)" == ingest ]] &&
    pass "a service's own 422 passes through unchanged" || fail "service 422 was rewritten: $STATUS ${BODY:0:120}"

echo "upstream down:"
kill "${BACKEND_PID[erp-connector]}"
wait "${BACKEND_PID[erp-connector]}" 2>/dev/null || true
expect_json POST /sync/erp/trigger 503 code upstream_unavailable -d '{}'
expect_json GET /erp/status 503 code upstream_unavailable
request GET /erp/status
[[ "$(field message)" == *erp-connector* ]] && pass "503 message names the service" || fail "503 message: $(field message)"
expect_route GET /rules/config rules

echo
if ((FAILURES > 0)); then
    log "FAILED: $FAILURES of $((PASSES + FAILURES)) checks (nginx log: $LOG_DIR/$ROLLSYNC_NGINX_INSTANCE.log)"
    exit 1
fi
log "all $PASSES edge routing checks passed"
