"""The overview page against a tiny hand-written warehouse: the tiles show the sums worked out below."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

APP = Path(__file__).resolve().parents[2] / "dashboards" / "app.py"
NOT_BUILT = "The warehouse has not been built yet."

SCHEMA = """
create schema learning;
create schema marketing;
create schema finance;
create schema meta;
create table learning.fct_active_users (
    activity_date date, product varchar, dau bigint, wau bigint, mau bigint, stickiness double
);
create table marketing.fct_channel_daily (
    activity_date date, channel varchar, touchpoints bigint, spend_usd double
);
create table finance.fct_mrr (
    customer_id varchar, month date, snapshot_date date, mrr double, list_mrr double, arr double,
    currency varchar, mrr_local double
);
create table meta.build_info (
    built_at timestamp, as_of_date date, lake_versions varchar, dbt_invocation_id varchar
);
"""

# (customer_id, month, mrr); c2 stays in February with mrr = 0, as the mart keeps churned customers.
MRR_ROWS = [
    ("c1", "2025-12-01", 100.0),
    ("c1", "2026-01-01", 100.0),
    ("c2", "2026-01-01", 250.5),
    ("c3", "2026-01-01", 0.0),
    ("c1", "2026-02-01", 120.0),
    ("c2", "2026-02-01", 0.0),
    ("c3", "2026-02-01", 1234.56),
    ("c4", "2026-02-01", 49.99),
]

ACTIVE_USER_ROWS = [
    ("2026-02-05", "courses", 20, 50, 300, 20 / 300),
    ("2026-02-05", "marketing", 10, 25, 120, 10 / 120),
    ("2026-02-05", "documents", 5, 30, 90, 5 / 90),
    ("2026-02-05", "all", 33, 100, 480, 33 / 480),
    ("2026-02-06", "courses", 900, 1500, 1800, 0.5),
    ("2026-02-06", "marketing", 300, 400, 600, 0.5),
    ("2026-02-06", "documents", 100, 200, 300, None),
    ("2026-02-06", "all", 1234, 2000, 2481, 1234 / 2481),
]

CHANNEL_ROWS = [
    ("2026-02-05", "paid_search", 10, 100.25),
    ("2026-02-05", "paid_social", 40, 1000.0),
    ("2026-02-05", "organic_search", 500, None),
    ("2026-02-06", "paid_search", 20, 200.5),
    ("2026-02-06", "paid_social", 60, 500.75),
    ("2026-02-06", "organic_search", 700, 0.0),
]

BUILD_INFO = (
    "2026-02-07 03:04:05",
    "2026-02-06",
    '{"silver.subscriptions": 3, "silver.events": 12}',
    "inv-1",
)


def write_warehouse(path: Path, mrr_rows: list[tuple[str, str, float]] = MRR_ROWS) -> Path:
    connection = duckdb.connect(str(path))
    try:
        connection.execute(SCHEMA)
        connection.executemany(
            "insert into finance.fct_mrr values (?, ?, last_day(?::date), ?, ?, ?, 'USD', ?)",
            [(c, m, m, mrr, mrr, 12 * mrr, mrr) for c, m, mrr in mrr_rows],
        )
        connection.executemany(
            "insert into learning.fct_active_users values (?, ?, ?, ?, ?, ?)", ACTIVE_USER_ROWS
        )
        connection.executemany("insert into marketing.fct_channel_daily values (?, ?, ?, ?)", CHANNEL_ROWS)
        connection.execute("insert into meta.build_info values (?, ?, ?, ?)", BUILD_INFO)
    finally:
        # The app opens the file read-only; DuckDB refuses that while this process holds a writer.
        connection.close()
    return path


@pytest.fixture(autouse=True)
def fresh_cache() -> Iterator[None]:
    st.cache_data.clear()
    yield
    st.cache_data.clear()


@pytest.fixture
def warehouse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = write_warehouse(tmp_path / "warehouse.duckdb")
    monkeypatch.setenv("LAKEHOUSE_WAREHOUSE_PATH", str(path))
    return path


def run_app() -> AppTest:
    app = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def tiles(app: AppTest) -> dict[str, tuple[str, str]]:
    return {metric.label: (metric.value, metric.delta) for metric in app.metric}


def test_tiles_show_the_marts_formatted(warehouse: Path) -> None:
    app = run_app()

    assert app.title[0].value == "AI business — Overview"
    assert tiles(app) == {
        # February: 120 + 1234.56 + 49.99 = 1404.55; January: 100 + 250.5 + 0 = 350.5; Δ 1054.05
        "MRR": ("$1,405", "+$1,054"),
        # 12 × 1404.55 = 16854.6; 12 × 350.5 = 4206; Δ 12648.6
        "ARR": ("$16,855", "+$12,649"),
        # February c1, c3, c4 (c2 has a row with mrr 0); January c1, c2
        "Paying customers": ("3", "+1"),
        # 2026-02-06, product 'all'; stickiness 1234 / 2481 = 0.4974
        "DAU": ("1,234", ""),
        "WAU": ("2,000", ""),
        "MAU": ("2,481", ""),
        "Stickiness": ("49.7%", ""),
        # 100.25 + 1000 + 200.5 + 500.75 (+ NULL + 0) = 1801.5; 10 + 40 + 500 + 20 + 60 + 700 = 1330
        "Ad spend": ("$1,802", ""),
        "Touchpoints": ("1,330", ""),
    }
    subheaders = [header.value for header in app.subheader]
    assert subheaders == [
        "Finance — February 2026",
        "Active users — 2026-02-06, all products",
        "Marketing — 2026-02-05 to 2026-02-06, all channels",
    ]
    captions = [caption.value for caption in app.caption]
    assert (
        "Data as of 2026-02-06, built 2026-02-07 03:04 UTC "
        "from lake versions silver.events v12, silver.subscriptions v3."
    ) in captions
    # MRR trend, DAU per product, spend and touchpoints by channel
    assert len(app.get("vega_lite_chart")) == 4


def test_no_delta_when_the_previous_month_is_absent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # January is missing: comparing February with December would not be a month-over-month change.
    rows = [("c1", "2025-12-01", 100.0), ("c1", "2026-02-01", 80.0), ("c2", "2026-02-01", 20.0)]
    monkeypatch.setenv("LAKEHOUSE_WAREHOUSE_PATH", str(write_warehouse(tmp_path / "w.duckdb", rows)))

    shown = tiles(run_app())

    assert shown["MRR"] == ("$100", "")
    assert shown["Paying customers"] == ("2", "")


def test_a_newly_published_warehouse_shows_without_restart(warehouse: Path) -> None:
    app = run_app()
    assert tiles(app)["MRR"][0] == "$1,405"

    # Publish as the platform does: build a new file beside it, then swap it in by rename.
    rows = [*MRR_ROWS, ("c4", "2026-03-01", 2000.0)]
    os.replace(write_warehouse(warehouse.with_name("next.duckdb"), rows), warehouse)
    app.run()

    assert not app.exception
    # March: only c4, 2000; February total 1404.55; Δ 595.45
    assert tiles(app)["MRR"] == ("$2,000", "+$595")


def test_missing_warehouse_file_shows_how_to_build_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAKEHOUSE_WAREHOUSE_PATH", str(tmp_path / "absent.duckdb"))

    app = run_app()

    assert [info.value for info in app.info] == [
        "The warehouse has not been built yet. Run `make demo` "
        "(or materialize the graph in the Dagster UI with `make ui`)."
    ]
    assert not app.metric
    assert not app.error


def test_warehouse_without_the_marts_shows_how_to_build_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "empty.duckdb"
    duckdb.connect(str(path)).close()
    monkeypatch.setenv("LAKEHOUSE_WAREHOUSE_PATH", str(path))

    app = run_app()

    assert app.info[0].value.startswith(NOT_BUILT)
    assert not app.metric


def test_a_file_that_is_not_a_warehouse_gives_a_readable_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "warehouse.duckdb"
    path.write_text("not a database\n" * 1000)
    monkeypatch.setenv("LAKEHOUSE_WAREHOUSE_PATH", str(path))

    app = run_app()

    assert "could not be opened" in app.error[0].value
    assert not app.metric
