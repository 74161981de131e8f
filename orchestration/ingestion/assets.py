"""Bronze assets: one per bronze table, each ingesting exactly once from its source."""

from collections import Counter

import dagster as dg

from ingestion import csv_exports, events, postgres_source
from ingestion.bronze_writer import BatchResult
from orchestration.resources import PlatformResource
from orchestration.sources.assets import LANDING_EVENTS, LANDING_EXPORTS, OPERATIONAL_DB


def key(table: str) -> dg.AssetKey:
    return dg.AssetKey(table.split("/"))


def _summary(results: list[BatchResult], table: str, platform: PlatformResource) -> dict:
    return {
        "batches_written": sum(not r.skipped for r in results),
        "batches_already_ingested": sum(r.skipped for r in results),
        "rows_in": sum(r.rows for r in results),
        "rows_quarantined": sum(r.quarantined for r in results),
        "delta_version": platform.lake.version(table),
    }


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            key(events.TABLE),
            deps=[LANDING_EVENTS],
            kinds={"delta"},
            group_name="bronze",
            description="Every event line of every landing file, exactly once, with lineage.",
        ),
        dg.AssetSpec(
            key(events.TABLE + "_quarantine"),
            deps=[LANDING_EVENTS],
            kinds={"delta"},
            group_name="bronze",
            description="Event lines that break the contract, with the reason.",
        ),
    ],
    name="bronze_events",
)
def bronze_events(context: dg.AssetExecutionContext, platform: PlatformResource):
    unknown: Counter[str] = Counter()
    results = events.ingest_events(platform.lake, platform.landing, unknown_fields=unknown)
    summary = _summary(results, events.TABLE, platform) | {"unknown_fields": dict(unknown)}
    if unknown:
        context.log.warning(f"schema drift: fields outside the envelope, kept in `extra`: {dict(unknown)}")
    context.log.info(f"bronze/events: {summary}")
    yield dg.MaterializeResult(asset_key=key(events.TABLE), metadata=summary)
    yield dg.MaterializeResult(
        asset_key=key(events.TABLE + "_quarantine"),
        metadata={"rows_quarantined": summary["rows_quarantined"]},
    )


def _export_asset(export: csv_exports.Export) -> dg.AssetsDefinition:
    @dg.asset(
        key=key(export.table),
        deps=[LANDING_EXPORTS],
        kinds={"delta"},
        group_name="bronze",
        description=f"Rows of the CSV exports under {export.prefix}/, idempotent per file.",
    )
    def _asset(context: dg.AssetExecutionContext, platform: PlatformResource) -> dg.MaterializeResult:
        results = csv_exports.ingest_export(platform.lake, platform.landing, export)
        return dg.MaterializeResult(metadata=_summary(results, export.table, platform))

    return _asset


class ExtractConfig(dg.Config):
    full_resync: bool = False
    """Compare every source row with bronze instead of reading past the watermark: finds hard deletes
    (as tombstones) and rows whose updated_at did not move."""


def _postgres_asset(table: str) -> dg.AssetsDefinition:
    target = postgres_source.bronze_table(table)

    @dg.asset(
        key=key(target),
        deps=[OPERATIONAL_DB],
        kinds={"delta", "postgres"},
        group_name="bronze",
        description=f"Every version of PostgreSQL table {table}'s rows, extracted by (updated_at, id) "
        "watermark; a full resync adds tombstones for deleted rows.",
    )
    def _asset(
        context: dg.AssetExecutionContext, config: ExtractConfig, platform: PlatformResource
    ) -> dg.MaterializeResult:
        result = postgres_source.ingest_table(
            platform.lake, platform.operational_dsn(), table, full_resync=config.full_resync
        )
        metadata = _summary([result], target, platform)
        return dg.MaterializeResult(metadata=metadata | {"full_resync": config.full_resync})

    return _asset


BRONZE_ASSETS = [
    bronze_events,
    *(_export_asset(export) for export in csv_exports.EXPORTS),
    *(_postgres_asset(table) for table in postgres_source.TABLES),
]
