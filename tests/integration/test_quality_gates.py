"""Quality gates on a real silver table in a lake folder: results kept, and Dagster blocking downstream."""

from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from lakehouse.lake import DeltaRsLake
from lakehouse.settings import Settings, load_settings
from orchestration.ingestion.assets import key
from orchestration.quality.checks import check_results, check_specs
from transforms.quality.results import CHECK_RESULTS, latest, reports_dir
from transforms.registry import BY_NAME

SUBSCRIPTIONS = BY_NAME["silver/subscriptions"]
T0 = datetime(2026, 2, 1, 10, tzinfo=UTC)
TS = pa.timestamp("us", tz="UTC")


def _subscriptions(ids: list[str], plan_ids: list[str] | None = None, ended: list | None = None) -> pa.Table:
    n = len(ids)
    return pa.table(
        {
            "id": ids,
            "user_id": ["u1"] * n,
            "plan_id": plan_ids or ["p1"] * n,
            "quantity": pa.array([1] * n, pa.int32()),
            "status": ["active"] * n,
            "trial_end": pa.array([None] * n, TS),
            "started_at": pa.array([T0] * n, TS),
            "ended_at": pa.array(ended or [None] * n, TS),
            "updated_at": pa.array([T0] * n, TS),
            "_batch_id": ["b1"] * n,
        }
    )


@pytest.fixture
def lake_and_settings() -> tuple[DeltaRsLake, Settings]:
    settings = load_settings()  # the data folder is a fresh temporary one (tests/conftest.py)
    lake = DeltaRsLake(settings.lake_uri)
    lake.overwrite("silver/plans", pa.table({"id": ["p1", "p2"], "product": ["courses", "marketing"]}))
    lake.overwrite("silver/users_history", pa.table({"id": ["u1"], "valid_from": pa.array([T0], TS)}))
    return lake, settings


def _write_and_check(lake: DeltaRsLake, settings: Settings, rows: pa.Table) -> dict[str, dg.AssetCheckResult]:
    commit = lake.overwrite(SUBSCRIPTIONS.name, rows)
    results = check_results(SUBSCRIPTIONS, rows, lake, settings, version=commit.version)
    return {result.check_name: result for result in results}


def test_a_duplicate_key_fails_the_error_check_and_the_result_is_kept(lake_and_settings) -> None:
    lake, settings = lake_and_settings
    results = _write_and_check(lake, settings, _subscriptions(["s1", "s1", "s2"], ["p1", "p1", "p9"]))
    failed = {name for name, result in results.items() if not result.passed}
    assert failed == {"id_unique", "plan_id_in_plans"}
    assert results["id_unique"].severity == dg.AssetCheckSeverity.ERROR
    assert results["plan_id_in_plans"].metadata["unexpected_examples"].value == ["p9"]

    kept = {row["check_name"]: row for row in latest(lake, SUBSCRIPTIONS.name).to_pylist()}
    assert set(kept) == set(results)
    assert kept["id_unique"]["passed"] is False
    assert (kept["id_unique"]["unexpected_count"], kept["id_unique"]["silver_version"]) == (2, 0)
    assert (kept["id_unique"]["severity"], kept["id_unique"]["rows_validated"]) == ("ERROR", 3)
    assert kept["user_id_in_users_history"]["passed"] is True
    reports = list((reports_dir(settings) / "silver" / "subscriptions").glob("v00000000-*.json"))
    assert len(reports) == 1 and '"id_unique"' in reports[0].read_text()


def test_a_warning_only_breach_passes_with_a_warning(lake_and_settings) -> None:
    lake, settings = lake_and_settings
    _write_and_check(lake, settings, _subscriptions([f"s{i}" for i in range(10)]))
    # The table shrinks to 4 rows (x0.4) and one ends before it started: both only warn.
    rows = _subscriptions(["s1", "s2", "s3", "s4"], ended=[T0.replace(hour=9), None, None, None])
    results = _write_and_check(lake, settings, rows)
    failed = {name: r.severity for name, r in results.items() if not r.passed}
    assert failed == {
        "row_count_change": dg.AssetCheckSeverity.WARN,
        "ended_at_not_before_started_at": dg.AssetCheckSeverity.WARN,
    }
    assert results["row_count_change"].metadata["observed_value"].value == "4 rows after, 10 before (x0.400)"


def test_a_version_is_recorded_once_however_often_it_is_checked(lake_and_settings) -> None:
    lake, settings = lake_and_settings
    rows = _subscriptions(["s1", "s2"])
    commit = lake.overwrite(SUBSCRIPTIONS.name, rows)
    for _ in range(2):
        check_results(SUBSCRIPTIONS, rows, lake, settings, version=commit.version)
    kept = lake.read(CHECK_RESULTS)
    assert kept.num_rows == len(check_specs(SUBSCRIPTIONS))
    assert pc.all(pc.equal(kept["silver_version"], commit.version)).as_py()


def _graph(lake: DeltaRsLake, settings: Settings, rows: pa.Table | None, ran: list[str]) -> list:
    """A silver asset gated by its checks (`rows` None: the run writes nothing) and one downstream."""

    @dg.asset(key=key(SUBSCRIPTIONS.name), check_specs=check_specs(SUBSCRIPTIONS))
    def silver() -> dg.MaterializeResult:
        version = None if rows is None else lake.overwrite(SUBSCRIPTIONS.name, rows).version
        return dg.MaterializeResult(
            check_results=check_results(SUBSCRIPTIONS, rows, lake, settings, version=version)
        )

    @dg.asset(deps=[silver])
    def downstream() -> None:
        ran.append("downstream")

    return [silver, downstream]


def _materialize(
    lake: DeltaRsLake, settings: Settings, rows: pa.Table | None
) -> tuple[bool, list[str], dict]:
    ran: list[str] = []
    result = dg.materialize(_graph(lake, settings, rows, ran), raise_on_error=False)
    failed = {e.check_name: e.severity for e in result.get_asset_check_evaluations() if not e.passed}
    return result.success, ran, failed


def test_an_error_check_blocks_downstream_and_a_warning_does_not(lake_and_settings) -> None:
    lake, settings = lake_and_settings
    success, ran, failed = _materialize(lake, settings, _subscriptions(["s1", "s1"]))
    assert (success, ran) == (False, [])
    assert failed == {"id_unique": dg.AssetCheckSeverity.ERROR}

    # A run that writes nothing reports the last verdict again: the bad data still blocks.
    success, ran, failed = _materialize(lake, settings, None)
    assert (success, ran) == (False, [])
    assert failed == {"id_unique": dg.AssetCheckSeverity.ERROR}

    rows = _subscriptions(["s1", "s2"], ended=[T0.replace(hour=9), None])
    success, ran, failed = _materialize(lake, settings, rows)
    assert (success, ran) == (True, ["downstream"])
    assert failed == {"ended_at_not_before_started_at": dg.AssetCheckSeverity.WARN}
