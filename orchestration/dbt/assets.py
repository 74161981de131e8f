"""dbt models as Dagster assets (tests become asset checks), and the published warehouse after them.

Incremental models are a second, daily-partitioned group: a partition run rebuilds just its days (the
window goes to dbt as the vars min_date and max_date); a run without partitions, like build_everything,
lets them rebuild their default window (see dbt_project/macros/incremental_window.sql).
"""

import json
import os
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets
from pydantic import Field

from lakehouse.warehouse_silver import load_silver, warehouse_conninfo
from orchestration.dbt.check_status import check_status_for
from orchestration.dbt.project import build_file, dbt_environment, dbt_project
from orchestration.dbt.publish import publish
from orchestration.resources import PlatformResource
from transforms.registry import SILVER_TABLES

MART_SCHEMAS = ("finance", "learning", "marketing")
INCREMENTAL = "config.materialized:incremental"
# Selects the daily-partitioned marts, as in `dagster asset materialize --select tag:partitioned=daily`.
PARTITIONED_TAG = ("partitioned", "daily")


class LakehouseTranslator(DagsterDbtTranslator):
    """Models are keyed by their schema (staging, intermediate, learning, marketing, finance)."""

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project: Any) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        node = manifest["nodes"].get(unique_id)
        if node is None or node["resource_type"] not in ("model", "seed"):
            return spec
        schema = node["schema"]
        group = "marts" if schema in MART_SCHEMAS else schema
        spec = spec.replace_attributes(key=dg.AssetKey([schema, node["name"]]), group_name=group)
        if node["config"].get("materialized") == "incremental":
            spec = spec.merge_attributes(tags=dict([PARTITIONED_TAG]))
        return spec


def _prepare_dbt(platform: PlatformResource) -> None:
    # dbt runs as a subprocess that inherits this environment; the in-process executor keeps it per run.
    os.environ.update(dbt_environment(platform.settings))
    build_file(platform.settings).parent.mkdir(parents=True, exist_ok=True)
    if platform.settings.warehouse_target == "postgres":
        # PostgreSQL cannot read Delta in place: dbt's silver sources are a copy, refreshed where the lake
        # moved (tables whose Delta version the warehouse already holds are skipped).
        settings = platform.settings
        load_silver(warehouse_conninfo(settings), platform.lake, schema=settings.silver_schema)


@dbt_assets(
    manifest=dbt_project.manifest_path,
    exclude=INCREMENTAL,
    dagster_dbt_translator=LakehouseTranslator(),
    name="warehouse_models",
)
def warehouse_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, platform: PlatformResource):
    _prepare_dbt(platform)
    yield from dbt.cli(["build"], context=context).stream()


class IncrementalMartsConfig(dg.Config):
    full_refresh: bool = Field(
        False,
        description="Rebuild the incremental marts from scratch (dbt --full-refresh) whatever the "
        "partitions: needed after their columns change.",
    )


def daily_partitions(first_day: date) -> dg.DailyPartitionsDefinition:
    """UTC days from the first day of data through today, today included while it is still filling."""
    return dg.DailyPartitionsDefinition(start_date=first_day.isoformat(), end_offset=1)


def window_vars(window: dg.TimeWindow) -> dict[str, str]:
    """The dbt vars of a partition window: its first and last day, both included (the window's end is
    the midnight after its last day)."""
    return {
        "min_date": window.start.date().isoformat(),
        "max_date": (window.end - timedelta(days=1)).date().isoformat(),
    }


def incremental_build_args(window: dg.TimeWindow | None, full_refresh: bool) -> list[str]:
    """The dbt command of an incremental marts run: a full refresh, the days of a partition window, or
    (no window) each model's default window."""
    if full_refresh:
        return ["build", "--full-refresh"]
    if window is None:
        return ["build"]
    return ["build", "--vars", json.dumps(window_vars(window))]


def incremental_marts(first_day: date) -> dg.AssetsDefinition:
    """The incremental models, one partition per day from `first_day`. A backfill of many days is one dbt
    invocation: dbt costs seconds to start, and one delete and insert of a range beats one per day."""

    @dbt_assets(
        manifest=dbt_project.manifest_path,
        select=INCREMENTAL,
        dagster_dbt_translator=LakehouseTranslator(),
        name="incremental_marts",
        partitions_def=daily_partitions(first_day),
        backfill_policy=dg.BackfillPolicy.single_run(),
    )
    def _incremental_marts(
        context: dg.AssetExecutionContext,
        dbt: DbtCliResource,
        platform: PlatformResource,
        config: IncrementalMartsConfig,
    ):
        _prepare_dbt(platform)
        # A run of one partition carries its key, a single-run backfill the range; both have a window.
        partitioned = context.has_partition_key or context.has_partition_key_range
        window = context.partition_time_window if partitioned else None
        yield from dbt.cli(incremental_build_args(window, config.full_refresh), context=context).stream()

    return _incremental_marts


def _mart_keys() -> list[dg.AssetKey]:
    """Every mart dbt builds, incremental or not: the models in the three mart schemas."""
    manifest = json.loads(dbt_project.manifest_path.read_text())
    translator = LakehouseTranslator()
    keys = (
        translator.get_asset_spec(manifest, unique_id, dbt_project).key
        for unique_id, node in manifest["nodes"].items()
        if node["resource_type"] == "model" and node["schema"] in MART_SCHEMAS
    )
    return sorted(keys, key=lambda key: key.to_user_string())


# The published warehouse follows every mart.
MART_KEYS = _mart_keys()
PUBLISHED = dg.AssetKey(["warehouse", "published"])


@dg.asset(
    key=PUBLISHED,
    deps=MART_KEYS,
    kinds={"duckdb"},
    group_name="marts",
    description="The warehouse dashboards and the API read: swapped in atomically after a build.",
)
def published_warehouse(
    context: dg.AssetExecutionContext, platform: PlatformResource
) -> dg.MaterializeResult:
    settings = platform.settings
    lake_versions = {table.name: platform.lake.version(table.name) for table in SILVER_TABLES}
    checks = check_status_for(context, MART_KEYS)
    summary = publish(
        build_file(settings), settings.warehouse_file, lake_versions, context.run.run_id, checks
    )
    return dg.MaterializeResult(
        metadata={
            "path": str(settings.warehouse_file),
            "as_of_date": summary["as_of_date"],
            "lake_versions": lake_versions,
            "tables": summary["tables"],
        }
    )


dbt_resource = DbtCliResource(project_dir=dbt_project)
