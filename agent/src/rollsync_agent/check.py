"""`rollsync-agent check`: the configuration, the database and the cloud, one clear line per problem."""

from __future__ import annotations

from sqlalchemy import Engine, select
from sqlalchemy.exc import SQLAlchemyError

from rollsync_agent.cloud import CloudClient, CloudError
from rollsync_agent.config import AgentConfig
from rollsync_agent.factory_db import SchemaProblemError, load_table, open_engine, reflect
from rollsync_agent.rows import CONTRACT_NO

QUEUE_COLUMNS = ("id", "record_id", "product_id", "sync_status", "attempts", "error_message", "synced_at")


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def check_database(config: AgentConfig, engine: Engine | None = None) -> list[str]:
    problems: list[str] = []
    try:
        engine = engine or open_engine(config)
        lines = load_table(engine, config)
        with engine.connect() as conn:
            conn.execute(select(lines.col(CONTRACT_NO)).limit(1)).all()
        if config.sync.capture_mode == "queue":
            queue = reflect(engine, config.database.queue_table_name)
            missing = [c for c in QUEUE_COLUMNS if c not in queue.c]
            if missing:
                problems.append(f"database: {queue.name} lacks {', '.join(missing)} (run install-sql)")
    except SchemaProblemError as exc:
        problems.append(f"database: {exc}")
    except SQLAlchemyError as exc:
        problems.append(f"database: cannot read it ({_first_line(getattr(exc, 'orig', None) or exc)})")
    except ImportError as exc:
        problems.append(f"database: driver missing ({exc}); pip install 'rollsync-agent[mssql]'")
    return problems


def check_cloud(config: AgentConfig, client: CloudClient | None = None) -> list[str]:
    client = client or CloudClient(config.cloud_api, attempts=1)
    try:
        client.login()
        client.call("GET", "/sync/pending-updates", params={"limit": 1})
    except CloudError as exc:
        return [f"cloud ({config.cloud_api.base_url}): {exc}"]
    finally:
        client.close()
    return []


def check_all(config: AgentConfig) -> list[str]:
    return check_database(config) + check_cloud(config)
