"""The timed steps of the silver benchmark, each run in its own process by benchmarks.run.

The data folder comes from LAKEHOUSE_DATA_DIR and the world from LAKEHOUSE_SIM_* (benchmarks.run sets them).

python -m benchmarks.silver_steps sources       simulate the world and ingest it into bronze (not timed)
python -m benchmarks.silver_steps duckdb        every silver table, full build, default engine
python -m benchmarks.silver_steps spark         every silver table, full build, Spark engine (local[*])
python -m benchmarks.silver_steps incremental   every silver table, incremental run, default engine
"""

from __future__ import annotations

import sys
import time

from benchmarks.measure import report

SPARK_MEMORY = "8g"


def sources() -> None:
    import dagster as dg

    from lakehouse.settings import load_settings
    from orchestration.definitions import build_definitions

    settings = load_settings()
    definitions = build_definitions(settings)
    job = definitions.resolve_implicit_global_asset_job_def().get_subset(
        asset_selection=dg.AssetSelection.groups("sources", "bronze").resolve(
            definitions.resolve_asset_graph()
        )
    )
    started = time.perf_counter()
    with dg.DagsterInstance.ephemeral() as instance:
        assert job.execute_in_process(instance=instance).success
    lake = _lake()
    report(seconds=time.perf_counter() - started, bronze_events=lake.row_count("bronze/events"))


def _lake():
    from lakehouse.lake import DeltaRsLake
    from lakehouse.settings import load_settings

    settings = load_settings()
    return DeltaRsLake(settings.lake_uri, settings.storage_options())


def silver(engine_name: str, full: bool) -> None:
    # Ibis loads pandas on its first query; importing it here keeps module loading (seconds without a
    # bytecode cache) out of the timed build, as for every other module the build uses.
    import ibis.backends.duckdb.converter  # noqa: F401

    from transforms.engine import DuckDBEngine, SparkEngine
    from transforms.registry import SILVER_TABLES

    lake = _lake()
    started = time.perf_counter()
    if engine_name == "spark":
        from lakehouse.settings import load_settings

        # local[*] runs executors inside the driver JVM: give it room, as DuckDB takes what it needs.
        engine = SparkEngine.from_settings(load_settings(), extra={"spark.driver.memory": SPARK_MEMORY})
    else:
        engine = DuckDBEngine(lake)
    ready = time.perf_counter()
    tables = {}
    runs = []
    for table in SILVER_TABLES:
        began = time.perf_counter()
        run = engine.run(table, full=full)
        tables[table.name] = {
            "seconds": time.perf_counter() - began,
            "mode": run.mode,
            "rows": run.commit.rows if run.commit else 0,
        }
        runs.append((table, run))
    seconds = time.perf_counter() - started
    report(
        seconds=seconds,
        startup_seconds=ready - started,
        tables=tables,
        silver_events=lake.row_count("silver/events"),
        bronze_events=lake.row_count("bronze/events"),
        checks=None if full else _checks(lake, runs),
    )


def _checks(lake, runs) -> dict:
    """The quality suites on the rows each table's run wrote, as the silver assets run them after the
    build (not part of the build's time): Great Expectations' import, then the validations."""
    began = time.perf_counter()
    from transforms.quality import validate

    validate._context()
    imported = time.perf_counter()
    for table, run in runs:
        if run.written is not None:
            validate.validate(table, run.written, lake, run.version)
    return {"import_seconds": imported - began, "seconds": time.perf_counter() - imported}


if __name__ == "__main__":
    step = sys.argv[1]
    if step == "sources":
        sources()
    else:
        silver("spark" if step == "spark" else "duckdb", full=step != "incremental")
