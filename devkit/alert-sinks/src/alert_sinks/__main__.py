"""python -m alert_sinks --folder .local/alerts --smtp-port P --http-port Q

Runs the mailbox (SMTP, messages in FOLDER/mail/*.eml) and the HTTP app (robot relay + robot stand-ins, messages
in FOLDER/wecom/*.json and FOLDER/dingtalk/*.json) until SIGTERM. The 钉钉 加签 secret comes from the environment
(ALERT_SINKS_DINGTALK_SECRET), never from the command line.
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
    parser.add_argument("--dashboard-url", default="http://127.0.0.1:3000/d/rollsync-overview")
    parser.add_argument("--docs-base", default="https://rollsync.example.com/")
    args = parser.parse_args()
    here = f"http://{args.host}:{args.http_port}"
    config = SinkConfig(
        folder=args.folder,
        wecom_url=os.environ.get("ALERT_SINKS_WECOM_URL", f"{here}/cgi-bin/webhook/send?key=local"),
        dingtalk_url=os.environ.get("ALERT_SINKS_DINGTALK_URL", f"{here}/robot/send?access_token=local"),
        dingtalk_secret=os.environ.get("ALERT_SINKS_DINGTALK_SECRET", "SEC-local-only"),
        dashboard_url=args.dashboard_url,
        docs_base=args.docs_base,
    )
    mailbox = start_mailbox(args.folder / "mail", args.host, args.smtp_port)
    try:
        uvicorn.run(create_app(config), host=args.host, port=args.http_port, log_level="warning")
    finally:
        mailbox.stop()


if __name__ == "__main__":
    main()
