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
CORRECTED_PRICE = 0.5


def _rows(lake, name: str) -> list[tuple]:
    table = lake.read(name)
    return sorted((tuple(row.values()) for row in table.to_pylist()), key=repr)


def _correct_an_old_fx_rate_and_price(settings) -> None:
    """Late corrections of a rate and of an LLM price two days into the window: lookup changes that
    reach rows already built, no new event."""
    exports = Path(settings.landing_uri) / "exports"
    (exports / "fx_rates").mkdir(parents=True, exist_ok=True)
    (exports / "fx_rates" / "fx_rates_correction.csv").write_text(
        "date,currency,rate_to_usd\n2026-01-29,EUR,1.5\n"
    )
    (exports / "llm_prices").mkdir(parents=True, exist_ok=True)
    (exports / "llm_prices" / "llm_prices_correction.csv").write_text(
        f"date,model,provider,currency,price_per_1k_tokens\n2026-01-29,gpt-4o-mini,openai,USD,{CORRECTED_PRICE}\n"
    )


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
                    _correct_an_old_fx_rate_and_price(settings)
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
    assert correction["silver/ai_generations"] == "incremental"
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
    prices = lake.read("silver/ai_generations", columns=["price_per_1k_tokens_usd"]).column(0).to_pylist()
    assert CORRECTED_PRICE in prices, "the corrected price reached no generation: the test proves nothing"
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


def _writes(lake: DeltaRsLake, table: str) -> list[dict]:
    history = lake.history(table)
    return [entry["operationParameters"] for entry in history if entry.get("operation") == "WRITE"]


def test_an_incremental_day_rebuilt_only_the_days_it_touched(advanced) -> None:
    settings, _ = advanced
    lake = DeltaRsLake(settings.lake_uri, settings.storage_options())
    # Event facts append the events silver/events gained, also when a lookup gains rows for new days
    # only (LLM prices, every day); a lookup correction reaching rows built replaces their days.
    for table in ("silver/lesson_progress", "silver/video_heartbeats", "silver/ai_generations"):
        writes = _writes(lake, table)
        assert len([w for w in writes if w["mode"] == "Append"]) >= len(STEPS) - 1, table
        replaced = [w["predicate"] for w in writes if w.get("predicate")]
        if table == "silver/ai_generations":  # the day of the corrected price is the first one replaced
            assert len(replaced) == 1 and "event_date" in replaced[0] and "2026-01-29" in replaced[0]
            assert "2026-01-28" not in replaced[0]
        else:
            assert replaced == [], table
    for table, column in (("silver/sessions", "session_date"), ("silver/touchpoints", "touch_date")):
        days = [parameters["predicate"] for parameters in _writes(lake, table) if parameters.get("predicate")]
        assert days and all(column in predicate or predicate == "false" for predicate in days), table


def test_new_events_are_appended_each_event_id_once(advanced) -> None:
    settings, _ = advanced
    lake = DeltaRsLake(settings.lake_uri, settings.storage_options())
    writes = _writes(lake, "silver/events")
    # Full builds overwrite (the first one; another test rebuilds everything), incremental runs append.
    assert "Append" in [parameters["mode"] for parameters in writes]
    assert not [parameters for parameters in writes if parameters.get("predicate")]
    events = lake.read("silver/events", columns=["event_id", "_batch_id"])
    assert events.num_rows == len(set(events.column("event_id").to_pylist()))
