"""The silver quality suites: what each table gets, and Great Expectations' verdicts on tiny frames."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import dagster as dg
import pyarrow as pa
import pytest

from lakehouse.lake import DeltaRsLake
from orchestration.quality.checks import check_specs, parent_deps
from transforms.quality.suites import (
    SUITES,
    NotNull,
    References,
    RowCountChange,
    Unique,
    parents,
    suite_for,
)
from transforms.quality.validate import unmatched, validate
from transforms.registry import SILVER_TABLES
from transforms.table import SilverTable


def _table(name: str, keys: tuple[str, ...] = ("id",)) -> SilverTable:
    return SilverTable(name, (), lambda: None, keys=keys)


def test_every_table_gets_its_grain_its_own_checks_and_the_row_count_last() -> None:
    checks = suite_for(_table("silver/ad_spend", ("spend_date", "channel", "campaign", "currency")))
    names = [c.name for c in checks]
    assert names[:5] == [
        "spend_date_channel_campaign_currency_unique",
        "spend_date_not_null",
        "channel_not_null",
        "campaign_not_null",
        "currency_not_null",
    ]
    assert names[-1] == "row_count_change"
    assert "amount_range" in names and "channel_accepted" in names
    assert all(c.severity == "ERROR" for c in checks[:5])


def test_a_table_without_a_suite_gets_the_grain_and_the_row_count_only() -> None:
    checks = suite_for(_table("silver/not_declared_yet", ("a", "b")))
    assert checks == (Unique(("a", "b")), NotNull("a"), NotNull("b"), RowCountChange())


def test_a_declared_check_replaces_the_default_of_the_same_name(monkeypatch: pytest.MonkeyPatch) -> None:
    own = (RowCountChange(0.5, 10), NotNull("id", severity="WARN"))
    monkeypatch.setitem(SUITES, "silver/custom", own)
    checks = suite_for(_table("silver/custom"))
    assert [c.name for c in checks] == ["id_unique", "id_not_null", "row_count_change"]
    assert checks[1].severity == "WARN"
    assert checks[2] == RowCountChange(0.5, 10)


@pytest.mark.parametrize("name", sorted(SUITES))
def test_check_names_are_unique_dagster_names(name: str) -> None:
    names = [c.name for c in SUITES[name]]
    assert len(names) == len(set(names))
    assert all(re.fullmatch(r"[A-Za-z0-9_]+", n) for n in names)


def test_references_are_graded_by_whether_both_sides_come_from_one_source() -> None:
    severity = {(t, c.name): c.severity for t, checks in SUITES.items() for c in checks}
    assert severity["silver/subscriptions", "plan_id_in_plans"] == "ERROR"
    assert severity["silver/invoice_lines", "invoice_id_in_invoices"] == "ERROR"
    assert severity["silver/payments", "invoice_id_in_invoices"] == "ERROR"
    assert severity["silver/sessions", "user_id_in_users_history"] == "WARN"  # events vs the database


def test_every_registered_table_has_a_suite() -> None:
    assert {t.name for t in SILVER_TABLES} <= set(SUITES)


def test_error_checks_block_and_warnings_do_not() -> None:
    table = _table("silver/subscriptions")
    specs = {spec.name: spec for spec in check_specs(table)}
    assert [c.name for c in suite_for(table)] == list(specs)
    assert specs["plan_id_in_plans"].blocking and specs["status_accepted"].blocking
    assert not specs["row_count_change"].blocking and not specs["ended_at_not_before_started_at"].blocking
    assert specs["id_unique"].asset_key == dg.AssetKey(["silver", "subscriptions"])
    assert parents(table) == ("silver/plans", "silver/users_history")
    assert parent_deps(table) == [dg.AssetKey(["silver", "plans"]), dg.AssetKey(["silver", "users_history"])]


T0 = datetime(2026, 2, 1, 10, tzinfo=UTC)
TS = pa.timestamp("us", tz="UTC")


def _sessions(**columns: pa.Array) -> pa.Table:
    """Four new sessions rows: a duplicate id, a null id, an end before its start, a zero count, a bad
    channel."""
    base = {
        "session_id": pa.array(["s1", "s1", "s3", None]),
        "person_key": pa.array(["p1", "p1", "p3", "p4"]),
        "user_id": pa.array([None, None, None, None], pa.string()),
        "started_at": pa.array([T0] * 4, TS),
        "ended_at": pa.array([T0, T0.replace(hour=9), None, T0], TS),
        "session_date": pa.array([T0.date()] * 4),
        "event_count": pa.array([1, 0, 3, 2]),
        "channel": pa.array(["direct", "tv", None, "email"]),
        "product": pa.array(["courses"] * 4),
    }
    return pa.table(base | columns)


def _outcomes(rows: pa.Table, tmp_path) -> dict:
    validation = validate(_table("silver/sessions", ("session_id",)), rows, DeltaRsLake(str(tmp_path)), None)
    assert validation.rows == rows.num_rows
    return {o.check.name: o for o in validation.outcomes}


def test_each_breach_is_counted_with_examples(tmp_path) -> None:
    outcomes = _outcomes(_sessions(), tmp_path)
    failed = {name: o.unexpected_count for name, o in outcomes.items() if not o.passed}
    assert failed == {
        "session_id_unique": 2,  # both rows of the duplicated id
        "session_id_not_null": 1,
        "ended_at_not_before_started_at": 1,
        "event_count_range": 1,
        "channel_accepted": 1,
    }
    assert outcomes["session_id_unique"].examples == ("s1", "s1")
    assert outcomes["event_count_range"].examples == (0,)
    assert outcomes["channel_accepted"].examples == ("tv",)
    assert outcomes["channel_accepted"].observed == "1 of 4 rows (25.00%)"
    ended, started = outcomes["ended_at_not_before_started_at"].examples[0]
    assert (ended[:16], started[:16]) == ("2026-02-01T09:00", "2026-02-01T10:00")
    assert outcomes["user_id_in_users_history"].passed  # no parent in this lake: reported, not judged
    assert "not in the lake yet" in outcomes["user_id_in_users_history"].observed
    assert outcomes["row_count_change"].passed


def test_a_missing_column_fails_its_checks_and_the_rest_still_run(tmp_path) -> None:
    outcomes = _outcomes(_sessions().drop_columns(["channel"]), tmp_path)
    assert not outcomes["channel_accepted"].passed
    assert outcomes["channel_accepted"].observed == "column missing from the new rows: channel"
    assert outcomes["event_count_range"].unexpected_count == 1


def test_no_new_rows_breach_nothing(tmp_path) -> None:
    outcomes = _outcomes(_sessions().slice(0, 0), tmp_path)
    assert all(o.passed for o in outcomes.values())


def test_compound_keys_are_unique_together(tmp_path) -> None:
    rows = pa.table(
        {"rate_date": [T0.date()] * 3, "currency": ["EUR", "GBP", "EUR"], "rate_to_usd": [1.1, 1.3, 0.0]}
    )
    table = _table("silver/fx_rates", ("rate_date", "currency"))
    outcomes = {o.check.name: o for o in validate(table, rows, DeltaRsLake(str(tmp_path)), None).outcomes}
    assert outcomes["rate_date_currency_unique"].unexpected_count == 2
    assert not outcomes["rate_to_usd_range"].passed  # a rate must be above 0, not merely at it
    assert outcomes["rate_to_usd_range"].examples == (0.0,)


@pytest.mark.parametrize("within", [None, ("touch_date", "session_date")])
def test_references_report_each_value_the_parent_lacks(tmp_path, within) -> None:
    lake = DeltaRsLake(str(tmp_path))
    day1, day2 = T0.date(), T0.replace(day=2).date()
    parent = pa.table({"session_id": ["s1", "s2", "s3"], "session_date": [day1, day1, day2]})
    lake.overwrite("silver/sessions", parent, partition_by=["session_date"])
    rows = pa.table(
        {
            "touchpoint_id": ["s1", "s9", None, "s1", "s9", "s3"],
            "touch_date": [day1, day1, day1, day1, day1, day2],
        }
    )
    check = References("touchpoint_id", "silver/sessions", "session_id", within=within)
    assert unmatched(rows, lake, check).to_pylist() == [None, "s9", None, None, "s9", None]
    # A parent in another partition than the row's is not its parent when partitions are declared.
    moved = rows.set_column(1, "touch_date", pa.array([day1] * 5 + [day1]))
    expected = [None, "s9", None, None, "s9", "s3" if within else None]
    assert unmatched(moved, lake, check).to_pylist() == expected
    # No row with a partition value: nothing is read, every value is unmatched.
    if within:
        empty = rows.set_column(1, "touch_date", pa.nulls(6, pa.date32()))
        assert unmatched(empty, lake, check).to_pylist() == ["s1", "s9", None, "s1", "s9", "s3"]
