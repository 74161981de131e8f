"""The dbt project as Dagster sees it, and the environment every dbt invocation gets."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from dagster_dbt import DbtProject

from lakehouse.duckdb_delta import delta_extension_path
from lakehouse.settings import PROJECT_ROOT, Settings

DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"

# dagster-dbt finds dbt on PATH; an unactivated virtualenv (`.venv/bin/dagster dev`) must still find its own.
_ENV_BIN = str(Path(sys.executable).parent)
if _ENV_BIN not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = _ENV_BIN + os.pathsep + os.environ.get("PATH", "")

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
dbt_project.prepare_if_dev()
if not dbt_project.manifest_path.exists():
    # A fresh clone has no manifest yet: parse once so the graph can load from any entry point.
    dbt_project.preparer.prepare(dbt_project)


def build_file(settings: Settings) -> Path:
    """Where dbt builds; readers only ever open the published copy beside it."""
    return settings.warehouse_file.with_name(settings.warehouse_file.stem + ".build.duckdb")


def dbt_environment(settings: Settings) -> dict[str, str]:
    """The variables dbt_project/profiles.yml and the source definitions read."""
    environment = {
        "LAKEHOUSE_WAREHOUSE_TARGET": settings.warehouse_target,
        "LAKEHOUSE_LAKE_URI": settings.lake_uri,
        "LAKEHOUSE_DBT_DUCKDB_PATH": str(build_file(settings)),
        "LAKEHOUSE_DUCKDB_DELTA_EXTENSION": delta_extension_path(),
        "LAKEHOUSE_WAREHOUSE_DB": settings.warehouse_db,
        "LAKEHOUSE_SILVER_SCHEMA": settings.silver_schema,
    }
    optional = {
        "LAKEHOUSE_WAREHOUSE_HOST": settings.warehouse_host,
        "LAKEHOUSE_WAREHOUSE_PORT": settings.warehouse_port and str(settings.warehouse_port),
        "LAKEHOUSE_WAREHOUSE_USER": settings.warehouse_user,
        "LAKEHOUSE_WAREHOUSE_PASSWORD": settings.warehouse_password
        and settings.warehouse_password.get_secret_value(),
    }
    return environment | {name: value for name, value in optional.items() if value}
