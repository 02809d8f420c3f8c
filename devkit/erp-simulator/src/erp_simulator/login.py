"""Login rules: ``txt:`` plain text, serial numbers, failure counting and the captcha."""

import secrets
from collections import Counter
from collections.abc import Mapping

from erp_simulator.counters import Counters
from erp_simulator.errors import AspStatus, LoginError
from erp_simulator.sessions import Session, SessionRegistry
from erp_simulator.settings import ApiUser

PLAIN_PREFIX = "txt:"
MAX_SERIAL_LENGTH = 20


class LoginGate:
    def __init__(
        self,
        users: Mapping[str, ApiUser],
        sessions: SessionRegistry,
        counters: Counters,
        lockout_threshold: int,
        captcha: str,
    ) -> None:
        self._users = users
        self._sessions = sessions
        self._counters = counters
        self._threshold = lockout_threshold
        self._captcha = captcha
        self._failures: Counter[str] = Counter()

    def login(self, params: Mapping[str, str]) -> Session:
        try:
            session = self._check(params)
        except LoginError:
            self._counters.failed_logins += 1
            raise
        self._counters.logins += 1
        return session

    def unlock(self, user_name: str | None = None) -> None:
        if user_name is None:
            self._failures.clear()
        else:
            self._failures.pop(user_name, None)

    def failures(self) -> dict[str, int]:
        return dict(self._failures)

    def _check(self, params: Mapping[str, str]) -> Session:
        user_name = _plain_text(params.get("user", ""))
        password = _plain_text(params.get("password", ""))
        if user_name is None or password is None:
            # Without the prefix the value is DES ciphertext, and the key is unknown to us.
            raise LoginError(AspStatus.UNDECRYPTABLE, "用户名或密码解密失败")
        serial = params.get("serialnum", "").removeprefix(PLAIN_PREFIX).strip()
        if not serial or len(serial) > MAX_SERIAL_LENGTH:
            raise LoginError(AspStatus.BAD_SERIALNUM, "序列号不能为空且不能超过20位")
        captcha = params.get("rndcode", "").removeprefix(PLAIN_PREFIX).strip()
        if self._failures[user_name] >= self._threshold and captcha != self._captcha:
            # Demanded even with the right password: the lock is on the count, not the password.
            message = "验证码错误" if captcha else "请输入验证码"
            raise LoginError(AspStatus.CAPTCHA_REQUIRED, message)
        user = self._users.get(user_name)
        if user is None or not _same(user.password.get_secret_value(), password):
            self._failures[user_name] += 1
            raise LoginError(AspStatus.BAD_CREDENTIALS, "用户名或密码错误")
        self._failures.pop(user_name, None)
        return self._sessions.open(user)


def _plain_text(value: str) -> str | None:
    return value.removeprefix(PLAIN_PREFIX) if value.startswith(PLAIN_PREFIX) else None


def _same(expected: str, given: str) -> bool:
    return secrets.compare_digest(expected.encode(), given.encode())
