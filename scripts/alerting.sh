#!/usr/bin/env bash
# Prometheus + Alertmanager (Debian packages) and the local alert sinks (devkit/alert-sinks) for `make up`.
#
#   scripts/alerting.sh start   render .local/alerting/{prometheus,alertmanager}.yml for this machine's ports, start
#                               the sinks, Alertmanager and Prometheus, print where the messages land
#   scripts/alerting.sh stop    stop them (by pid)
#
# Ports (environment, all optional): ROLLSYNC_PROMETHEUS_PORT=9090, ROLLSYNC_ALERTMANAGER_PORT=9093,
# ROLLSYNC_SMTP_SINK_PORT=1025, ROLLSYNC_WEBHOOK_SINK_PORT=9098. Emails: .local/alerting/mail/*.eml;
# 企业微信 / 钉钉 robot messages: .local/alerting/{wecom,dingtalk}/*.json. Production points Alertmanager at
# the real relay and SMTP server with deploy/alertmanager/alertmanager.yml as shipped.
LOG_TAG=alerting
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

: "${ROLLSYNC_PROMETHEUS_PORT:=9090}"
: "${ROLLSYNC_ALERTMANAGER_PORT:=9093}"
: "${ROLLSYNC_SMTP_SINK_PORT:=1025}"
: "${ROLLSYNC_WEBHOOK_SINK_PORT:=9098}"
DIR="$LOCAL/alerting"
PY="$ROOT/.venv/bin/python"

render_prometheus() { # the local scrape config with this machine's service ports and Alertmanager
    sed -e "s/127.0.0.1:8101/127.0.0.1:$ROLLSYNC_INGEST_PORT/" \
        -e "s/127.0.0.1:8102/127.0.0.1:$ROLLSYNC_TRANSFORM_PORT/" \
        -e "s/127.0.0.1:8105/127.0.0.1:${ROLLSYNC_TRANSFORM_PROGRESS_PORT:-8105}/" \
        -e "s/127.0.0.1:8103/127.0.0.1:$ROLLSYNC_RULES_PORT/" \
        -e "s/127.0.0.1:8104/127.0.0.1:$ROLLSYNC_ERP_CONNECTOR_PORT/" \
        -e "s/127.0.0.1:9093/127.0.0.1:$ROLLSYNC_ALERTMANAGER_PORT/" \
        -e "s|^  - alerts.yml|  - $ROOT/deploy/prometheus/alerts.yml|" \
        "$ROOT/deploy/prometheus/prometheus.local.yml" >"$DIR/prometheus.yml"
}

start() {
    command -v prometheus-alertmanager >/dev/null 2>&1 || "$ROOT/scripts/ops_tools.sh"
    mkdir -p "$DIR"
    "$PY" -m alert_sinks.local_config "$ROOT/deploy/alertmanager/alertmanager.yml" "$DIR/alertmanager.yml" \
        --smtp-port "$ROLLSYNC_SMTP_SINK_PORT" --http-port "$ROLLSYNC_WEBHOOK_SINK_PORT"
    render_prometheus
    is_running alert-sinks || start_bg alert-sinks "$PY" -m alert_sinks --folder "$DIR" \
        --smtp-port "$ROLLSYNC_SMTP_SINK_PORT" --http-port "$ROLLSYNC_WEBHOOK_SINK_PORT"
    is_running alertmanager || start_bg alertmanager prometheus-alertmanager --config.file="$DIR/alertmanager.yml" \
        --storage.path="$DIR/alertmanager-data" --web.listen-address="127.0.0.1:$ROLLSYNC_ALERTMANAGER_PORT" \
        --cluster.listen-address= --web.external-url="http://127.0.0.1:$ROLLSYNC_ALERTMANAGER_PORT"
    is_running prometheus || start_bg prometheus prometheus --config.file="$DIR/prometheus.yml" \
        --storage.tsdb.path="$DIR/prometheus-data" --web.listen-address="127.0.0.1:$ROLLSYNC_PROMETHEUS_PORT"
    wait_for_port "$ROLLSYNC_WEBHOOK_SINK_PORT" 60 alert-sinks || die "alert sinks did not start ($(log_file alert-sinks))"
    wait_for_port "$ROLLSYNC_ALERTMANAGER_PORT" 60 alertmanager || die "alertmanager did not start ($(log_file alertmanager))"
    wait_for_port "$ROLLSYNC_PROMETHEUS_PORT" 60 prometheus || die "prometheus did not start ($(log_file prometheus))"
    log "Prometheus http://127.0.0.1:$ROLLSYNC_PROMETHEUS_PORT/alerts, Alertmanager" \
        "http://127.0.0.1:$ROLLSYNC_ALERTMANAGER_PORT; alert emails in $DIR/mail/*.eml," \
        "企业微信/钉钉 robot messages in $DIR/wecom/ and $DIR/dingtalk/"
}

stop() {
    local name
    for name in prometheus alertmanager alert-sinks; do stop_pid "$name" 30; done
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    *) die "usage: scripts/alerting.sh start|stop" ;;
esac
