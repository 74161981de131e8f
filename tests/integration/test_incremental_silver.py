"""Incremental silver runs give exactly the tables a full rebuild gives, on an advancing world."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
import pytest

from lakehouse.lake import DeltaRsLake
from lakehouse.settings import load_settings
from orchestration.definitions import build_definitions
from transforms.engine import DuckDBEngine
from transforms.registry import SILVER_TABLES

pytestmark = pytest.mark.slow

# Late events (up to 7 days) and re-sent duplicates cross the run boundaries; the window crosses a month.
WORLD = {"LAKEHOUSE_SIM_SEED": "5", "LAKEHOUSE_SIM_USERS": "300", "LAKEHOUSE_SIM_START": "2026-01-27"}
STEPS = (3, 7, 10)  # days simulated before each run


def _rows(lake, name: str) -> list[tuple]:
    table = lake.read(name)
    return sorted((tuple(row.values()) for row in table.to_pylist()), key=repr)


def _correct_an_old_fx_rate(settings) -> None:
    """A late correction of a rate two days into the window: a lookup change, no new event."""
    folder = Path(settings.landing_uri) / "exports" / "fx_rates"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "fx_rates_correction.csv").write_text("date,currency,rate_to_usd\n2026-01-29,EUR,1.5\n")


def _modes(result: dg.ExecuteInProcessResult) -> dict[str, str]:
    modes = {}
    for event in result.get_asset_materialization_events():
        materialization = event.event_specific_data.materialization
        if materialization.asset_key.path[0] == "silver":
            modes["/".join(materialization.asset_key.path)] = materialization.metadata["mode"].value
    return modes


@pytest.fixture(scope="module")
def advanced(tmp_path_factory: pytest.TempPathFactory):
    saved = dict(os.environ)
    os.environ.update(WORLD | {"LAKEHOUSE_DATA_DIR": str(tmp_path_factory.mktemp("incremental") / "data")})
    runs = []
    try:
        with dg.DagsterInstance.ephemeral() as instance:
            for step, days in enumerate((*STEPS, STEPS[-1], STEPS[-1])):
                os.environ["LAKEHOUSE_SIM_DAYS"] = str(days)
                settings = load_settings()
                if step == len(STEPS):
                    _correct_an_old_fx_rate(settings)
                job = build_definitions(settings).resolve_job_def("build_silver")
                result = job.execute_in_process(instance=instance)
                assert result.success
                runs.append(_modes(result))
        yield settings, runs
    finally:
        os.environ.clear()
        os.environ.update(saved)


def test_first_run_is_full_then_incremental_then_unchanged(advanced) -> None:
    _, runs = advanced
    first, *middle, correction, last = runs
    assert set(first.values()) == {"full"}
    for modes in middle:
        for name in ("silver/events", "silver/sessions", "silver/touchpoints", "silver/lesson_progress"):
            assert modes[name] == "incremental", name
    # Operational tables change on some days only; across the runs each id-scoped one went incremental.
    for name in ("silver/users_history", "silver/invoices", "silver/enrollments"):
        assert any(modes[name] == "incremental" for modes in middle), name
    # The corrected rate reaches the money tables through their lookup, nothing else is rebuilt.
    assert correction["silver/fx_rates"] == "incremental"
    assert correction["silver/invoices"] == "incremental"
    assert correction["silver/events"] == "unchanged"
    assert set(last.values()) == {"unchanged"}


def test_incremental_runs_equal_a_full_rebuild(advanced) -> None:
    settings, _ = advanced
    lake = DeltaRsLake(settings.lake_uri, settings.storage_options())
    incremental = {table.name: _rows(lake, table.name) for table in SILVER_TABLES}
    corrected = [
        name
        for name in ("silver/invoices", "silver/invoice_lines", "silver/payments", "silver/ad_spend")
        if 1.5
        in lake.read(name, columns=["fx_rate" if name != "silver/ad_spend" else "rate_to_usd"])
        .column(0)
        .to_pylist()
    ]
    assert corrected, "the corrected rate reached no table: the test proves nothing"
    schemas = {table.name: lake.schema(table.name) for table in SILVER_TABLES}
    engine = DuckDBEngine(lake)
    for table in SILVER_TABLES:
        run = engine.run(table, full=True)
        assert run.mode == "full"
    for table in SILVER_TABLES:
        assert lake.schema(table.name) == schemas[table.name], table.name
        rebuilt = _rows(lake, table.name)
        assert len(rebuilt) == len(incremental[table.name]), table.name
        assert rebuilt == incremental[table.name], table.name
    assert len(incremental["silver/events"]) > 100


def test_an_incremental_day_rebuilt_only_the_days_it_touched(advanced) -> None:
    settings, _ = advanced
    lake = DeltaRsLake(settings.lake_uri, settings.storage_options())
    history = lake.history("silver/lesson_progress")
    replaced = [entry for entry in history if entry.get("operation") == "WRITE"]
    assert replaced, "silver/lesson_progress was never written"
    partial = [entry for entry in replaced if "predicate" in entry.get("operationParameters", {})]
    assert partial, "no incremental run replaced only some days"
    assert all("event_date" in entry["operationParameters"]["predicate"] for entry in partial)
    for table, column in (("silver/sessions", "session_date"), ("silver/touchpoints", "touch_date")):
        writes = [
            entry["operationParameters"] for entry in lake.history(table) if entry.get("operation") == "WRITE"
        ]
        days = [parameters["predicate"] for parameters in writes if parameters.get("predicate")]
        assert days and all(column in predicate or predicate == "false" for predicate in days), table


def test_new_events_are_appended_each_event_id_once(advanced) -> None:
    settings, _ = advanced
    lake = DeltaRsLake(settings.lake_uri, settings.storage_options())
    writes = [entry for entry in lake.history("silver/events") if entry.get("operation") == "WRITE"]
    # Full builds overwrite (the first one; another test rebuilds everything), incremental runs append.
    assert "Append" in [entry["operationParameters"]["mode"] for entry in writes]
    assert not [entry for entry in writes if entry["operationParameters"].get("predicate")]
    events = lake.read("silver/events", columns=["event_id", "_batch_id"])
    assert events.num_rows == len(set(events.column("event_id").to_pylist()))
