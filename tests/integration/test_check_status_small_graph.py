"""Check status published with the warehouse, from a small graph on a real Dagster instance.

A silver table's Great Expectations check fails in one run and blocks the marts; a later run builds the
marts and publishes. The published warehouse must still say that the mart built on that table failed,
and name the check: Dagster's blocking holds only within a run, the status has to travel with the numbers.
"""

# No `from __future__ import annotations`: Dagster reads the context annotation of the assets below.
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pyarrow as pa
import pytest

from lakehouse.lake import DeltaRsLake
from lakehouse.settings import Settings, load_settings
from orchestration.dbt.check_status import check_status_for
from orchestration.dbt.publish import publish
from orchestration.quality.checks import check_results, check_specs
from transforms.registry import BY_NAME

SUBSCRIPTIONS = BY_NAME["silver/subscriptions"]
T0 = datetime(2026, 2, 1, 10, tzinfo=UTC)
TS = pa.timestamp("us", tz="UTC")
MRR = dg.AssetKey(["finance", "fct_mrr"])
ACTIVE_USERS = dg.AssetKey(["learning", "fct_active_users"])
BRONZE = dg.AssetKey(["bronze", "pg_subscriptions"])
FRESHNESS = dg.FreshnessPolicy.time_window(fail_window=timedelta(hours=26), warn_window=timedelta(hours=24))
SEMANTIC_MANIFEST = {
    "semantic_models": [
        {
            "name": "mrr",
            "node_relation": {"schema_name": "finance", "alias": "fct_mrr"},
            "defaults": {"agg_time_dimension": "mrr_month"},
            "dimensions": [
                {"name": "mrr_month", "expr": "month", "type_params": {"time_granularity": "month"}}
            ],
        }
    ]
}


def _subscriptions(ids: list[str]) -> pa.Table:
    n = len(ids)
    return pa.table(
        {
            "id": ids,
            "user_id": ["u1"] * n,
            "plan_id": ["p1"] * n,
            "quantity": pa.array([1] * n, pa.int32()),
            "status": ["active"] * n,
            "trial_end": pa.array([None] * n, TS),
            "started_at": pa.array([T0] * n, TS),
            "ended_at": pa.array([None] * n, TS),
            "updated_at": pa.array([T0] * n, TS),
            "_batch_id": ["b1"] * n,
        }
    )


def _graph(lake: DeltaRsLake, settings: Settings, rows: pa.Table, folder: Path) -> list:
    build, published = folder / "build.duckdb", folder / "published.duckdb"
    manifest = folder / "semantic_manifest.json"
    manifest.write_text(json.dumps(SEMANTIC_MANIFEST))

    @dg.asset(key=BRONZE, freshness_policy=FRESHNESS)
    def bronze() -> None:
        pass

    @dg.asset(
        key=dg.AssetKey(SUBSCRIPTIONS.name.split("/")), deps=[BRONZE], check_specs=check_specs(SUBSCRIPTIONS)
    )
    def silver() -> dg.MaterializeResult:
        version = lake.overwrite(SUBSCRIPTIONS.name, rows).version
        return dg.MaterializeResult(
            check_results=check_results(SUBSCRIPTIONS, rows, lake, settings, version=version)
        )

    @dg.asset(key=MRR, deps=[silver], check_specs=[dg.AssetCheckSpec("not_null_fct_mrr_month", asset=MRR)])
    def mrr() -> dg.MaterializeResult:
        with duckdb.connect(str(build)) as con:
            con.execute("create schema if not exists finance")
            con.execute(
                "create or replace table finance.fct_mrr as select date '2026-02-01' as month, 10.0 as mrr"
            )
        return dg.MaterializeResult(
            check_results=[dg.AssetCheckResult(check_name="not_null_fct_mrr_month", passed=True)]
        )

    @dg.asset(key=ACTIVE_USERS)
    def active_users() -> None:
        with duckdb.connect(str(build)) as con:
            con.execute("create schema if not exists learning")
            con.execute(
                "create or replace table learning.fct_active_users as "
                "select * from (values (date '2026-02-01', 3), (date '2026-02-02', 4)) t(activity_date, dau)"
            )

    @dg.asset(key=dg.AssetKey(["warehouse", "published"]), deps=[mrr, active_users])
    def published_warehouse(context: dg.AssetExecutionContext) -> None:
        checks = check_status_for(context, [MRR, ACTIVE_USERS])
        publish(build, published, {}, context.run.run_id, checks, semantic_manifest=manifest)

    return [bronze, silver, mrr, active_users, published_warehouse]


def _rows(path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.mark.slow
def test_a_check_failed_in_an_earlier_run_fails_the_published_mart(tmp_path: Path) -> None:
    settings = load_settings()  # a fresh temporary data folder (tests/conftest.py)
    lake = DeltaRsLake(settings.lake_uri)
    lake.overwrite("silver/plans", pa.table({"id": ["p1"], "product": ["courses"]}))
    lake.overwrite("silver/users_history", pa.table({"id": ["u1"], "valid_from": pa.array([T0], TS)}))
    assets = _graph(lake, settings, _subscriptions(["s1", "s1", "s2"]), tmp_path)
    with dg.DagsterInstance.ephemeral() as instance:
        first = dg.materialize(assets, instance=instance, raise_on_error=False)
        failed = {
            (e.asset_key.to_user_string(), e.check_name)
            for e in first.get_asset_check_evaluations()
            if not e.passed
        }
        assert failed == {("silver/subscriptions", "id_unique")}
        assert not (tmp_path / "published.duckdb").exists()  # blocked in that run

        started = datetime.now(UTC).replace(tzinfo=None)
        second = dg.materialize(
            assets, instance=instance, selection=[MRR, ACTIVE_USERS, dg.AssetKey(["warehouse", "published"])]
        )
        assert second.success

    published = tmp_path / "published.duckdb"
    status = {
        row[0]: row[1:]
        for row in _rows(
            published,
            "select relation, status, failing, checks_passed, checks_warned, checks_failed, checks_not_run, "
            "as_of_date from meta.mart_status",
        )
    }
    suite = {spec.name for spec in check_specs(SUBSCRIPTIONS)}
    # fct_mrr: its own test, silver's other checks and bronze's freshness passed; id_unique failed
    assert status["finance.fct_mrr"] == (
        "failed",
        "silver/subscriptions:id_unique",
        1 + (len(suite) - 1) + 1,
        0,
        1,
        0,
        date(2026, 2, 2),  # February so far, as of the build's last day of activity
    )
    assert status["learning.fct_active_users"] == ("not_checked", "", 0, 0, 0, 0, date(2026, 2, 2))

    results = {
        (asset, name): (state, severity, evaluated_at, description)
        for asset, name, state, severity, evaluated_at, description in _rows(
            published, "select * from meta.check_results"
        )
    }
    assert set(results) == {("silver/subscriptions", name) for name in suite} | {
        ("finance/fct_mrr", "not_null_fct_mrr_month"),
        ("bronze/pg_subscriptions", "freshness"),
    }
    state, severity, evaluated_at, description = results[("silver/subscriptions", "id_unique")]
    assert (state, severity) == ("failed", "error")
    assert evaluated_at < started  # the verdict of the first run
    assert description.startswith("2 failing rows")  # s1 twice
    assert results[("bronze/pg_subscriptions", "freshness")][:2] == ("passed", "error")
