from __future__ import annotations

import warnings

import dagster as dg

from lakehouse.settings import load_settings
from orchestration.definitions import build_definitions

SOURCES = {
    "landing/events",
    "landing/exports",
    "operational/postgres",
    "reference/channels",
    "reference/attribution_models",
}


def _graph(simulate: bool = True):
    with warnings.catch_warnings():
        # our own modules must not use anything Dagster or dagster-dbt has deprecated
        warnings.filterwarnings(
            "error", category=DeprecationWarning, module=r"(orchestration|ingestion|transforms)"
        )
        warnings.filterwarnings("error", category=dg.BetaWarning, module=r"orchestration")
        defs = build_definitions(load_settings(simulate=simulate))
        return defs, defs.get_repository_def().asset_graph


def test_every_asset_but_the_sources_has_an_upstream() -> None:
    _, graph = _graph()
    orphans = {
        key.to_user_string() for key in graph.get_all_asset_keys() if not graph.get(key).parent_keys
    } - SOURCES
    assert orphans == set()


def test_the_dashboard_is_downstream_of_every_source() -> None:
    _, graph = _graph()
    dashboard = dg.AssetKey(["dashboards", "overview"])
    for source in SOURCES:
        frontier, seen = set(graph.get(dg.AssetKey(source.split("/"))).child_keys), set()
        while frontier:
            key = frontier.pop()
            seen.add(key)
            frontier |= set(graph.get(key).child_keys) - seen
        assert dashboard in seen, f"{source} does not reach the dashboard"


def test_dbt_sources_are_the_silver_assets_and_tests_are_checks() -> None:
    _, graph = _graph()
    staging = graph.get(dg.AssetKey(["staging", "stg_lake__events"]))
    assert staging.parent_keys == {dg.AssetKey(["silver", "events"])}
    check_keys = {c.name for c in graph.asset_check_keys}
    assert "unique_grain_fct_mrr_customer_id__month" in check_keys


def test_without_the_simulator_the_sources_are_external() -> None:
    defs, graph = _graph(simulate=False)
    assert not graph.get(dg.AssetKey(["landing", "events"])).is_materializable
    assert graph.get(dg.AssetKey(["bronze", "events"])).is_materializable


def test_every_source_and_bronze_table_has_a_freshness_policy() -> None:
    _, graph = _graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        if key.path[0] in ("landing", "operational", "bronze"):
            assert node.freshness_policy is not None, key
        if key.path[0] == "finance":
            assert node.freshness_policy is None


def test_landing_sensor_requests_a_run_only_when_files_change(tmp_path, monkeypatch) -> None:
    from ingestion.landing import put_file
    from orchestration.ingestion.automation import landing_zone_sensor
    from orchestration.resources import PlatformResource

    monkeypatch.setenv("LAKEHOUSE_LANDING_ROOT", str(tmp_path / "landing"))
    resources = {"platform": PlatformResource()}
    put_file(str(tmp_path / "landing"), "events/date=2026-02-01/a.ndjson", b"{}\n")
    first = landing_zone_sensor(dg.build_sensor_context(resources=resources))
    assert isinstance(first, dg.RunRequest)
    cursor = first.run_key
    assert isinstance(
        landing_zone_sensor(dg.build_sensor_context(cursor=cursor, resources=resources)), dg.SkipReason
    )
    put_file(str(tmp_path / "landing"), "exports/ad_spend/ad_spend_2026-02-01.csv", b"date\n")
    again = landing_zone_sensor(dg.build_sensor_context(cursor=cursor, resources=resources))
    assert isinstance(again, dg.RunRequest) and again.run_key != cursor
