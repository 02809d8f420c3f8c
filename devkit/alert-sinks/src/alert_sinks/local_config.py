"""The shipped Alertmanager config, pointed at the local sinks and (for tests) with short timings.

    python -m alert_sinks.local_config deploy/alertmanager/alertmanager.yml OUT.yml --smtp-port P --relay-port Q \\
        [--group-wait 30s --group-interval 5m --repeat-interval 4h]

Only addresses and timings change: routes, receivers, inhibition and templates stay exactly as shipped, so what
`make up` and the tests exercise is the production routing. The local SMTP sink has no TLS and no login; the
robot webhooks go to this machine's services/alert-relay, which posts to the robot stand-ins.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import yaml

SHIPPED_RELAY = "http://alert-relay:8106"  # the compose service name and port


def local_config(shipped: dict[str, Any], folder: Path, smtp_port: int, relay_port: int) -> dict[str, Any]:
    config = dict(shipped)
    smtp = {k: v for k, v in config["global"].items() if not k.startswith("smtp_auth_")}
    smtp.update(smtp_smarthost=f"127.0.0.1:{smtp_port}", smtp_require_tls=False)
    config["global"] = smtp
    config["templates"] = [str(folder / t) for t in config["templates"]]
    for receiver in config["receivers"]:
        for hook in receiver.get("webhook_configs", []):
            hook["url"] = hook["url"].replace(SHIPPED_RELAY, f"http://127.0.0.1:{relay_port}")
    return config


def with_timings(config: dict[str, Any], group_wait: str, group_interval: str, repeat: str) -> dict[str, Any]:
    route = dict(
        config["route"], group_wait=group_wait, group_interval=group_interval, repeat_interval=repeat
    )
    route["routes"] = [dict(r, repeat_interval=repeat) for r in route.get("routes", [])]
    return dict(config, route=route)


def main() -> None:
    parser = argparse.ArgumentParser(prog="alert_sinks.local_config")
    parser.add_argument("shipped", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--smtp-port", type=int, required=True)
    parser.add_argument("--relay-port", type=int, required=True)
    parser.add_argument("--group-wait")
    parser.add_argument("--group-interval")
    parser.add_argument("--repeat-interval")
    args = parser.parse_args()
    shipped = yaml.safe_load(args.shipped.read_text())
    config = local_config(shipped, args.shipped.resolve().parent, args.smtp_port, args.relay_port)
    if args.group_wait:
        config = with_timings(config, args.group_wait, args.group_interval, args.repeat_interval)
    # Alertmanager reads YAML; aliases are expanded here, which it does not mind.
    args.out.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False))


if __name__ == "__main__":
    main()
