"""deploy/prometheus/prometheus.local.yml for this machine's ports (`make up`: scripts/alerting.sh).

    python -m alert_sinks.local_prometheus deploy/prometheus/prometheus.local.yml OUT.yml \\
        --port 8101=44001 --port 8102=44002 ... --rules /abs/path/alerts.yml

Every `127.0.0.1:<shipped port>` target (scrape targets and the Alertmanager) is moved to its port here in one
pass, so a port that happens to equal another shipped port is never moved twice; a target without a mapping
is an error (a process `make up` runs would otherwise go unscraped).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import yaml


def _moved(target: str, ports: dict[str, str]) -> str:
    host, port = target.rsplit(":", 1)
    if port not in ports:
        raise SystemExit(f"no local port given for {target} (add --port {port}=...)")
    return f"{host}:{ports[port]}"


def local_prometheus(shipped: dict[str, Any], ports: dict[str, str], rules: str) -> dict[str, Any]:
    config = dict(shipped, rule_files=[rules])
    for job in config["scrape_configs"]:
        for static in job["static_configs"]:
            static["targets"] = [_moved(t, ports) for t in static["targets"]]
    for manager in config["alerting"]["alertmanagers"]:
        for static in manager["static_configs"]:
            static["targets"] = [_moved(t, ports) for t in static["targets"]]
    return config


def main() -> None:
    parser = argparse.ArgumentParser(prog="alert_sinks.local_prometheus")
    parser.add_argument("shipped", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--port", action="append", default=[], help="SHIPPED=LOCAL, e.g. 8101=44001")
    parser.add_argument("--rules", required=True)
    args = parser.parse_args()
    ports = dict(p.split("=", 1) for p in args.port)
    config = local_prometheus(yaml.safe_load(args.shipped.read_text()), ports, args.rules)
    args.out.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False))


if __name__ == "__main__":
    main()
