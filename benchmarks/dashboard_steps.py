"""The dashboard benchmark's steps, each run in its own process by benchmarks.run.

The data folder comes from LAKEHOUSE_DATA_DIR, holding a lake whose silver is built (the silver benchmark
leaves one); the world from LAKEHOUSE_SIM_* (benchmarks.run sets them).

python -m benchmarks.dashboard_steps warehouse           dbt build of every model and the publication, through
                                                         Dagster, as a build run does it (timed apart)
python -m benchmarks.dashboard_steps queries [--repeat N]
                                                         every query of every dashboard page, as a first visit
                                                         runs it, N times each on one read-only connection
                                                         to the published warehouse: p50, p95, max per query
                                                         and per page (target: p95 under 200 ms at scale 10)
"""

from __future__ import annotations

import argparse
import sys
import time

from benchmarks.measure import report, run_step

TARGET_P95_MS = 200.0


def warehouse() -> None:
    import dagster as dg
    import duckdb

    from lakehouse.settings import load_settings
    from orchestration.definitions import build_definitions

    settings = load_settings()
    definitions = build_definitions(settings)
    graph = definitions.resolve_asset_graph()
    # The seeds, the models and the published warehouse: silver and what feeds it are built already.
    upstream = dg.AssetSelection.groups("sources", "bronze", "silver", "maintenance")
    keys = (dg.AssetSelection.all() - upstream).resolve(graph) & graph.executable_asset_keys
    job = definitions.resolve_job_def("build_everything").get_subset(asset_selection=keys)
    started = time.perf_counter()
    with dg.DagsterInstance.ephemeral() as instance:
        result = job.execute_in_process(instance=instance)
    seconds = time.perf_counter() - started
    with duckdb.connect(str(settings.warehouse_file), read_only=True) as con:
        marts = dict(
            con.execute(
                "select schema_name || '.' || table_name, estimated_size from duckdb_tables() "
                "where schema_name in ('finance', 'learning', 'marketing') order by 1"
            ).fetchall()
        )
        statuses = dict(con.execute("select status, count(*) from meta.mart_status group by 1").fetchall())
    report(
        seconds=seconds,
        success=result.success,
        assets=len(keys),
        marts=marts,
        mart_status=statuses,
        warehouse_mib=round(settings.warehouse_file.stat().st_size / 2**20, 1),
    )


def queries(repeat: int) -> None:
    import duckdb
    import numpy as np

    from dashboards.registry import PAGES, page_queries
    from lakehouse.settings import load_settings

    path = load_settings().warehouse_file
    opened = time.perf_counter()
    con = duckdb.connect(str(path), read_only=True)
    connect_ms = (time.perf_counter() - opened) * 1000
    pages: dict[str, dict] = {}
    try:
        for page in PAGES:
            planned = page_queries(page)
            names = [name for name, _, _ in planned]
            if len(set(names)) != len(names):
                raise ValueError(f"page {page} names two queries alike: {names}")
            timings: dict[str, list[float]] = {name: [] for name, _, _ in planned}
            rows: dict[str, int] = {}
            # Round after round, so each query is timed cold once and warm after, as visits repeat.
            for _ in range(repeat):
                for name, sql, params in planned:
                    began = time.perf_counter()
                    # Fetched as the pages fetch it: into a pandas frame.
                    frame = con.execute(sql, list(params)).df()
                    timings[name].append((time.perf_counter() - began) * 1000)
                    rows[name] = len(frame)
            every = [ms for values in timings.values() for ms in values]
            visits = np.sum([values for values in timings.values()], axis=0)
            pages[page] = {
                "queries": len(planned),
                **_summary(every),
                "visit_ms": _summary(list(visits)),
                "per_query": {name: _summary(ms) | {"rows": rows[name]} for name, ms in timings.items()},
            }
    finally:
        con.close()
    worst = max(pages.values(), key=lambda page: page["p95_ms"])["p95_ms"]
    report(
        repeat=repeat,
        connect_ms=round(connect_ms, 2),
        target_p95_ms=TARGET_P95_MS,
        worst_page_p95_ms=worst,
        meets_target=worst < TARGET_P95_MS,
        pages=pages,
    )


def _summary(values: list[float]) -> dict[str, float]:
    import numpy as np

    return {
        "p50_ms": round(float(np.percentile(values, 50)), 2),
        "p95_ms": round(float(np.percentile(values, 95)), 2),
        "max_ms": round(float(max(values)), 2),
    }


def benchmark(env: dict[str, str], repeat: int = 20) -> dict:
    """Both steps on the world `env` names (LAKEHOUSE_DATA_DIR, LAKEHOUSE_SIM_*), each in its own process."""
    return {
        "warehouse": run_step("benchmarks.dashboard_steps", "warehouse", env=env).report,
        "queries": run_step("benchmarks.dashboard_steps", "queries", "--repeat", str(repeat), env=env).report,
    }


def report_lines(result: dict, scale: float) -> list[str]:
    """The section of docs/benchmarks.md for what `benchmark` measured."""
    built, measured = result["warehouse"], result["queries"]
    lines = [
        "",
        "## Dashboard queries on the published warehouse",
        "",
        f"Scale {scale:g}: dbt built every model and the warehouse was published in {built['seconds']:.0f} s "
        f"({built['warehouse_mib']:,.0f} MiB). Then every query each page runs on a first visit, with its "
        f"default filters, {measured['repeat']} times on one read-only DuckDB connection (opened in "
        f"{measured['connect_ms']:.0f} ms), results fetched into pandas as the pages do.",
        "",
        "| page | queries | p50 ms | p95 ms | max ms | whole visit p50 ms | slowest query (p95 ms) |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for page, figures in measured["pages"].items():
        name, slowest = max(figures["per_query"].items(), key=lambda item: item[1]["p95_ms"])
        lines.append(
            f"| {page} | {figures['queries']} | {figures['p50_ms']:.1f} | {figures['p95_ms']:.1f} "
            f"| {figures['max_ms']:.1f} | {figures['visit_ms']['p50_ms']:.0f} "
            f"| {name} ({slowest['p95_ms']:.1f}) |"
        )
    verdict = "met" if measured["meets_target"] else "**not met**"
    lines += ["", f"Target: p95 of each page's queries under {TARGET_P95_MS:.0f} ms at scale 10 ({verdict})."]
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("step", choices=["warehouse", "queries"])
    parser.add_argument("--repeat", type=int, default=20, help="runs of each query (queries step)")
    args = parser.parse_args()
    if args.step == "warehouse":
        warehouse()
    else:
        queries(args.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
