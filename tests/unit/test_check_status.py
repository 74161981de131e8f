"""A mart's status from hand-made check results, freshness windows, and each mart's as-of day."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import dagster as dg
import pytest

from orchestration.dbt.check_status import CheckResult, CheckStatus, freshness, mart_status
from orchestration.dbt.publish import mart_as_of, period_end, time_columns

BUILT = datetime(2026, 2, 3, 6, 0)
AT = datetime(2026, 2, 3, 5, 0, tzinfo=UTC)
LINEAGE = {
    "finance.fct_mrr": frozenset({"finance/fct_mrr", "intermediate/int_mrr", "silver/invoices"}),
    "learning.fct_active_users": frozenset({"learning/fct_active_users", "silver/events"}),
}


def _check(asset: str, name: str, status: str = "passed", severity: str = "error") -> CheckResult:
    return CheckResult(asset, name, status, severity, None if status == "not_run" else AT, "")


def test_an_error_failure_upstream_fails_the_mart_and_names_the_check() -> None:
    checks = CheckStatus(
        results=(
            _check("finance/fct_mrr", "not_null_fct_mrr_customer_id"),
            _check("intermediate/int_mrr", "unique_int_mrr_id", "failed", "warn"),
            _check("silver/invoices", "id_unique", "failed", "error"),
            _check("silver/invoices", "row_count_change", "not_run", "warn"),
            _check("silver/events", "event_id_unique", "failed", "error"),  # not behind fct_mrr
        ),
        lineage=LINEAGE,
    )
    status = mart_status("finance.fct_mrr", date(2026, 2, 2), BUILT, checks)
    counts = (status.checks_passed, status.checks_warned, status.checks_failed, status.checks_not_run)
    assert counts == (1, 1, 1, 1)
    assert status.status == "failed"
    # the error first, then the warning
    assert status.failing == "silver/invoices:id_unique,intermediate/int_mrr:unique_int_mrr_id"
    assert (status.relation, status.as_of_date, status.built_at) == (
        "finance.fct_mrr",
        date(2026, 2, 2),
        BUILT,
    )


def test_only_warnings_make_a_warning() -> None:
    checks = CheckStatus(
        results=(
            _check("learning/fct_active_users", "not_null_dau"),
            _check("silver/events", "row_count_change", "failed", "warn"),
        ),
        lineage=LINEAGE,
    )
    status = mart_status("learning.fct_active_users", None, BUILT, checks)
    assert (status.status, status.failing, status.checks_warned, status.checks_failed) == (
        "warning",
        "silver/events:row_count_change",
        1,
        0,
    )


@pytest.mark.parametrize(
    ("results", "expected"),
    [
        ((), "not_checked"),  # nothing known, e.g. published outside Dagster
        ((_check("silver/events", "event_id_unique", "not_run"),), "not_checked"),
        ((_check("silver/events", "event_id_unique"), _check("silver/events", "x", "not_run")), "passed"),
    ],
)
def test_a_mart_with_no_passing_check_is_not_checked(results, expected) -> None:
    status = mart_status("learning.fct_active_users", None, BUILT, CheckStatus(results, LINEAGE))
    assert status.status == expected
    assert status.failing == ""


def test_a_mart_missing_from_the_lineage_counts_no_check() -> None:
    checks = CheckStatus((_check("silver/events", "event_id_unique", "failed"),), LINEAGE)
    status = mart_status("marketing.fct_funnel", None, BUILT, checks)
    assert (status.status, status.checks_failed, status.checks_passed) == ("not_checked", 0, 0)


POLICY = dg.FreshnessPolicy.time_window(fail_window=timedelta(hours=26), warn_window=timedelta(hours=24))


@pytest.mark.parametrize(
    ("hours_ago", "status", "severity"),
    [(1, "passed", "error"), (25, "failed", "warn"), (27, "failed", "error")],
)
def test_freshness_is_judged_against_both_windows(hours_ago: int, status: str, severity: str) -> None:
    result = freshness("bronze/events", POLICY, AT - timedelta(hours=hours_ago), AT)
    assert (result.asset_key, result.check_name, result.status, result.severity) == (
        "bronze/events",
        "freshness",
        status,
        severity,
    )
    assert result.evaluated_at == AT
    assert f"{hours_ago:.1f} h" in result.description and "26.0 h" in result.description


def test_an_asset_never_materialized_has_no_freshness_verdict() -> None:
    result = freshness("bronze/events", POLICY, None, AT)
    assert (result.status, result.evaluated_at) == ("not_run", None)


@pytest.mark.parametrize(
    ("day", "granularity", "end"),
    [
        (date(2026, 2, 11), "day", date(2026, 2, 11)),
        (date(2026, 2, 9), "week", date(2026, 2, 15)),  # Monday to Sunday
        (date(2026, 2, 15), "week", date(2026, 2, 15)),
        (date(2026, 2, 1), "month", date(2026, 2, 28)),
        (date(2024, 2, 1), "month", date(2024, 2, 29)),
        (date(2026, 5, 1), "quarter", date(2026, 6, 30)),
        (date(2026, 1, 1), "year", date(2026, 12, 31)),
    ],
)
def test_period_end(day: date, granularity: str, end: date) -> None:
    assert period_end(day, granularity) == end


def test_a_month_so_far_is_as_of_the_build_and_a_finished_one_as_of_its_last_day() -> None:
    assert mart_as_of(date(2026, 2, 1), "month", date(2026, 2, 2)) == date(2026, 2, 2)
    assert mart_as_of(date(2026, 1, 1), "month", date(2026, 2, 2)) == date(2026, 1, 31)
    assert mart_as_of(datetime(2026, 1, 30, 23, 59), "day", date(2026, 2, 2)) == date(2026, 1, 30)
    assert mart_as_of(None, "day", date(2026, 2, 2)) is None


def _semantic_model(name: str, table: str, dimension: str, expr: str | None, granularity: str) -> dict:
    schema, alias = table.split(".")
    return {
        "name": name,
        "node_relation": {"schema_name": schema, "alias": alias},
        "defaults": {"agg_time_dimension": dimension},
        "dimensions": [
            {"name": "product", "expr": None, "type_params": None},
            {"name": dimension, "expr": expr, "type_params": {"time_granularity": granularity}},
        ],
    }


def test_time_columns_take_the_finest_agg_time_dimension_and_resolve_its_expr() -> None:
    manifest = {
        "semantic_models": [
            _semantic_model("mrr_monthly", "finance.fct_mrr", "mrr_month", "month", "month"),
            _semantic_model("mrr_daily", "finance.fct_mrr", "snapshot_day", "snapshot_date", "day"),
            _semantic_model("dropoff", "learning.fct_lesson_dropoff", "as_of", "current_date", "day"),
            _semantic_model("computed", "learning.fct_x", "x_day", "cast(x as date)", "day"),
            _semantic_model("funnel", "marketing.fct_funnel", "cohort_week", None, "week"),
        ]
    }
    found = {
        relation: (t.column, t.granularity, t.from_expr) for relation, t in time_columns(manifest).items()
    }
    assert found == {
        "finance.fct_mrr": ("snapshot_date", "day", True),
        "learning.fct_lesson_dropoff": ("current_date", "day", True),
        "marketing.fct_funnel": ("cohort_week", "week", False),
    }
