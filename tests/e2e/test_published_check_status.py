"""The check status the whole graph publishes with the warehouse (meta.check_results, meta.mart_status)."""

from __future__ import annotations

import calendar
import json
import shutil

import dagster as dg
import pyarrow.compute as pc
import pytest

from ingestion import ground_truth
from lakehouse.lake import DeltaRsLake
from lakehouse.settings import load_settings
from orchestration.dbt.project import dbt_project
from orchestration.definitions import build_definitions
from tests.e2e.conftest import WORLD
from tests.e2e.warehouse import query
from transforms.quality.suites import parents
from transforms.registry import BY_NAME

pytestmark = pytest.mark.slow

PUBLISHED = dg.AssetKey(["warehouse", "published"])
SUBSCRIPTIONS = dg.AssetKey(["silver", "subscriptions"])


def _marts(settings) -> set[str]:
    rows = query(
        settings,
        "select schema_name || '.' || table_name from duckdb_tables() "
        "where schema_name in ('finance', 'learning', 'marketing')",
    )
    return {name for (name,) in rows}


def test_every_mart_is_published_with_its_as_of_day_and_passing_checks(built, world) -> None:
    settings = built[0]
    rows = query(
        settings,
        "select relation, status, checks_passed, checks_failed, failing, as_of_date from meta.mart_status",
    )
    status = {relation: rest for relation, *rest in rows}
    assert set(status) == _marts(settings)
    assert {state for state, *_ in status.values()} <= {"passed", "warning"}
    assert all(passed > 0 and failed == 0 for _, passed, failed, _, _ in status.values())
    last_day = max(row["activity_date"] for row in ground_truth.active_users(world))
    assert status["learning.fct_active_users"][-1] == last_day
    # MRR is kept per month that ended: as of the last day of the latest such month
    month = max(row["month"] for row in ground_truth.mrr(world))
    assert status["finance.fct_mrr"][-1] == month.replace(day=calendar.monthrange(month.year, month.month)[1])

    results = query(settings, "select asset_key, check_name, status, severity from meta.check_results")
    checked_assets = {asset for asset, *_ in results}
    assert {"silver/subscriptions", "silver/events", "finance/fct_mrr", "bronze/events"} <= checked_assets
    assert ("bronze/events", "freshness", "passed", "error") in results
    assert not [row for row in results if row[2:] == ("failed", "error")]


def _upstream_silver(mart: str, manifest: dict) -> set[str]:
    """The silver tables a mart is built from, worked out from the dbt manifest and the silver registry
    (not from Dagster's asset graph, which the code under test reads)."""
    schema, name = mart.split(".")
    node = next(
        uid
        for uid, n in manifest["nodes"].items()
        if n["resource_type"] == "model" and (n["schema"], n["name"]) == (schema, name)
    )
    silver, frontier, seen = set(), [node], set()
    while frontier:
        current = frontier.pop()
        for parent in manifest["parent_map"].get(current, []):
            if parent in seen:
                continue
            seen.add(parent)
            if parent.startswith("source."):
                key = manifest["sources"][parent]["meta"]["dagster"]["asset_key"]
                silver.add("/".join(key))
            else:
                frontier.append(parent)
    tables = list(silver)
    while tables:
        table = BY_NAME[tables.pop()]
        for upstream in [*table.inputs, *parents(table)]:
            if upstream.startswith("silver/") and upstream not in silver:
                silver.add(upstream)
                tables.append(upstream)
    return silver


def test_a_check_failed_in_an_earlier_run_marks_every_mart_built_on_it(
    built, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    for folder in ("lake", "warehouse"):  # a copy: the other tests read the built lake as it is
        shutil.copytree(built[0].data_dir / folder, data / folder)
    for name, value in {
        "LAKEHOUSE_DATA_DIR": str(data),
        "LAKEHOUSE_SIM_SEED": str(WORLD["seed"]),
        "LAKEHOUSE_SIM_USERS": str(WORLD["users"]),
        "LAKEHOUSE_SIM_START": WORLD["start"].isoformat(),
        "LAKEHOUSE_SIM_DAYS": str(WORLD["days"]),
    }.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    lake = DeltaRsLake(settings.lake_uri)
    # A plan that subscriptions refer to disappears from silver: their plan_id check must fail.
    plans = lake.read("silver/plans")
    used = lake.read("silver/subscriptions", columns=["plan_id"])["plan_id"][0].as_py()
    lake.overwrite("silver/plans", plans.filter(pc.not_equal(plans["id"], used)))

    job = build_definitions(settings).resolve_implicit_global_asset_job_def()
    with dg.DagsterInstance.ephemeral() as instance:
        rebuilt = job.get_subset(asset_selection={SUBSCRIPTIONS}).execute_in_process(
            instance=instance,
            run_config={"ops": {"silver__subscriptions": {"config": {"full_rebuild": True}}}},
            raise_on_error=False,
        )
        failed = {e.check_name for e in rebuilt.get_asset_check_evaluations() if not e.passed}
        assert failed == {"plan_id_in_plans"}
        # A later run publishes only: the failure is in another run, so nothing blocks it.
        assert job.get_subset(asset_selection={PUBLISHED}).execute_in_process(instance=instance).success

    manifest = json.loads(dbt_project.manifest_path.read_text())
    rows = query(settings, "select relation, status, failing, checks_failed from meta.mart_status")
    built_on_subscriptions = {
        mart for mart in _marts(settings) if "silver/subscriptions" in _upstream_silver(mart, manifest)
    }
    assert "finance.fct_mrr" in built_on_subscriptions
    assert built_on_subscriptions < _marts(settings)
    for relation, status, failing, checks_failed in rows:
        if relation in built_on_subscriptions:
            assert (status, failing, checks_failed) == ("failed", "silver/subscriptions:plan_id_in_plans", 1)
        else:  # nothing else was checked in this instance
            assert (status, failing, checks_failed) == ("not_checked", "", 0), relation
    (state, severity), *_ = query(
        settings,
        "select status, severity from meta.check_results "
        "where asset_key = 'silver/subscriptions' and check_name = 'plan_id_in_plans'",
    )
    assert (state, severity) == ("failed", "error")
