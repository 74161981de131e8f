"""When ingestion runs: on landing files (sensor), weekly full resyncs, and the freshness of sources."""

import hashlib
from datetime import timedelta

import dagster as dg

from ingestion import csv_exports, events, postgres_source
from ingestion.landing import list_files
from orchestration.ingestion.assets import key
from orchestration.resources import PlatformResource

# Sources deliver daily: a table not refreshed for a day and two hours is late, after a day a warning.
SOURCE_FRESHNESS = dg.FreshnessPolicy.time_window(
    fail_window=timedelta(hours=26), warn_window=timedelta(hours=24)
)

ingest_and_build = dg.define_asset_job(
    "ingest_and_build",
    selection=dg.AssetSelection.groups("bronze", "silver", "staging", "intermediate", "reference", "marts"),
    description="Ingest what landed, then rebuild silver and the marts and publish the warehouse.",
)


def landing_fingerprint(platform: PlatformResource) -> tuple[str, int]:
    """A digest of the landing zone's listing (path, size, mtime) and the number of files."""
    refs = [
        *list_files(platform.landing, "events", events.SUFFIXES),
        *(
            ref
            for export in csv_exports.EXPORTS
            for ref in list_files(platform.landing, export.prefix, (".csv",))
        ),
    ]
    listing = "\n".join(f"{r.path}\t{r.size}\t{r.mtime_ns}" for r in sorted(refs, key=lambda r: r.path))
    return hashlib.sha256(listing.encode()).hexdigest()[:32], len(refs)


@dg.sensor(
    job=ingest_and_build,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Starts ingest_and_build when a file appears or changes in the landing zone.",
)
def landing_zone_sensor(context: dg.SensorEvaluationContext, platform: PlatformResource):
    fingerprint, files = landing_fingerprint(platform)
    if fingerprint == context.cursor:
        return dg.SkipReason(f"the landing zone is unchanged ({files} files)")
    context.update_cursor(fingerprint)
    return dg.RunRequest(run_key=fingerprint, tags={"landing_files": str(files)})


postgres_full_resync = dg.define_asset_job(
    "postgres_full_resync",
    selection=dg.AssetSelection.assets(
        *(key(postgres_source.bronze_table(t)) for t in postgres_source.TABLES)
    ),
    config={
        "ops": {
            "__".join(key(postgres_source.bronze_table(t)).path): {"config": {"full_resync": True}}
            for t in postgres_source.TABLES
        }
    },
    description="Every operational table compared row by row with bronze: hard deletes become tombstones.",
)

weekly_full_resync = dg.ScheduleDefinition(
    job=postgres_full_resync,
    cron_schedule="0 3 * * 0",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Sundays 03:00 UTC: the full resync that makes hard deletes visible.",
)
