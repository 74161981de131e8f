"""Incremental marts on a small real world: a partition run rebuilds just its days, as a full rebuild would.

The whole graph is built once; then late rows land in silver on two days inside a partition window and
on two days outside it. A run of that window must leave every other day as it was and make its own days
equal to a `--full-refresh` rebuild. When the window's late rows are withdrawn again, a run without
partitions (the default window) must drop them and catch up with the days outside.
"""

from __future__ import annotations

import json
import math
import shutil
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta

import dagster as dg
import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from deltalake import DeltaTable, write_deltalake

from lakehouse.lake import DeltaRsLake
from lakehouse.settings import Settings, load_settings
from orchestration.dbt.project import build_file
from orchestration.definitions import build_definitions

pytestmark = pytest.mark.slow

START = date(2026, 1, 20)
DAYS = 8
WINDOW = [START + timedelta(days=3), START + timedelta(days=4)]
OUTSIDE = [START + timedelta(days=1), START + timedelta(days=6)]  # late rows too, but not rebuilt

# mart: its day column
MARTS = {
    "finance.fct_ai_usage": "usage_date",
    "finance.fct_document_exports": "export_date",
    "marketing.fct_channel_daily": "activity_date",
    "learning.fct_active_users": "activity_date",
}


def _late_rows(day: date) -> dict[str, dict[str, object]]:
    """What a late row of each silver table looks like on `day`: a model, a format, a user, a touch and
    spend none of the marts had on that day."""
    at = datetime.combine(day, time(12), tzinfo=UTC)
    tag = f"late-{day.isoformat()}"
    return {
        "ai_generations": {"event_id": tag, "event_date": day, "occurred_at": at, "model": "late-model"},
        "document_exports": {"event_id": tag, "event_date": day, "occurred_at": at, "format": "late-format"},
        "events": {"event_id": tag, "event_date": day, "occurred_at": at, "user_id": "late-user"},
        "touchpoints": {"touchpoint_id": tag, "touch_date": day, "touched_at": at},
        "ad_spend": {"spend_date": day, "campaign": tag, "amount": 1000.0, "amount_usd": 1000.0},
    }


def _land_late_rows(settings: Settings, days: list[date]) -> None:
    lake = DeltaRsLake(settings.lake_uri)
    for table in ("ai_generations", "document_exports", "events", "touchpoints", "ad_spend"):
        existing = lake.read(f"silver/{table}")
        if table == "events":  # a late user's activity, so it counts as active
            existing = existing.filter(pc.field("is_active"))
        template = existing.slice(0, 1)
        for day in days:
            row = template
            for name, value in _late_rows(day)[table].items():
                index = row.schema.get_field_index(name)
                row = row.set_column(index, name, pa.array([value], row.schema.field(name).type))
            write_deltalake(lake.uri(f"silver/{table}"), row, mode="append")


def _withdraw_late_rows(settings: Settings, days: list[date]) -> None:
    lake = DeltaRsLake(settings.lake_uri)
    for table, column in (
        ("ai_generations", "event_id"),
        ("document_exports", "event_id"),
        ("events", "event_id"),
        ("touchpoints", "touchpoint_id"),
        ("ad_spend", "campaign"),
    ):
        for day in days:
            DeltaTable(lake.uri(f"silver/{table}")).delete(f"{column} = 'late-{day.isoformat()}'")


def _marts(settings: Settings) -> dict[str, dict[date, list[tuple]]]:
    """Every incremental mart's rows per day, in the order of their values other than floats."""
    marts: dict[str, dict[date, list[tuple]]] = {}
    with duckdb.connect(str(build_file(settings)), read_only=True) as con:
        for mart, day_column in MARTS.items():
            per_day: dict[date, list[tuple]] = defaultdict(list)
            cursor = con.execute(f"select * from {mart}")
            day_index = [c[0] for c in cursor.description].index(day_column)
            for row in cursor.fetchall():
                per_day[row[day_index]].append(row)
            marts[mart] = {day: sorted(rows, key=_order) for day, rows in per_day.items()}
    return marts


def _order(row: tuple) -> tuple[str, str]:
    return repr(tuple(v for v in row if not isinstance(v, float))), repr(tuple(map(_rounded, row)))


def _rounded(value: object) -> object:
    return round(value, 6) if isinstance(value, float) else value


def _same(left: object, right: object) -> bool:
    """Equal, floats within a relative 1e-9: a sum's last bits depend on the order parallel workers add
    in, and no rounding absorbs that (two sums can straddle any rounding boundary)."""
    if isinstance(left, float) and isinstance(right, float):
        return math.isclose(left, right, rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(_same(left[k], right[k]) for k in left)
    if isinstance(left, list | tuple) and isinstance(right, list | tuple):
        return len(left) == len(right) and all(_same(a, b) for a, b in zip(left, right, strict=True))
    return left == right


def _outside_window(days: dict[date, list[tuple]]) -> dict[date, list[tuple]]:
    return {day: rows for day, rows in days.items() if day not in WINDOW}


def _differing_days(left: dict[date, list[tuple]], right: dict[date, list[tuple]]) -> list[date]:
    return sorted(day for day in left.keys() | right.keys() if not _same(left.get(day), right.get(day)))


def _dbt_commands(instance: dg.DagsterInstance, result: dg.ExecuteInProcessResult) -> list[str]:
    return [
        log.user_message
        for log in instance.all_logs(result.run_id)
        if (log.user_message or "").startswith("Running dbt command")
    ]


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name, value in {
        "LAKEHOUSE_SIM_SEED": "11",
        "LAKEHOUSE_SIM_USERS": "60",
        "LAKEHOUSE_SIM_START": START.isoformat(),
        "LAKEHOUSE_SIM_DAYS": str(DAYS),
    }.items():
        monkeypatch.setenv(name, value)
    return load_settings()


def _full_refresh(job: dg.JobDefinition, instance: dg.DagsterInstance) -> None:
    result = job.execute_in_process(
        instance=instance, run_config={"ops": {"incremental_marts": {"config": {"full_refresh": True}}}}
    )
    assert result.success
    assert "--full-refresh" in _dbt_commands(instance, result)[0]


def test_a_partition_run_rebuilds_its_days_like_a_full_refresh_and_nothing_else(
    world: Settings, tmp_path
) -> None:
    definitions = build_definitions(world)
    rebuild = definitions.resolve_job_def("rebuild_mart_days")
    build, saved = build_file(world), tmp_path / "after_window.duckdb"
    with dg.DagsterInstance.ephemeral() as instance:
        assert definitions.resolve_job_def("build_everything").execute_in_process(instance=instance).success
        before = _marts(world)
        _land_late_rows(world, WINDOW + OUTSIDE)

        window_run = rebuild.execute_in_process(
            instance=instance,
            tags={
                "dagster/asset_partition_range_start": WINDOW[0].isoformat(),
                "dagster/asset_partition_range_end": WINDOW[-1].isoformat(),
            },
        )
        assert window_run.success
        after_window = _marts(world)
        commands = _dbt_commands(instance, window_run)
        assert len(commands) == 1, commands  # both days in one dbt invocation
        assert json.loads(commands[0].split("--vars ")[1].split(" --select")[0]) == {
            "min_date": "2026-01-23",
            "max_date": "2026-01-24",
        }
        materialized = {
            (e.asset_key.to_user_string(), e.partition) for e in window_run.get_asset_materialization_events()
        }
        assert materialized == {
            (mart.replace(".", "/"), day.isoformat()) for mart in MARTS for day in WINDOW
        } | {("warehouse/published", None)}

        shutil.copyfile(build, saved)
        _full_refresh(rebuild, instance)
        full_with_late_rows = _marts(world)
        shutil.copyfile(saved, build)

        _withdraw_late_rows(world, WINDOW)
        assert rebuild.execute_in_process(instance=instance).success  # no partition: the default window
        after_default = _marts(world)
        _full_refresh(rebuild, instance)
        full = _marts(world)

    for mart in MARTS:
        for day in WINDOW:
            assert not _same(after_window[mart][day], before[mart].get(day)), f"{mart} {day}: no late rows"
            rebuilt = _same(after_window[mart][day], full_with_late_rows[mart][day])
            assert rebuilt, f"{mart} {day}: not rebuilt"
        touched = _differing_days(_outside_window(after_window[mart]), _outside_window(before[mart]))
        assert touched == [], f"{mart}: days outside the window were touched"
        # late rows outside the window: a full rebuild shows them, the window run must not have
        assert any(not _same(full_with_late_rows[mart][day], before[mart].get(day)) for day in OUTSIDE), mart
        # the default window (7 days before the last day built, and newer) reaches every late day, and
        # a day whose rows vanished from silver loses them too
        assert _differing_days(after_default[mart], full[mart]) == [], mart
        if mart != "learning.fct_active_users":  # its later days still count the outside late user
            assert all(_same(after_default[mart].get(day), before[mart].get(day)) for day in WINDOW), mart
