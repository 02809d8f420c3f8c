"""python -m alert_sinks --folder .local/alerting --smtp-port P --http-port Q

Runs the mailbox (SMTP, messages in FOLDER/mail/*.eml) and the 企业微信 / 钉钉 robot stand-ins (HTTP, messages in
FOLDER/wecom/*.json and FOLDER/dingtalk/*.json) until SIGTERM. The 钉钉 加签 secret the stand-in verifies comes
from the environment (ALERT_SINKS_DINGTALK_SECRET, the same value the relay signs with), never the command line.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import uvicorn

from alert_sinks.mailbox import start_mailbox
from alert_sinks.web import SinkConfig, create_app


def main() -> None:
    parser = argparse.ArgumentParser(prog="alert_sinks")
    parser.add_argument("--folder", type=Path, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--smtp-port", type=int, required=True)
    parser.add_argument("--http-port", type=int, required=True)
    args = parser.parse_args()
    secret = os.environ.get("ALERT_SINKS_DINGTALK_SECRET", "")
    if not secret:
        parser.error("set ALERT_SINKS_DINGTALK_SECRET (the 钉钉 加签 secret the relay signs with)")
    config = SinkConfig(folder=args.folder, dingtalk_secret=secret)
    mailbox = start_mailbox(args.folder / "mail", args.host, args.smtp_port)
    try:
        uvicorn.run(create_app(config), host=args.host, port=args.http_port, log_level="warning")
    finally:
        mailbox.stop()


if __name__ == "__main__":
    main()
