"""The one Dagster code location: every domain's assets, merged with the platform's resources."""

from __future__ import annotations

import dagster as dg

from lakehouse.settings import Settings, load_settings
from orchestration.dashboards.assets import DASHBOARD_SPECS
from orchestration.dbt.assets import (
    PARTITIONED_TAG,
    PUBLISHED,
    dbt_resource,
    incremental_marts,
    published_warehouse,
    warehouse_models,
)
from orchestration.ingestion.assets import BRONZE_ASSETS
from orchestration.ingestion.automation import (
    SOURCE_FRESHNESS,
    ingest_and_build,
    landing_zone_sensor,
    postgres_full_resync,
    weekly_full_resync,
)
from orchestration.maintenance.assets import daily_lake_maintenance, lake_maintenance, lake_tables
from orchestration.progress import progress_logger
from orchestration.resources import PlatformResource
from orchestration.sources.assets import source_definitions
from orchestration.transforms.assets import SILVER_ASSETS

everything = dg.define_asset_job(
    "build_everything",
    # Maintenance runs on its own schedule (lake_maintenance), not with every build.
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups("maintenance"),
    # Without a partition the incremental marts rebuild their default window (the last days built and any
    # newer ones); backfilling their daily partitions rebuilds chosen days (docs/operations.md).
    description="Sources to dashboards: the whole graph in one run.",
)

rebuild_mart_days = dg.define_asset_job(
    "rebuild_mart_days",
    selection=dg.AssetSelection.tag(*PARTITIONED_TAG) | dg.AssetSelection.assets(PUBLISHED),
    description="The daily marts' chosen days (a partition, or a range backfilled in one run) rebuilt from "
    "silver as it is now, then the warehouse published.",
)

build_silver = dg.define_asset_job(
    "build_silver",
    selection=dg.AssetSelection.groups("sources", "bronze", "silver"),
    description="Sources to silver: ingest what is new and bring every silver table up to date.",
)

ingest_sources = dg.define_asset_job(
    "ingest_sources",
    selection=dg.AssetSelection.groups("sources", "bronze"),
    description="Sources to bronze only: ingest what landed.",
)


def build_definitions(settings: Settings) -> dg.Definitions:
    definitions = dg.Definitions.merge(
        source_definitions(settings.simulates_sources),
        dg.Definitions(
            assets=[
                *BRONZE_ASSETS,
                *SILVER_ASSETS,
                lake_tables,
                warehouse_models,
                # The simulator's first day is the first day of data the platform knows of.
                incremental_marts(settings.sim_start),
                published_warehouse,
                *DASHBOARD_SPECS,
            ],
            jobs=[
                everything,
                rebuild_mart_days,
                build_silver,
                ingest_sources,
                ingest_and_build,
                postgres_full_resync,
                lake_maintenance,
            ],
            schedules=[weekly_full_resync, daily_lake_maintenance],
            sensors=[landing_zone_sensor],
            resources={"platform": PlatformResource(), "dbt": dbt_resource},
            executor=dg.in_process_executor,
            loggers={"progress": progress_logger},
        ),
    )
    # Every source and bronze table is expected daily; the policy is set here once for all of them.
    return definitions.map_resolved_asset_specs(
        func=lambda spec: dg.apply_freshness_policy(spec, SOURCE_FRESHNESS),
        selection=dg.AssetSelection.groups("sources", "bronze"),
    )


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions(load_settings())
