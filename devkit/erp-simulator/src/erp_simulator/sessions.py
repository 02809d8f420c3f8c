"""Session tokens: one login gives one token that both API styles accept."""

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from erp_simulator.errors import SessionInvalidError
from erp_simulator.settings import ApiUser


@dataclass
class Session:
    token: str
    user: ApiUser
    expires_at: float
    list_pages: int = 0


class SessionRegistry:
    def __init__(
        self,
        ttl_seconds: float,
        single_per_user: bool,
        expired_message: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl_seconds
        self._single_per_user = single_per_user
        self._expired_message = expired_message
        self._clock = clock
        self._sessions: dict[str, Session] = {}

    def open(self, user: ApiUser) -> Session:
        if self._single_per_user:
            self.expire(user.name)
        session = Session(secrets.token_hex(16).upper(), user, self._clock() + self._ttl)
        self._sessions[session.token] = session
        return session

    def resolve(self, token: str | None) -> Session:
        session = self._sessions.get(token or "")
        if session is None or session.expires_at <= self._clock():
            self._sessions.pop(token or "", None)
            raise SessionInvalidError(self._expired_message)
        return session

    def close(self, token: str) -> None:
        self._sessions.pop(token, None)

    def expire(self, user_name: str | None = None) -> int:
        doomed = [t for t, s in self._sessions.items() if user_name in (None, s.user.name)]
        for token in doomed:
            del self._sessions[token]
        return len(doomed)

    def count_list_page(self, session: Session, expire_after: int | None) -> bool:
        """Count a served list page; True when this page used up the session's allowance."""
        session.list_pages += 1
        if expire_after is not None and session.list_pages >= expire_after:
            self.close(session.token)
            return True
        return False

    def active(self) -> int:
        now = self._clock()
        return sum(1 for session in self._sessions.values() if session.expires_at > now)
