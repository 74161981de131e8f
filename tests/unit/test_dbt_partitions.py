"""The dbt models as two Dagster asset groups: the incremental marts daily-partitioned, the rest not."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import dagster as dg

from lakehouse.settings import load_settings
from orchestration.dbt.assets import daily_partitions, incremental_build_args
from orchestration.definitions import build_definitions

INCREMENTAL_MARTS = {
    "finance/fct_ai_usage",
    "finance/fct_document_exports",
    "marketing/fct_channel_daily",
    "learning/fct_active_users",
}


def _assets_by_name(defs: dg.Definitions) -> dict[str, dg.AssetsDefinition]:
    graph = defs.get_repository_def().asset_graph
    return {
        node.assets_def.node_def.name: node.assets_def
        for node in graph.asset_nodes
        if node.assets_def.is_executable
    }


def test_the_incremental_marts_are_their_own_daily_partitioned_dbt_assets() -> None:
    defs = build_definitions(load_settings(sim_start=date(2026, 1, 28)))
    assets = _assets_by_name(defs)
    models, incremental = assets["warehouse_models"], assets["incremental_marts"]

    assert {key.to_user_string() for key in incremental.keys} == INCREMENTAL_MARTS
    assert not {key.to_user_string() for key in models.keys} & INCREMENTAL_MARTS
    assert models.partitions_def is None
    partitions = incremental.partitions_def
    assert isinstance(partitions, dg.DailyPartitionsDefinition)
    assert partitions.get_first_partition_key() == "2026-01-28"
    # today's partition exists while the day is still filling
    assert partitions.get_last_partition_key() == datetime.now(UTC).date().isoformat()
    assert incremental.backfill_policy == dg.BackfillPolicy.single_run()
    # their dbt tests are their checks, so a failing one blocks what reads them
    assert dg.AssetCheckKey(
        dg.AssetKey(["finance", "fct_ai_usage"]), "unique_grain_fct_ai_usage_usage_date__product__model"
    ) in set(incremental.check_keys)
    graph = defs.get_repository_def().asset_graph
    published = graph.get(dg.AssetKey(["warehouse", "published"])).parent_keys
    assert {key.to_user_string() for key in published} >= INCREMENTAL_MARTS | {"finance/fct_mrr"}


def test_the_jobs_that_build_the_marts_include_the_partitioned_ones() -> None:
    defs = build_definitions(load_settings())
    for job_name in ("build_everything", "ingest_and_build"):
        selected = {
            key.to_user_string() for key in defs.resolve_job_def(job_name).asset_layer.selected_asset_keys
        }
        assert selected >= INCREMENTAL_MARTS, job_name
    rebuild = defs.resolve_job_def("rebuild_mart_days").asset_layer.selected_asset_keys
    assert {key.to_user_string() for key in rebuild} == INCREMENTAL_MARTS | {"warehouse/published"}


def _vars(args: list[str]) -> dict[str, str]:
    assert args[:2] == ["build", "--vars"] and len(args) == 3, args
    return json.loads(args[2])


def test_a_partition_reaches_dbt_as_its_day_and_a_range_as_its_first_and_last_day() -> None:
    partitions = daily_partitions(date(2026, 1, 1))
    one_day = partitions.time_window_for_partition_key("2026-02-28")
    assert _vars(incremental_build_args(one_day, full_refresh=False)) == {
        "min_date": "2026-02-28",
        "max_date": "2026-02-28",
    }
    first, last = (partitions.time_window_for_partition_key(key) for key in ("2026-01-30", "2026-02-02"))
    month_end = dg.TimeWindow(first.start, last.end)  # a backfill of 2026-01-30...2026-02-02 in one run
    assert _vars(incremental_build_args(month_end, full_refresh=False)) == {
        "min_date": "2026-01-30",
        "max_date": "2026-02-02",
    }


def test_without_a_partition_dbt_gets_no_window_and_a_full_refresh_ignores_one() -> None:
    window = daily_partitions(date(2026, 1, 1)).time_window_for_partition_key("2026-01-05")
    assert incremental_build_args(None, full_refresh=False) == ["build"]
    assert incremental_build_args(window, full_refresh=True) == ["build", "--full-refresh"]
