"""What a tile shows (period, value, change, trend) and the freshness and checks shown beside it."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest

from dashboards.queries import bounds, period_end
from dashboards.status import freshness
from dashboards.tiles import grows_with_days, reading
from lakehouse.metrics_catalog import load_catalog


def monthly(rows: dict[str, float | None]) -> pd.DataFrame:
    return pd.DataFrame({"period": pd.to_datetime(list(rows)), "mrr": list(rows.values())})


def test_the_latest_whole_month_against_the_calendar_month_before() -> None:
    frame = monthly({"2025-11-01": 5155.96, "2025-12-01": 5932.22, "2026-01-01": 7848.39})
    shown = reading(frame, "mrr", "month", date(2026, 2, 3), grows=False)
    assert (shown.period, shown.value, shown.previous) == (date(2026, 1, 1), 7848.39, 5932.22)
    assert shown.trend == (5155.96, 5932.22, 7848.39)
    assert (shown.period_words("month"), shown.comparison_words("month")) == (
        "January 2026",
        "vs December 2025",
    )


def test_after_a_gap_there_is_no_change_rather_than_a_false_one() -> None:
    shown = reading(monthly({"2025-11-01": 100.0, "2026-01-01": 80.0}), "mrr", "month", None, grows=False)
    assert (shown.value, shown.previous, shown.comparison_words("month")) == (80.0, None, "")


def test_a_running_month_is_shown_only_when_no_whole_month_is_in_range() -> None:
    spend = monthly({"2026-01-01": 512.0, "2026-02-01": 52.85})
    whole = reading(spend, "mrr", "month", date(2026, 2, 3), grows=True)
    assert (whole.period, whole.value, whole.running) == (date(2026, 1, 1), 512.0, False)
    assert whole.trend == (512.0,)  # the running month is not drawn as a fall

    running_only = reading(monthly({"2026-02-01": 52.85}), "mrr", "month", date(2026, 2, 3), grows=True)
    assert (running_only.value, running_only.running) == (52.85, True)
    assert running_only.period_words("month") == "February 2026 (to date)"


def test_a_running_month_is_compared_only_for_what_does_not_grow_with_its_days() -> None:
    frame = monthly({"2026-01-01": 4.89, "2026-02-01": 4.02})
    as_of = date(2026, 1, 20)  # no month is over: the latest, running one is shown
    sums = reading(frame, "mrr", "month", as_of, grows=True)
    ratios = reading(frame, "mrr", "month", as_of, grows=False)
    assert (sums.value, sums.previous, sums.comparison_words("month")) == (4.02, None, "")
    assert (ratios.value, ratios.previous, ratios.comparison_words("month")) == (
        4.02,
        4.89,
        "vs January 2026",
    )


def test_a_daily_snapshot_is_compared_with_one_window_back() -> None:
    days = pd.date_range("2026-01-01", "2026-02-03", freq="D")
    frame = pd.DataFrame({"period": days, "mau": range(len(days))})
    shown = reading(frame, "mau", "day", date(2026, 2, 3), grows=False)
    assert (shown.period, shown.value, shown.previous) == (date(2026, 2, 3), 33, 5)
    assert shown.comparison_words("day") == "vs 2026-01-06"


def test_an_empty_series_reads_as_no_data() -> None:
    shown = reading(pd.DataFrame({"period": [], "mrr": []}), "mrr", "month", None, grows=False)
    assert (shown.value, shown.period_words("month")) == (None, "no data in the chosen range")


def test_only_sums_over_days_grow_with_them() -> None:
    catalog = load_catalog()
    names = ["spend", "enrollments", "mrr", "arr", "roas", "mau", "deferred_revenue", "net_new_mrr"]
    grows = {name for name in names if grows_with_days(catalog, catalog.metric(name))}
    assert grows == {"spend", "enrollments", "net_new_mrr"}


BUILD = pd.DataFrame(
    {"built_at": [pd.Timestamp("2026-02-03 04:00")], "as_of_date": [pd.Timestamp("2026-02-02")]}
)
STATUS = pd.DataFrame(
    {
        "relation": ["finance.fct_mrr", "marketing.fct_channel_performance", "learning.fct_active_users"],
        "as_of_date": pd.to_datetime(["2026-01-31", "2026-02-02", "2026-02-02"]),
        "built_at": pd.to_datetime(["2026-02-03 04:00", "2026-02-03 04:00", "2026-01-30 04:00"]),
        "checks_passed": [40, 12, 0],
        "checks_warned": [1, 0, 0],
        "checks_failed": [2, 0, 0],
        "checks_not_run": [0, 3, 5],
        "failing": ["finance/fct_mrr:not_null_mrr, silver/invoices:amount_positive", "", None],
        "status": ["failed", "passed", "not_checked"],
    }
)


def test_each_mart_carries_its_checks_and_freshness() -> None:
    fresh = freshness(BUILD, STATUS, datetime(2026, 2, 3, 20, 0), stale_hours=36)
    mrr = fresh.of("finance.fct_mrr")
    assert (mrr.status, mrr.failing, mrr.stale) == (
        "failed",
        ("finance/fct_mrr:not_null_mrr", "silver/invoices:amount_positive"),
        False,
    )
    assert mrr.badges() == ":red-badge[:material/error: checks failed]"
    assert (
        mrr.caption()
        == "data to 2026-01-31 · failing: finance/fct_mrr:not_null_mrr, silver/invoices:amount_positive"
    )
    spend = fresh.of("marketing.fct_channel_performance")
    assert (spend.status, spend.caption()) == ("passed", "data to 2026-02-02 · 3 checks not run")
    learners = fresh.of("learning.fct_active_users")  # built 88 hours before `now`
    assert (learners.status, learners.stale) == ("not_checked", True)
    assert "stale, built 2026-01-30 04:00 UTC" in learners.badges()
    assert fresh.of("finance.fct_cogs").status == "unknown"  # a mart the status table does not list


def test_a_warehouse_without_mart_status_shows_unknown_checks_and_the_builds_freshness() -> None:
    fresh = freshness(BUILD, None, datetime(2026, 2, 6, 0, 0), stale_hours=36)
    mrr = fresh.of("finance.fct_mrr")
    assert (mrr.status, mrr.as_of, mrr.stale, fresh.stale) == ("unknown", date(2026, 2, 2), True, True)
    assert mrr.badges().startswith(":gray-badge[:material/help: check status unknown]")


@pytest.mark.parametrize(
    ("status", "words"), [("warning", "checks warned"), ("bogus", "check status unknown")]
)
def test_a_status_is_shown_by_its_words(status: str, words: str) -> None:
    fresh = freshness(BUILD, STATUS.assign(status=status), datetime(2026, 2, 3), stale_hours=36)
    assert words in fresh.of("finance.fct_mrr").badges()


def test_date_bounds_cover_every_span_to_its_periods_end() -> None:
    months = pd.DataFrame({"period": pd.to_datetime(["2025-11-01", "2026-01-01"])})
    days = pd.DataFrame({"period": pd.to_datetime(["2025-11-03", "2026-02-03"])})
    assert bounds([(months, "month"), (days, "day")]) == (date(2025, 11, 1), date(2026, 2, 3))
    assert bounds([(months, "month")]) == (date(2025, 11, 1), date(2026, 1, 31))
    assert bounds([(pd.DataFrame({"period": []}), "day")]) is None
    assert period_end(date(2024, 2, 1), "month") == date(2024, 2, 29)
    assert period_end(date(2026, 2, 2), "week") == date(2026, 2, 8)
