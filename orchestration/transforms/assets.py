"""Silver assets: one per silver table, built by its pure Ibis transform on the configured engine.

Each run rebuilds only what its driver table gained since the last run (transforms/incremental.py);
`full_rebuild` in the run config rebuilds everything.
"""

import dagster as dg

from lakehouse.spark import SparkSetupError
from lakehouse.spectrum import ManifestWrite, write_manifest
from orchestration.ingestion.assets import key
from orchestration.quality.checks import check_results, check_specs, parent_deps
from orchestration.resources import PlatformResource
from transforms.engine import DuckDBEngine, SparkEngine
from transforms.registry import SILVER_TABLES
from transforms.table import SilverTable


class SilverConfig(dg.Config):
    full_rebuild: bool = False


def _engine(platform: PlatformResource) -> DuckDBEngine | SparkEngine:
    """The engine LAKEHOUSE_ENGINE names; Spark starts (or reuses) this process's SparkSession on
    LAKEHOUSE_SPARK_MASTER with the Delta connector from the local Maven repository (docs/spark.md)."""
    if platform.settings.engine == "spark":
        try:
            return SparkEngine.from_settings(platform.settings)
        except SparkSetupError as error:
            raise dg.Failure(str(error)) from error
    lake = platform.lake
    cache_key = (lake.root, tuple(sorted(lake.storage_options.items())))
    if cache_key not in _DUCKDB_ENGINES:
        _DUCKDB_ENGINES[cache_key] = DuckDBEngine(lake)
    return _DUCKDB_ENGINES[cache_key]


# One engine (one DuckDB connection with the Delta extension loaded) per lake, for every silver asset
# this process runs.
_DUCKDB_ENGINES: dict[tuple, DuckDBEngine] = {}


def _silver_asset(table: SilverTable) -> dg.AssetsDefinition:
    @dg.asset(
        key=key(table.name),
        # A quality check reads the parent tables it references, so they are built first.
        deps=list(dict.fromkeys([*(key(name) for name in table.inputs), *parent_deps(table)])),
        check_specs=check_specs(table),
        kinds={"ibis", "delta"},
        group_name="silver",
        description=table.description,
    )
    def _asset(
        context: dg.AssetExecutionContext, config: SilverConfig, platform: PlatformResource
    ) -> dg.MaterializeResult:
        run = _engine(platform).run(table, full=config.full_rebuild)
        context.log.info(f"{table.name}: {run.mode} ({run.reason})")
        lake = platform.lake
        metadata = {
            "dagster/row_count": lake.row_count(table.name),
            "delta_version": lake.version(table.name),
            "engine": platform.settings.engine,
            "mode": run.mode,
            "reason": run.reason,
            "rows_written": run.commit.rows if run.commit else 0,
            "inputs": {name: lake.version(name) for name in table.inputs},
        }
        if run.mode == "incremental":
            metadata["scope_values_rebuilt"] = run.scope_values
        if platform.settings.writes_spectrum_manifests:
            # After the commit, so Redshift Spectrum reads the version this run wrote (docs/redshift.md).
            metadata |= _spectrum_metadata(write_manifest(lake, table.name))
        # The Great Expectations suite runs on the rows this run wrote (all of them on a full build); a
        # run that wrote nothing carries the last results over, so a failed error check keeps blocking.
        written = run.written
        if written is None and run.commit is not None:  # the Spark engine writes from the executors
            written = lake.read(table.name)
        checks = check_results(table, written, lake, platform.settings, version=run.version)
        return dg.MaterializeResult(metadata=metadata, check_results=checks)

    return _asset


def _spectrum_metadata(written: ManifestWrite) -> dict:
    return {
        "spectrum_manifest_version": written.version,
        "spectrum_manifests": written.manifests,
        "spectrum_manifests_written": written.manifests_written,
        "spectrum_manifests_deleted": written.manifests_deleted,
    }


SILVER_ASSETS = [_silver_asset(table) for table in SILVER_TABLES]
