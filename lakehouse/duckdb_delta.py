"""DuckDB with the Delta extension, loaded from its PyPI package (no download at run time)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import duckdb


@cache
def delta_extension_path() -> str:
    import duckdb_extension_delta

    folder = Path(duckdb_extension_delta.__file__).parent / "extensions" / f"v{duckdb.__version__}"
    extension = folder / "delta.duckdb_extension"
    if not extension.exists():
        raise RuntimeError(
            f"duckdb-extension-delta has no build for duckdb {duckdb.__version__}: pin both packages to the "
            "same version in pyproject.toml and run `make install`."
        )
    return str(extension)


def load_delta(con: duckdb.DuckDBPyConnection, storage_options: dict[str, str] | None = None) -> None:
    """Make delta_scan() available on this connection, with S3 credentials when the lake is on S3."""
    con.execute(f"LOAD '{delta_extension_path()}'")
    if not storage_options:
        return
    endpoint = storage_options.get("AWS_ENDPOINT_URL", "")
    secret = {
        "TYPE": "s3",
        "KEY_ID": storage_options.get("AWS_ACCESS_KEY_ID", ""),
        "SECRET": storage_options.get("AWS_SECRET_ACCESS_KEY", ""),
        "REGION": storage_options.get("AWS_REGION", "us-east-1"),
    }
    if endpoint:
        secret |= {
            "ENDPOINT": endpoint.split("://", 1)[-1],
            "URL_STYLE": "path",
            "USE_SSL": str(endpoint.startswith("https")).lower(),
        }
    options = ", ".join(f"{key} '{value}'" for key, value in secret.items())
    con.execute(f"CREATE OR REPLACE SECRET lake ({options})")
