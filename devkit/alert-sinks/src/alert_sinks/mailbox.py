"""A local SMTP server (aiosmtpd) that keeps every message as an .eml file a person can open."""

from __future__ import annotations

import itertools
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


class _SaveToFolder:
    def __init__(self, folder: Path) -> None:
        self._folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self._numbers = itertools.count(len(list(folder.glob("*.eml"))) + 1)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        content = envelope.original_content or b""
        path = self._folder / f"{next(self._numbers):05d}.eml"
        tmp = path.with_suffix(".part")
        tmp.write_bytes(content)
        tmp.rename(path)  # readers never see half a message
        return "250 Message accepted for delivery"


def start_mailbox(folder: Path, host: str, port: int) -> Controller:
    controller = Controller(_SaveToFolder(folder), hostname=host, port=port)
    controller.start()
    return controller
