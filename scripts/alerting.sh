#!/usr/bin/env bash
# Prometheus + Alertmanager (Debian packages), the robot relay (services/alert-relay) and the local alert sinks
# (devkit/alert-sinks) for `make up`.
#
#   scripts/alerting.sh start   render the configs (below), start the sinks, the relay, Alertmanager and
#                               Prometheus, print where the messages land
#   scripts/alerting.sh render  only write .local/alerting/{prometheus,alertmanager}.yml for this machine's ports
#   scripts/alerting.sh stop    stop them (by pid)
#
# Ports (environment, all optional): ROLLSYNC_PROMETHEUS_PORT=9090, ROLLSYNC_ALERTMANAGER_PORT=9093,
# ROLLSYNC_SMTP_SINK_PORT=1025, ROLLSYNC_WEBHOOK_SINK_PORT=9098 (robot stand-ins),
# ROLLSYNC_ALERT_RELAY_PORT=ROLLSYNC_WEBHOOK_SINK_PORT-1. Emails: .local/alerting/mail/*.eml; 企业微信 / 钉钉
# robot messages: .local/alerting/{wecom,dingtalk}/*.json. The relay signs 钉钉 messages with a secret made
# once in .local/alerting/robots.env, which the 钉钉 stand-in verifies. Production runs the relay with the real
# robot URLs and Alertmanager with deploy/alertmanager/alertmanager.yml as shipped (docs/runbook.md).
LOG_TAG=alerting
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

: "${ROLLSYNC_PROMETHEUS_PORT:=9090}"
: "${ROLLSYNC_ALERTMANAGER_PORT:=9093}"
: "${ROLLSYNC_SMTP_SINK_PORT:=1025}"
: "${ROLLSYNC_WEBHOOK_SINK_PORT:=9098}"
: "${ROLLSYNC_ALERT_RELAY_PORT:=$((ROLLSYNC_WEBHOOK_SINK_PORT - 1))}"
: "${ROLLSYNC_TRANSFORM_PROGRESS_PORT:=8105}"
DIR="${ROLLSYNC_ALERTING_DIR:-$LOCAL/alerting}"
PY="$ROOT/.venv/bin/python"

render() { # both configs with this machine's ports (every process `make up` runs is a scrape target)
    mkdir -p "$DIR"
    "$PY" -m alert_sinks.local_config "$ROOT/deploy/alertmanager/alertmanager.yml" "$DIR/alertmanager.yml" \
        --smtp-port "$ROLLSYNC_SMTP_SINK_PORT" --relay-port "$ROLLSYNC_ALERT_RELAY_PORT"
    "$PY" -m alert_sinks.local_prometheus "$ROOT/deploy/prometheus/prometheus.local.yml" "$DIR/prometheus.yml" \
        --rules "$ROOT/deploy/prometheus/alerts.yml" \
        --port "8101=$ROLLSYNC_INGEST_PORT" --port "8102=$ROLLSYNC_TRANSFORM_PORT" \
        --port "8105=$ROLLSYNC_TRANSFORM_PROGRESS_PORT" --port "8103=$ROLLSYNC_RULES_PORT" \
        --port "8104=$ROLLSYNC_ERP_CONNECTOR_PORT" --port "8106=$ROLLSYNC_ALERT_RELAY_PORT" \
        --port "9093=$ROLLSYNC_ALERTMANAGER_PORT"
}

robots_secret() { # the local 钉钉 加签 secret, made once (never on a command line or in a log)
    if [[ ! -s "$DIR/robots.env" ]]; then
        (umask 077 && printf 'DINGTALK_SECRET=SEC%s\n' "$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" \
            >"$DIR/robots.env")
    fi
    sed -n 's/^DINGTALK_SECRET=//p' "$DIR/robots.env"
}

start_relay() { # services/alert-relay, env=dev, pointed at the robot stand-ins
    local secret here="http://127.0.0.1:$ROLLSYNC_WEBHOOK_SINK_PORT"
    secret=$(robots_secret)
    is_running alert-sinks || (export ALERT_SINKS_DINGTALK_SECRET="$secret" &&
        start_bg alert-sinks "$PY" -m alert_sinks --folder "$DIR" \
            --smtp-port "$ROLLSYNC_SMTP_SINK_PORT" --http-port "$ROLLSYNC_WEBHOOK_SINK_PORT")
    is_running alert-relay || (export ALERT_RELAY_ENV=dev ALERT_RELAY_PORT="$ROLLSYNC_ALERT_RELAY_PORT" \
        ALERT_RELAY_WECOM_URL="$here/cgi-bin/webhook/send?key=local" \
        ALERT_RELAY_DINGTALK_URL="$here/robot/send?access_token=local" ALERT_RELAY_DINGTALK_SECRET="$secret" &&
        start_bg alert-relay "$PY" -m alert_relay)
}

start() {
    command -v prometheus-alertmanager >/dev/null 2>&1 || "$ROOT/scripts/ops_tools.sh"
    render
    start_relay
    is_running alertmanager || start_bg alertmanager prometheus-alertmanager --config.file="$DIR/alertmanager.yml" \
        --storage.path="$DIR/alertmanager-data" --web.listen-address="127.0.0.1:$ROLLSYNC_ALERTMANAGER_PORT" \
        --cluster.listen-address= --web.external-url="http://127.0.0.1:$ROLLSYNC_ALERTMANAGER_PORT"
    is_running prometheus || start_bg prometheus prometheus --config.file="$DIR/prometheus.yml" \
        --storage.tsdb.path="$DIR/prometheus-data" --web.listen-address="127.0.0.1:$ROLLSYNC_PROMETHEUS_PORT"
    wait_for_port "$ROLLSYNC_WEBHOOK_SINK_PORT" 60 alert-sinks || die "alert sinks did not start ($(log_file alert-sinks))"
    wait_for_port "$ROLLSYNC_ALERT_RELAY_PORT" 60 alert-relay || die "alert-relay did not start ($(log_file alert-relay))"
    wait_for_port "$ROLLSYNC_ALERTMANAGER_PORT" 60 alertmanager || die "alertmanager did not start ($(log_file alertmanager))"
    wait_for_port "$ROLLSYNC_PROMETHEUS_PORT" 60 prometheus || die "prometheus did not start ($(log_file prometheus))"
    log "Prometheus http://127.0.0.1:$ROLLSYNC_PROMETHEUS_PORT/alerts, Alertmanager" \
        "http://127.0.0.1:$ROLLSYNC_ALERTMANAGER_PORT; alert emails in $DIR/mail/*.eml," \
        "企业微信/钉钉 robot messages (through alert-relay :$ROLLSYNC_ALERT_RELAY_PORT) in $DIR/wecom/ and $DIR/dingtalk/"
}

stop() {
    local name
    for name in prometheus alertmanager alert-relay alert-sinks; do stop_pid "$name" 30; done
}

case "${1:-}" in
    start) start ;;
    render) render ;;
    stop) stop ;;
    *) die "usage: scripts/alerting.sh start|render|stop" ;;
esac
