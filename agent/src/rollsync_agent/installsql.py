"""`install-sql`: seed 000's schema change (sync columns, `sync_queue`, trigger), completed, and its undo.

Completed means: the trigger also records deletes and the line's 产品ID (a contract has several lines),
`sync_queue` counts attempts (retryCount), and the agent's own writes (bookkeeping, write-back) do not
re-enter the queue: the agent marks its session (`rollsync_agent` / `rollsync.agent`) and the trigger skips it.
"""

from __future__ import annotations

from typing import Literal

Dialect = Literal["mssql", "postgresql"]

_MSSQL_INSTALL = """\
-- rollsync-agent queue mode for SQL Server: run once in the factory database (back it up first).
IF COL_LENGTH(N'dbo.{t}', N'sync_status') IS NULL
    ALTER TABLE dbo.[{t}] ADD
        sync_status VARCHAR(20) NULL CONSTRAINT DF_{t}_sync_status DEFAULT 'pending',
        sync_time DATETIME NULL,
        cloud_contract_id INT NULL,
        last_sync_hash VARCHAR(64) NULL;
GO
IF OBJECT_ID(N'dbo.{q}', N'U') IS NULL
    CREATE TABLE dbo.[{q}] (
        id INT IDENTITY(1,1) PRIMARY KEY,
        table_name VARCHAR(50) NOT NULL,
        record_id NVARCHAR(64) NOT NULL,
        product_id NVARCHAR(64) NULL,
        action VARCHAR(20) NOT NULL,
        data_snapshot NVARCHAR(MAX) NULL,
        sync_status VARCHAR(20) NOT NULL DEFAULT 'pending',
        attempts INT NOT NULL DEFAULT 0,
        created_at DATETIME NOT NULL DEFAULT GETDATE(),
        synced_at DATETIME NULL,
        error_message NVARCHAR(500) NULL
    );
GO
IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = N'IX_{q}_pending')
    CREATE INDEX IX_{q}_pending ON dbo.[{q}] (sync_status, id);
GO
CREATE OR ALTER TRIGGER dbo.tr_{t}_sync ON dbo.[{t}]
AFTER INSERT, UPDATE, DELETE
AS
BEGIN
    SET NOCOUNT ON;
    IF CAST(SESSION_CONTEXT(N'rollsync_agent') AS INT) = 1 RETURN;
    INSERT INTO dbo.[{q}] (table_name, record_id, product_id, action)
    SELECT N'{t}', i.[合同编号], i.[产品ID], CASE WHEN d.[合同编号] IS NULL THEN 'insert' ELSE 'update' END
    FROM inserted AS i
    LEFT JOIN deleted AS d ON d.[合同编号] = i.[合同编号] AND d.[产品ID] = i.[产品ID];
    INSERT INTO dbo.[{q}] (table_name, record_id, product_id, action)
    SELECT N'{t}', d.[合同编号], d.[产品ID], 'delete'
    FROM deleted AS d
    LEFT JOIN inserted AS i ON i.[合同编号] = d.[合同编号] AND i.[产品ID] = d.[产品ID]
    WHERE i.[合同编号] IS NULL;
END;
GO
"""

_MSSQL_UNINSTALL = """\
-- rollsync-agent queue mode for SQL Server: undo (the contract data is untouched).
DROP TRIGGER IF EXISTS dbo.tr_{t}_sync;
GO
DROP TABLE IF EXISTS dbo.[{q}];
GO
ALTER TABLE dbo.[{t}] DROP CONSTRAINT IF EXISTS DF_{t}_sync_status;
GO
ALTER TABLE dbo.[{t}] DROP COLUMN IF EXISTS sync_status, sync_time, cloud_contract_id, last_sync_hash;
GO
"""

_PG_INSTALL = """\
-- rollsync-agent queue mode for PostgreSQL: run once in the factory database (back it up first).
ALTER TABLE "{t}"
    ADD COLUMN IF NOT EXISTS sync_status VARCHAR(20) DEFAULT 'pending',
    ADD COLUMN IF NOT EXISTS sync_time TIMESTAMP NULL,
    ADD COLUMN IF NOT EXISTS cloud_contract_id INT NULL,
    ADD COLUMN IF NOT EXISTS last_sync_hash VARCHAR(64) NULL;
CREATE TABLE IF NOT EXISTS "{q}" (
    id SERIAL PRIMARY KEY,
    table_name VARCHAR(50) NOT NULL,
    record_id VARCHAR(64) NOT NULL,
    product_id VARCHAR(64) NULL,
    action VARCHAR(20) NOT NULL,
    data_snapshot TEXT NULL,
    sync_status VARCHAR(20) NOT NULL DEFAULT 'pending',
    attempts INT NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL DEFAULT now(),
    synced_at TIMESTAMP NULL,
    error_message VARCHAR(500) NULL
);
CREATE INDEX IF NOT EXISTS "ix_{q}_pending" ON "{q}" (sync_status, id);
CREATE OR REPLACE FUNCTION "{t}_rollsync_sync"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('rollsync.agent', true) = '1' THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') AND (TG_OP = 'DELETE'
            OR (OLD."合同编号", OLD."产品ID") IS DISTINCT FROM (NEW."合同编号", NEW."产品ID")) THEN
        INSERT INTO "{q}" (table_name, record_id, product_id, action)
        VALUES ('{t}', OLD."合同编号", OLD."产品ID", 'delete');
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO "{q}" (table_name, record_id, product_id, action)
        VALUES ('{t}', NEW."合同编号", NEW."产品ID", lower(TG_OP));
    END IF;
    RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS "tr_{t}_sync" ON "{t}";
CREATE TRIGGER "tr_{t}_sync" AFTER INSERT OR UPDATE OR DELETE ON "{t}"
    FOR EACH ROW EXECUTE FUNCTION "{t}_rollsync_sync"();
"""

_PG_UNINSTALL = """\
-- rollsync-agent queue mode for PostgreSQL: undo (the contract data is untouched).
DROP TRIGGER IF EXISTS "tr_{t}_sync" ON "{t}";
DROP FUNCTION IF EXISTS "{t}_rollsync_sync"();
DROP TABLE IF EXISTS "{q}";
ALTER TABLE "{t}" DROP COLUMN IF EXISTS sync_status, DROP COLUMN IF EXISTS sync_time,
    DROP COLUMN IF EXISTS cloud_contract_id, DROP COLUMN IF EXISTS last_sync_hash;
"""

_SCRIPTS = {"mssql": (_MSSQL_INSTALL, _MSSQL_UNINSTALL), "postgresql": (_PG_INSTALL, _PG_UNINSTALL)}


def _check_name(name: str) -> str:
    if not name.replace("_", "").isalnum():
        raise ValueError(f"table name {name!r} must be letters, digits and underscores")
    return name


def install_sql(dialect: Dialect, table: str = "hetong", queue: str = "sync_queue") -> tuple[str, str]:
    """(install script, uninstall script) for the dialect."""
    install, uninstall = _SCRIPTS[dialect]
    names = {"t": _check_name(table), "q": _check_name(queue)}
    return install.format(**names), uninstall.format(**names)


def batches(script: str) -> list[str]:
    """T-SQL scripts separate batches with GO lines (sqlcmd/SSMS); drivers want one batch at a time."""
    out: list[str] = []
    current: list[str] = []
    for line in script.splitlines():
        if line.strip().upper() == "GO":
            out.append("\n".join(current).strip())
            current = []
        else:
            current.append(line)
    out.append("\n".join(current).strip())
    return [b for b in out if b and not all(x.startswith("--") for x in b.splitlines())]
