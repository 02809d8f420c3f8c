"""Hold a downstream ASGI response so the fault middleware can damage it before sending."""

from starlette.types import Message, Send


class ResponseCapture:
    def __init__(self) -> None:
        self._start: Message | None = None
        self._body = bytearray()

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self._start = message
        elif message["type"] == "http.response.body":
            self._body += message.get("body", b"")

    def media_type_is(self, media_type: str) -> bool:
        return self._header(b"content-type") == media_type.encode()

    def truncate(self) -> None:
        """Cut the body in half but keep a matching length: valid HTTP, broken JSON."""
        del self._body[len(self._body) // 2 :]

    async def replay(self, send: Send) -> None:
        if self._start is None:
            return
        headers = [(k, v) for k, v in self._start.get("headers", []) if k != b"content-length"]
        headers.append((b"content-length", str(len(self._body)).encode()))
        await send({**self._start, "headers": headers})
        await send({"type": "http.response.body", "body": bytes(self._body)})

    def _header(self, name: bytes) -> bytes | None:
        if self._start is None:
            return None
        return next((v for k, v in self._start.get("headers", []) if k.lower() == name), None)
