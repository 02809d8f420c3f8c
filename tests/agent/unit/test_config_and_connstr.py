"""SyncConfig.json with seed 000's keys, and its ADO.NET connection string translated for SQLAlchemy."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import unquote

import pytest

from rollsync_agent.config import SECRET_ENV, ConfigError, load_config, parse_config
from rollsync_agent.connstr import ConnectionStringError, to_url

SEED_CONFIG = {
    "cloudApi": {
        "baseUrl": "https://api.yourfactory.com",
        "clientId": "local_system_client",
        "clientSecret": "your_secure_secret_here",
        "timeout": 30000,
    },
    "database": {
        "connectionString": "Server=.;Database=工厂管理DB;Integrated Security=true;",
        "syncTableName": "hetong",
        "queueTableName": "sync_queue",
    },
    "sync": {"intervalMinutes": 5, "batchSize": 50, "retryCount": 3, "enableAutoSync": True},
    "logging": {"level": "Info", "filePath": "./logs/sync.log", "maxFileSize": "10MB"},
}


def test_the_seeds_file_loads_as_written(tmp_path: Path) -> None:
    path = tmp_path / "SyncConfig.json"
    path.write_text("\ufeff" + json.dumps(SEED_CONFIG, ensure_ascii=False), encoding="utf-8")
    config = load_config(path, env={})
    assert config.cloud_api.timeout_s == 30
    assert config.sync.interval_s == 300
    assert config.logging.max_bytes == 10 * 1024 * 1024
    assert config.log_path == tmp_path / "logs" / "sync.log"
    assert (config.status_page.host, config.status_page.port, config.status_page.enabled) == (
        "127.0.0.1",
        8765,
        True,
    )
    assert config.sync.capture_mode == "scan"


def test_the_secret_may_come_from_the_environment() -> None:
    doc = json.loads(json.dumps(SEED_CONFIG))
    del doc["cloudApi"]["clientSecret"]
    assert parse_config(doc, Path(), env={SECRET_ENV: "from-env"}).cloud_api.client_secret == "from-env"
    with pytest.raises(ConfigError, match=SECRET_ENV):
        parse_config(doc, Path(), env={})


@pytest.mark.parametrize(
    ("patch", "needle"),
    [
        ({"sync": {"batchSize": 0}}, "sync.batchSize"),
        ({"logging": {"maxFileSize": "ten megs"}}, "maxFileSize"),
        ({"cloudApi": {"baseUrl": "x", "clientId": "c", "clientSecret": "s", "timout": 1}}, "timout"),
    ],
)
def test_a_wrong_key_or_value_is_named(patch: dict[str, object], needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        parse_config({**SEED_CONFIG, **patch}, Path(), env={})


def test_broken_json_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "SyncConfig.json"
    path.write_text('{\n "cloudApi": {,\n}', encoding="utf-8")
    with pytest.raises(ConfigError, match="line 2"):
        load_config(path, env={})


def test_the_seeds_connection_string_becomes_a_trusted_odbc_connection() -> None:
    url = to_url("Server=.;Database=工厂管理DB;Integrated Security=true;")
    assert url.drivername == "mssql+pyodbc"
    odbc = unquote(str(url.query["odbc_connect"]))
    assert (
        odbc
        == "DRIVER={ODBC Driver 18 for SQL Server};SERVER=localhost;DATABASE=工厂管理DB;Trusted_Connection=yes"
    )


def test_sql_logins_instances_and_ports() -> None:
    url = to_url(
        'Data Source=PC01\\SQLEXPRESS;Initial Catalog=db;User ID=sync;Password="p;w";TrustServerCertificate=True'
    )
    odbc = str(url.query["odbc_connect"])
    assert "SERVER=PC01\\SQLEXPRESS" in odbc
    assert "UID=sync" in odbc
    assert "PWD={p;w}" in odbc
    assert "TrustServerCertificate=yes" in odbc
    py = to_url("Server=10.0.0.5,1433;Database=db;User ID=u;Password=pw", driver="pymssql")
    assert (py.drivername, py.host, py.port, py.database, py.username) == (
        "mssql+pymssql",
        "10.0.0.5",
        1433,
        "db",
        "u",
    )


def test_a_sqlalchemy_url_passes_through_and_typos_are_refused() -> None:
    assert to_url("sqlite:///factory.db").drivername == "sqlite"
    with pytest.raises(ConnectionStringError, match="Servr"):
        to_url("Servr=.;Database=x")
    with pytest.raises(ConnectionStringError, match="Database"):
        to_url("Server=.")


def test_the_shipped_example_config_loads() -> None:
    example = Path(__file__).resolve().parents[3] / "agent" / "deploy" / "SyncConfig.example.json"
    config = load_config(example, env={SECRET_ENV: "from-env"})
    assert config.database.connection_string == SEED_CONFIG["database"]["connectionString"]  # type: ignore[index]
