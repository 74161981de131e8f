"""Lake maintenance: every bronze, silver and quality Delta table compacted, vacuumed and checkpointed."""

from dataclasses import asdict, fields

import dagster as dg

from lakehouse.maintenance import LakeMaintenance, TableMaintenance, maintain_lake
from lakehouse.spectrum import ManifestWrite, write_manifest
from orchestration.ingestion.assets import BRONZE_ASSETS
from orchestration.resources import PlatformResource
from orchestration.transforms.assets import SILVER_ASSETS

LAKE_TABLES = dg.AssetKey(["maintenance", "lake_tables"])
FIGURES = dg.TableSchema(
    columns=[
        dg.TableColumn(field.name, "string" if field.name == "table" else "int")
        for field in fields(TableMaintenance)
    ]
)


@dg.asset(
    key=LAKE_TABLES,
    # Downstream of the tables it maintains, so a run that builds them maintains them after.
    deps=[key for asset in (*BRONZE_ASSETS, *SILVER_ASSETS) for key in asset.keys],
    kinds={"delta"},
    group_name="maintenance",
    description=(
        "Every bronze, silver and quality Delta table under the lake root: small files compacted, files "
        "unused for LAKEHOUSE_VACUUM_RETENTION_HOURS vacuumed (erasure becomes real), log checkpointed."
    ),
)
def lake_tables(context: dg.AssetExecutionContext, platform: PlatformResource) -> dg.MaterializeResult:
    retention_hours = platform.settings.vacuum_retention_hours
    outcome = maintain_lake(platform.lake, retention_hours)
    written = None
    if platform.settings.writes_spectrum_manifests:
        # Compaction and vacuum change which files a version has: Spectrum must read the new ones.
        written, failed = _refresh_manifests(platform, outcome)
        failures = dict(outcome.failures)
        for table, error in failed.items():
            failures[table] = f"{failures[table]}; {error}" if table in failures else error
        outcome = LakeMaintenance(outcome.tables, failures)
    metadata = _metadata(outcome, retention_hours)
    if written is not None:
        metadata["spectrum_manifests_written"] = sum(w.manifests_written for w in written)
    if outcome.failures:
        raise dg.Failure(
            description=f"{len(outcome.failures)} table(s) could not be maintained: "
            + "; ".join(f"{table}: {error}" for table, error in outcome.failures.items()),
            metadata=metadata,
        )
    context.log.info(
        f"{len(outcome.tables)} tables: {metadata['files_compacted']} files compacted, "
        f"{metadata['files_vacuumed']} files ({metadata['bytes_vacuumed']} bytes) vacuumed"
    )
    return dg.MaterializeResult(metadata=metadata)


def _refresh_manifests(
    platform: PlatformResource, outcome: LakeMaintenance
) -> tuple[list[ManifestWrite], dict[str, str]]:
    """The manifests of each silver table maintenance touched (Redshift sees silver only), and failures."""
    written, failures = [], {}
    touched = sorted({*(t.table for t in outcome.tables), *outcome.failures})
    for table in (name for name in touched if name.startswith("silver/")):
        try:
            written.append(write_manifest(platform.lake, table))
        except Exception as error:  # one table's manifest must not leave the others stale
            failures[table] = f"manifest: {type(error).__name__}: {error}"
    return written, failures


def _metadata(outcome: LakeMaintenance, retention_hours: int) -> dict:
    done = outcome.tables
    return {
        "tables": dg.MetadataValue.table([dg.TableRecord(asdict(t)) for t in done], schema=FIGURES),
        "tables_maintained": len(done),
        "files_compacted": sum(t.files_compacted for t in done),
        "files_vacuumed": sum(t.files_vacuumed for t in done),
        "bytes_vacuumed": sum(t.bytes_vacuumed for t in done),
        "vacuum_retention_hours": retention_hours,
        "failures": dict(outcome.failures),
    }


lake_maintenance = dg.define_asset_job(
    "lake_maintenance",
    selection=dg.AssetSelection.assets(LAKE_TABLES),
    description="Compact, vacuum and checkpoint every bronze, silver and quality Delta table.",
)

daily_lake_maintenance = dg.ScheduleDefinition(
    name="daily_lake_maintenance",
    job=lake_maintenance,
    cron_schedule="0 3 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Daily 03:00 UTC: small files compacted, old files vacuumed, logs checkpointed.",
)
