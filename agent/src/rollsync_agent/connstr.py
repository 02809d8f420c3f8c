"""Seed 000's ADO.NET connection string -> a SQLAlchemy URL (a SQLAlchemy URL passes through unchanged)."""

from __future__ import annotations

import re

from sqlalchemy.engine import URL, make_url

ODBC_DRIVER = "ODBC Driver 18 for SQL Server"
_ALIASES = {
    "server": "server",
    "data source": "server",
    "address": "server",
    "addr": "server",
    "network address": "server",
    "database": "database",
    "initial catalog": "database",
    "integrated security": "trusted",
    "trusted_connection": "trusted",
    "user id": "user",
    "uid": "user",
    "user": "user",
    "password": "password",
    "pwd": "password",
    "encrypt": "encrypt",
    "trustservercertificate": "trust_cert",
    "trust server certificate": "trust_cert",
    "connect timeout": "timeout",
    "connection timeout": "timeout",
    "application name": "app",
}
_TRUE = {"true", "yes", "sspi", "1"}
_PAIR = re.compile(r"""\s*([^=;]+?)\s*=\s*("(?:[^"]|"")*"|'(?:[^']|'')*'|[^;]*)\s*(?:;|$)""")


class ConnectionStringError(ValueError):
    pass


def _pairs(text: str) -> list[tuple[str, str]]:
    """ADO.NET syntax: `key=value;`, a value with ';' is quoted ("p;w" or 'p;w', a doubled quote escapes)."""
    pairs = []
    for m in _PAIR.finditer(text):
        key, value = m.group(1), m.group(2).strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1].replace(value[0] * 2, value[0])
        pairs.append((key, value))
    if _PAIR.sub("", text).strip(" ;"):
        raise ConnectionStringError(f"connection string: cannot read '{_PAIR.sub('', text).strip(' ;')}'")
    return pairs


def parse_ado(text: str) -> dict[str, str]:
    """Keys case-insensitive; unknown keys are an error (a typo must not pass silently)."""
    out: dict[str, str] = {}
    for key, value in _pairs(text):
        name = _ALIASES.get(" ".join(key.strip().lower().split()))
        if name is None:
            raise ConnectionStringError(f"connection string: unknown key '{key.strip()}'")
        out[name] = value
    if "server" not in out or "database" not in out:
        raise ConnectionStringError("connection string needs Server=… and Database=…")
    return out


def _host(server: str) -> str:
    """`.`, `(local)` and `localhost` all mean this machine; `host\\instance` and `host,port` pass through."""
    head, sep, rest = server.partition("\\")
    if head.lower() in {".", "(local)", "(localdb)", "localhost"}:
        head = "localhost"
    return head + sep + rest


def _odbc(parts: dict[str, str], driver: str) -> str:
    items = [f"DRIVER={{{driver}}}", f"SERVER={_host(parts['server'])}", f"DATABASE={parts['database']}"]
    if parts.get("trusted", "").lower() in _TRUE:
        items.append("Trusted_Connection=yes")
    else:
        items += [f"UID={parts.get('user', '')}", f"PWD={{{parts.get('password', '')}}}"]
    if "encrypt" in parts:
        items.append(f"Encrypt={'yes' if parts['encrypt'].lower() in _TRUE else 'no'}")
    if "trust_cert" in parts:
        items.append(f"TrustServerCertificate={'yes' if parts['trust_cert'].lower() in _TRUE else 'no'}")
    if "app" in parts:
        items.append(f"APP={parts['app']}")
    return ";".join(items)


def _pymssql(parts: dict[str, str]) -> URL:
    if parts.get("trusted", "").lower() in _TRUE:
        raise ConnectionStringError("pymssql cannot use Integrated Security; use pyodbc or User ID/Password")
    host, _, port = _host(parts["server"]).partition(",")
    return URL.create(
        "mssql+pymssql",
        username=parts.get("user"),
        password=parts.get("password"),
        host=host,
        port=int(port) if port else None,
        database=parts["database"],
    )


def to_url(text: str, driver: str = "pyodbc", odbc_driver: str = ODBC_DRIVER) -> URL:
    """Translate the seed's `Server=.;Database=工厂管理DB;Integrated Security=true;` for SQLAlchemy."""
    if "://" in text:
        return make_url(text)
    parts = parse_ado(text)
    if driver == "pymssql":
        return _pymssql(parts)
    return URL.create("mssql+pyodbc", query={"odbc_connect": _odbc(parts, odbc_driver)})
