"""Silver assets: one per silver table, built by its pure Ibis transform on the configured engine."""

import dagster as dg

from lakehouse.spark import SparkSetupError
from orchestration.ingestion.assets import key
from orchestration.resources import PlatformResource
from transforms.engine import DuckDBEngine, SparkEngine
from transforms.registry import SILVER_TABLES
from transforms.table import SilverTable


def _engine(platform: PlatformResource) -> DuckDBEngine | SparkEngine:
    """The engine LAKEHOUSE_ENGINE names; Spark starts (or reuses) this process's SparkSession on
    LAKEHOUSE_SPARK_MASTER with the Delta connector from the local Maven repository (docs/spark.md)."""
    if platform.settings.engine == "spark":
        try:
            return SparkEngine.from_settings(platform.settings)
        except SparkSetupError as error:
            raise dg.Failure(str(error)) from error
    return DuckDBEngine(platform.lake)


def _silver_asset(table: SilverTable) -> dg.AssetsDefinition:
    @dg.asset(
        key=key(table.name),
        deps=[key(name) for name in table.inputs],
        kinds={"ibis", "delta"},
        group_name="silver",
        description=table.description,
    )
    def _asset(context: dg.AssetExecutionContext, platform: PlatformResource) -> dg.MaterializeResult:
        commit = _engine(platform).run(table)
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": commit.rows,
                "delta_version": commit.version,
                "engine": platform.settings.engine,
                "inputs": {name: platform.lake.version(name) for name in table.inputs},
            }
        )

    return _asset


SILVER_ASSETS = [_silver_asset(table) for table in SILVER_TABLES]
