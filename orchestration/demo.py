"""`make demo`: the whole graph on the embedded defaults, with progress and a summary at the end."""

from __future__ import annotations

import contextlib
import json
import sys
import time

import dagster as dg
import duckdb

from lakehouse.settings import Settings, SettingsError, load_settings

KPI_QUERIES = {
    "MRR, latest month (USD)": (
        "select sum(mrr) from finance.fct_mrr where month = (select max(month) from finance.fct_mrr)",
        "${:,.2f}",
    ),
    "ARR, latest month (USD)": (
        "select sum(arr) from finance.fct_mrr where month = (select max(month) from finance.fct_mrr)",
        "${:,.2f}",
    ),
    "Paying customers, latest month": (
        "select count(*) from finance.fct_mrr "
        "where mrr > 0 and month = (select max(month) from finance.fct_mrr)",
        "{:,}",
    ),
    "DAU / MAU, last day (all products)": (
        "select dau || ' / ' || mau from learning.fct_active_users where product = 'all' "
        "and activity_date = (select max(activity_date) from learning.fct_active_users)",
        "{}",
    ),
    "Ad spend, all days (USD)": ("select sum(spend_usd) from marketing.fct_channel_daily", "${:,.2f}"),
    "Touchpoints, all days": ("select sum(touchpoints) from marketing.fct_channel_daily", "{:,}"),
}


def summary(settings: Settings) -> str:
    lines = ["", f"Published warehouse: {settings.warehouse_file}"]
    with duckdb.connect(str(settings.warehouse_file), read_only=True) as con:
        tables = con.execute(
            "select schema_name, table_name from duckdb_tables() "
            "where schema_name in ('learning', 'marketing', 'finance', 'meta') order by 1, 2"
        ).fetchall()
        lines.append("Tables:")
        for schema, table in tables:
            rows = con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0]
            lines.append(f"  {schema + '.' + table:<38} {rows:>8,} rows")
        lines.append("KPIs:")
        for label, (query, shape) in KPI_QUERIES.items():
            value = con.execute(query).fetchone()[0]
            lines.append(f"  {label:<38} {shape.format(value) if value is not None else '—'}")
        as_of, lake_versions = con.execute("select as_of_date, lake_versions from meta.build_info").fetchone()
        versions = json.loads(lake_versions)
        lines.append(
            f"Data as of {as_of}; built from {len(versions)} silver tables at the lake versions "
            "in meta.build_info"
        )
    lines += [
        "",
        "Next:",
        "  make ui           Dagster UI on http://127.0.0.1:3000 (the asset graph and this run)",
        "  make dashboards   Streamlit dashboard on http://127.0.0.1:8501",
        "  make test         the test suite",
    ]
    return "\n".join(lines)


def checks(result: dg.ExecuteInProcessResult) -> str:
    """One line on the run's quality checks (Great Expectations on silver, dbt tests on the marts), and
    every check that did not pass."""
    evaluations = [
        e.event_specific_data for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"
    ]
    failed = [e for e in evaluations if not e.passed]
    lines = [f"Quality checks: {len(evaluations) - len(failed)} of {len(evaluations)} passed."]
    for evaluation in failed:
        severity = "error" if evaluation.severity == dg.AssetCheckSeverity.ERROR else "warning"
        lines.append(f"  {severity}: {evaluation.asset_key.to_user_string()} {evaluation.check_name}")
    return "\n".join(lines)


def main() -> int:
    try:
        settings = load_settings()
    except SettingsError as error:
        print(error, file=sys.stderr)
        return 2
    from orchestration.definitions import build_definitions

    print(
        f"Building the lakehouse ({settings.profile} profile, engine {settings.engine}, "
        f"lake {settings.lake_uri})",
        flush=True,
    )
    started = time.monotonic()
    definitions = build_definitions(settings)
    job = definitions.resolve_job_def("build_everything")
    log_file = settings.data_dir / "logs" / "demo.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    print(f"Tools' own output goes to {log_file}", flush=True)
    with (
        dg.DagsterInstance.get() as instance,
        log_file.open("w") as log,
        contextlib.redirect_stdout(log),
    ):
        result = job.execute_in_process(
            instance=instance, run_config={"loggers": {"progress": {}}}, raise_on_error=False
        )
    if not result.success:
        print(checks(result), file=sys.stderr)
        print(
            f"\nThe build failed after {time.monotonic() - started:.0f} s; see the lines marked ✗ above, "
            "or open the run in the Dagster UI (make ui).",
            file=sys.stderr,
        )
        return 1
    print(f"\nBuilt everything in {time.monotonic() - started:.1f} s (run {result.run_id}).")
    print(checks(result))
    print(summary(settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
