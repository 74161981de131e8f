"""The dashboards against a small hand-written warehouse: tiles show the sums worked out below, each with its
as-of day and check status; empty, missing or unreadable warehouses and hostile filters give messages."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from dashboards.registry import PAGES
from lakehouse.metrics_catalog import SEMANTIC_MANIFEST

APP = Path(__file__).resolve().parents[2] / "dashboards" / "app.py"
NOT_BUILT = (
    "The warehouse has not been built yet. Run `make demo` "
    "(or materialize the graph in the Dagster UI with `make ui`)."
)
MANIFEST = json.loads(SEMANTIC_MANIFEST.with_name("manifest.json").read_text(encoding="utf-8"))
AS_OF = date(2026, 3, 2)  # February is the latest whole month; March 1-2 is running
SECRET_USER = "user_secret_0042"

META = """
create schema meta;
create table meta.build_info (built_at timestamp, as_of_date date, lake_versions varchar,
    dbt_invocation_id varchar);
create table meta.mart_status (relation varchar, as_of_date date, built_at timestamp, checks_passed integer,
    checks_warned integer, checks_failed integer, checks_not_run integer, failing varchar, status varchar);
"""

# (customer_id, month, mrr); c2 stays in February with mrr 0, as the mart keeps churned customers.
MRR = [
    ("c1", "2025-12-01", 100.0),
    ("c1", "2026-01-01", 100.0),
    ("c2", "2026-01-01", 250.5),
    ("c3", "2026-01-01", 0.0),
    ("c1", "2026-02-01", 120.0),
    ("c2", "2026-02-01", 0.0),
    ("c3", "2026-02-01", 1234.56),
    ("c4", "2026-02-01", 49.99),
]

ROWS: dict[str, list[dict]] = {
    "finance.fct_retention": [
        {"month": date(2026, 1, 1), "period_months": 1, "mrr_start": 100.0, "mrr_end": 100.0, "grr": 1.0},
        {"month": date(2026, 2, 1), "period_months": 1, "mrr_start": 350.5, "mrr_end": 400.0, "grr": 0.9},
        # The 12-month period of February must not leak into the 1-month tiles.
        {"month": date(2026, 2, 1), "period_months": 12, "mrr_start": 10.0, "mrr_end": 90.0, "grr": 0.1},
    ],
    "finance.fct_unit_economics": [
        {"month": date(2026, 1, 1), "product": "all", "recognized_revenue_usd": 400.0, "cogs_usd": 100.0,
         "gross_profit_usd": 300.0, "cac_payback_months": 3.0},
        {"month": date(2026, 2, 1), "product": "all", "recognized_revenue_usd": 500.0, "cogs_usd": 50.0,
         "gross_profit_usd": 450.0, "cac_payback_months": 2.5},
        # A product's own row is part of `all`, never added to it.
        {"month": date(2026, 2, 1), "product": "courses", "recognized_revenue_usd": 1000.0, "cogs_usd": 999.0,
         "gross_profit_usd": 1.0, "cac_payback_months": 99.0},
    ],
    "learning.fct_active_users": [
        {"activity_date": date(2026, 2, 2), "product": "courses", "dau": 20, "wau": 90, "mau": 250},
        {"activity_date": date(2026, 3, 1), "product": "courses", "dau": 30, "wau": 100, "mau": 280},
        {"activity_date": date(2026, 3, 2), "product": "courses", "dau": 40, "wau": 120, "mau": 300},
        {"activity_date": date(2026, 3, 2), "product": "all", "dau": 70, "wau": 200, "mau": 500},
    ],
    "marketing.fct_channel_performance": [
        {"activity_date": day, "channel": channel, "campaign": campaign, "attribution_model": model,
         "spend_usd": spend, "attributed_value_usd": value, "attributed_conversions": conversions}
        for model, scale in (("last_touch", 1.0), ("linear", 3.0))
        for day, channel, campaign, spend, value, conversions in [
            (date(2026, 1, 10), "email", "weekly_digest", 200.0, 200.0 * scale, 2.0),
            (date(2026, 2, 3), "email", "weekly_digest", 100.0, 250.0 * scale, 1.0),
            (date(2026, 2, 4), "paid_search", "brand_search", 300.0, 350.0 * scale, 3.0),
            (date(2026, 3, 1), "paid_search", "brand_search", 10.0, 1000.0 * scale, 5.0),
        ]
    ],
    "marketing.fct_conversions": [
        {"conversion_id": "cv1", "conversion_type": "paid", "user_id": SECRET_USER,
         "conversion_date": date(2026, 2, 3), "value_usd": 250.0},
    ],
    "learning.fct_enrollments": [
        {"enrollment_id": "e1", "user_id": SECRET_USER, "course_id": "course_01",
         "enrolled_at": datetime(2026, 2, 3, 10, 0), "engaged_seconds": 600},
    ],
}  # fmt: skip


def write_warehouse(path: Path, mrr: list[tuple[str, str, float]] = MRR, *, status: list[tuple] = ()) -> Path:
    """Every mart with the columns dbt declares, these rows in them, and the meta tables of a build."""
    con = duckdb.connect(str(path))
    try:
        for node in MANIFEST["nodes"].values():
            if node["resource_type"] == "model" and "/marts/" in node["original_file_path"]:
                columns = ", ".join(f'"{name}" {c["data_type"]}' for name, c in node["columns"].items())
                con.execute(f"create schema if not exists {node['schema']}")
                con.execute(f"create table {node['schema']}.{node['alias']} ({columns})")
        con.execute(META)
        con.executemany(
            "insert into finance.fct_mrr (customer_id, month, mrr, arr) values (?, ?, ?, ?)",
            [(c, m, value, 12 * value) for c, m, value in mrr],
        )
        for relation, rows in ROWS.items():
            for row in rows:
                names = ", ".join(f'"{name}"' for name in row)
                con.execute(
                    f"insert into {relation} ({names}) values ({', '.join('?' for _ in row)})",
                    list(row.values()),
                )
        built = datetime.now(UTC).replace(tzinfo=None) - timedelta(hours=1)
        con.execute("insert into meta.build_info values (?, ?, '{}', 'inv-1')", [built, AS_OF])
        for row in status:
            con.execute("insert into meta.mart_status values (?, ?, ?, ?, ?, ?, ?, ?, ?)", list(row))
    finally:
        # The app opens the file read-only; DuckDB refuses that while this process holds a writer.
        con.close()
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


def run(page: str = "overview", **query_params: object) -> AppTest:
    app = AppTest.from_file(str(APP), default_timeout=120)
    app.query_params.update(query_params)
    app.run()
    if page != "overview":
        app.switch_page(f"views/{page}.py").run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def tiles(app: AppTest) -> dict[str, tuple[str, str]]:
    return {metric.label: (metric.value, metric.delta) for metric in app.metric}


def tile_status(app: AppTest) -> dict[str, tuple[str, str]]:
    """Each tile's check badge and its caption (period, data day, failing checks), by tile label."""
    badges = [m.value for m in app.markdown if "-badge[" in m.value]
    captions = [c.value for c in app.caption if "data to" in c.value]
    return {m.label: (b, c) for m, b, c in zip(app.metric, badges, captions, strict=True)}


def test_overview_tiles_show_the_marts_formatted(warehouse: Path) -> None:
    app = run()

    assert [t.value for t in app.title] == ["Overview"]
    assert tiles(app) == {
        # February: 120 + 1234.56 + 49.99 = 1404.55; January: 100 + 250.5 + 0 = 350.5; Δ 1054.05
        "MRR": ("$1,405", "+$1,054"),
        # ARR = 12 × MRR: 16854.6; 12 × 350.5 = 4206; Δ 12648.6
        "ARR": ("$16,855", "+$12,649"),
        # NRR = Σ MRR_end / Σ MRR_start: 400 / 350.5 = 1.1412 against 100 / 100
        "NRR (1 month)": ("114.1%", "+14.1 pp"),
        "GRR (1 month)": ("90.0%", "-10.0 pp"),
        # the `all` rows: 450 / 500 against 300 / 400
        "Gross margin": ("90.0%", "+15.0 pp"),
        # MAU of courses on the latest day, against 28 days before (2026-02-02)
        "Active learners (MAU)": ("300", "+50"),
        # last-touch rows of February: (250 + 350) / (100 + 300) = 1.5 against January's 200 / 200;
        # March is still running and is not the tile's month
        "Blended ROAS": ("1.50×", "+0.50×"),
        "CAC payback": ("2.5 months", "-0.5 months"),
    }
    periods = {label: caption.split(" · ")[0] for label, (_, caption) in tile_status(app).items()}
    assert periods["MRR"] == "February 2026" and periods["Active learners (MAU)"] == "2026-03-02"
    assert len(app.get("arrow_vega_lite_chart") or app.get("vega_lite_chart")) == 2
    assert [b.label for b in app.get("download_button")] == ["Download CSV", "Download CSV"]


def test_tiles_show_failed_checks_by_name_and_unknown_where_none_are_published(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = datetime.now(UTC).replace(tzinfo=None)
    status = [
        ("finance.fct_mrr", date(2026, 2, 28), now, 40, 0, 2, 0,
         "finance/fct_mrr:not_null_mrr,silver/invoices:amount_positive", "failed"),
        ("finance.fct_retention", date(2026, 2, 28), now, 30, 1, 0, 0,
         "finance/fct_retention:grr_at_most_1", "warning"),
        ("learning.fct_active_users", date(2026, 3, 2), now - timedelta(hours=40), 12, 0, 0, 2, "", "passed"),
    ]  # fmt: skip
    path = write_warehouse(tmp_path / "w.duckdb", status=status)
    monkeypatch.setenv("LAKEHOUSE_WAREHOUSE_PATH", str(path))

    shown = tile_status(run())

    assert shown["MRR"] == (
        ":red-badge[:material/error: checks failed]",
        "February 2026 · data to 2026-02-28 · "
        "failing: finance/fct_mrr:not_null_mrr, silver/invoices:amount_positive",
    )
    assert shown["ARR"] == shown["MRR"]  # the same mart, the same checks
    assert shown["NRR (1 month)"][0] == ":orange-badge[:material/warning: checks warned]"
    assert "failing: finance/fct_retention:grr_at_most_1" in shown["NRR (1 month)"][1]
    badge, caption = shown["Active learners (MAU)"]
    assert badge.startswith(
        ":green-badge[:material/check_circle: checks passed] :red-badge[:material/schedule: stale"
    )
    assert caption == "2026-03-02 · data to 2026-03-02 · 2 checks not run"
    assert shown["Gross margin"][0] == ":gray-badge[:material/help: check status unknown]"


def test_an_older_warehouse_without_mart_status_still_shows_its_numbers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_warehouse(tmp_path / "w.duckdb")
    with duckdb.connect(str(path)) as con:
        con.execute("drop table meta.mart_status")
    monkeypatch.setenv("LAKEHOUSE_WAREHOUSE_PATH", str(path))

    app = run()

    assert tiles(app)["MRR"] == ("$1,405", "+$1,054")
    assert {badge for badge, _ in tile_status(app).values()} == {
        ":gray-badge[:material/help: check status unknown]"
    }


def test_a_stale_build_is_flagged_on_the_page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_warehouse(tmp_path / "w.duckdb")
    with duckdb.connect(str(path)) as con:
        con.execute("update meta.build_info set built_at = built_at - interval 3 days")
    monkeypatch.setenv("LAKEHOUSE_WAREHOUSE_PATH", str(path))

    app = run("finance")

    assert "older than the freshness limit" in app.warning[0].value
    assert all(":red-badge[:material/schedule: stale" in badge for badge, _ in tile_status(app).values())


@pytest.mark.parametrize("page", PAGES)
def test_every_page_draws_on_a_warehouse_with_few_rows(warehouse: Path, page: str) -> None:
    app = run(page)

    assert not app.error and not app.warning
    assert app.metric and all(badge for badge, _ in tile_status(app).values())
    # every chart offers its data
    assert len(app.get("download_button")) >= len(
        app.get("arrow_vega_lite_chart") or app.get("vega_lite_chart")
    )
    shown = [e.value for kind in ("markdown", "caption", "title", "subheader") for e in getattr(app, kind)]
    shown += [str(m.value) + str(m.label) for m in app.metric]
    shown += [frame.value.to_csv() for frame in app.dataframe]
    assert not [text for text in shown if SECRET_USER in text or "@" in text]


def test_filters_narrow_the_tiles(warehouse: Path) -> None:
    app = run("marketing_roi", channel="email", attribution="linear")

    assert not app.warning
    shown = tiles(app)
    # email under linear: February 750 / 100 = 7.5 against January 600 / 200 = 3.0
    assert shown["ROAS"] == ("7.50×", "+4.50×")
    assert shown["Ad spend"] == ("$100", "-$100")
    # paid conversions have no channel: the tile says so rather than pretending to be narrowed
    assert [c.value for c in app.caption if c.value.startswith("February 2026 · all channels")]

    app.selectbox(key="channel").set_value("All channels").run()
    app.segmented_control(key="attribution").set_value("last_touch").run()
    assert tiles(app)["ROAS"] == ("1.50×", "+0.50×")


@pytest.mark.parametrize("page", PAGES)
def test_a_missing_warehouse_file_says_how_to_build_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, page: str
) -> None:
    monkeypatch.setenv("LAKEHOUSE_WAREHOUSE_PATH", str(tmp_path / "absent.duckdb"))

    app = run(page)

    assert [info.value for info in app.info] == [NOT_BUILT]
    assert not app.metric and not app.error


@pytest.mark.parametrize("page", PAGES)
def test_a_warehouse_without_the_marts_says_how_to_build_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, page: str
) -> None:
    path = tmp_path / "empty.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute(META)
    monkeypatch.setenv("LAKEHOUSE_WAREHOUSE_PATH", str(path))

    app = run(page)

    assert [info.value for info in app.info] == [NOT_BUILT]
    assert app.caption[0].value.startswith("Details: Catalog Error: Table with name")
    assert not app.metric and not app.error


@pytest.mark.parametrize("page", PAGES)
def test_a_file_that_is_not_a_warehouse_gives_a_readable_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, page: str
) -> None:
    path = tmp_path / "warehouse.duckdb"
    path.write_text("not a database\n" * 1000)
    monkeypatch.setenv("LAKEHOUSE_WAREHOUSE_PATH", str(path))

    app = run(page)

    assert "could not be opened" in app.error[0].value
    assert not app.metric


def test_a_newly_published_warehouse_shows_without_restart(warehouse: Path) -> None:
    app = run()
    assert tiles(app)["MRR"][0] == "$1,405"

    # Publish as the platform does: build a new file beside it, then swap it in by rename.
    later = [*MRR, ("c4", "2026-03-01", 2000.0)]
    os.replace(write_warehouse(warehouse.with_name("next.duckdb"), later), warehouse)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("update meta.build_info set as_of_date = '2026-04-01'")
    app.run()

    assert not app.exception
    # March is now over: only c4, 2000, against February's 1404.55
    assert tiles(app)["MRR"] == ("$2,000", "+$595")


HOSTILE = {
    "channel": "email'; drop table marketing.fct_channel_performance; --",
    "campaign": "x" * 10_000,
    "product": "courses' or '1'='1",
    "course": "course_99",
    "llm_model": "gpt-4o; select * from learning.fct_enrollments",
    "attribution": "bogus_touch",
    "dates": ["2026-02-01'; --", "2026-01-01"],
}


@pytest.mark.parametrize("page", PAGES)
def test_hostile_links_are_refused_and_the_page_shows_every_value(warehouse: Path, page: str) -> None:
    plain = tiles(run(page))

    app = run(page, **HOSTILE)

    warnings = [w.value for w in app.warning]
    assert warnings and all("was not used" in w for w in warnings)
    assert all(len(w) < 300 for w in warnings)  # a 10,000-character value is not echoed whole
    assert tiles(app) == plain
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select count(*) from marketing.fct_channel_performance").fetchone() == (8,)


def test_hostile_widget_state_is_reset_with_a_message(warehouse: Path) -> None:
    plain = tiles(run("marketing_roi"))
    # The page script on its own: session state set before its widgets exist, as a crafted session would.
    app = AppTest.from_file(str(APP.parent / "views" / "marketing_roi.py"), default_timeout=120)
    app.session_state["channel"] = ["email"]
    app.session_state["dates"] = "2026-01-01; drop table x"
    app.session_state["attribution"] = "x" * 10_000
    app.run()

    assert not app.exception
    assert sorted(w.value.split(" filter held")[0] for w in app.warning) == [
        "The attribution model",
        "The channel",
        "The date range",
    ]
    assert tiles(app) == plain


def test_a_reversed_date_range_is_refused(warehouse: Path) -> None:
    app = run("overview")
    plain = tiles(app)

    app.date_input(key="dates").set_value((date(2026, 2, 20), date(2026, 1, 5))).run()

    assert [w.value for w in app.warning] == [
        "The date range starts (2026-02-20) after it ends (2026-01-05): showing every day. "
        "Pick the earlier day first."
    ]
    assert tiles(app) == plain


def test_a_date_range_narrows_the_tiles(warehouse: Path) -> None:
    app = run("overview")

    app.date_input(key="dates").set_value((date(2025, 12, 1), date(2026, 1, 31))).run()

    assert not app.warning
    # January is now the latest month: 350.5 against December's 100 (half a dollar rounds up)
    assert tiles(app)["MRR"] == ("$351", "+$251")


LOGIN = {
    "LAKEHOUSE_DASHBOARD_AUTH_CLIENT_ID": "dashboards",
    "LAKEHOUSE_DASHBOARD_AUTH_CLIENT_SECRET": "not-a-real-secret",
    "LAKEHOUSE_DASHBOARD_AUTH_SERVER_METADATA_URL": "https://idp.example.com/.well-known/openid-configuration",
    "LAKEHOUSE_DASHBOARD_AUTH_REDIRECT_URI": "https://dashboards.example.com/oauth2callback",
    "LAKEHOUSE_DASHBOARD_AUTH_COOKIE_SECRET": "x" * 32,
}


def test_with_login_configured_a_visitor_sees_only_the_login(
    warehouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in LOGIN.items():
        monkeypatch.setenv(name, value)
    app = AppTest.from_file(str(APP), default_timeout=120)
    app.user = {"is_logged_in": False}
    app.run()

    assert not app.exception
    assert [b.label for b in app.button] == ["Log in"]
    assert not app.metric and not app.get("download_button")


def test_a_signed_in_viewer_sees_the_pages_and_no_personal_data(
    warehouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in LOGIN.items():
        monkeypatch.setenv(name, value)
    app = AppTest.from_file(str(APP), default_timeout=120)
    app.user = {"is_logged_in": True, "email": "ceo@example.com", "name": "Ada Exec"}
    app.run()

    assert not app.exception
    assert tiles(app)["MRR"] == ("$1,405", "+$1,054")
    assert [b.label for b in app.sidebar.button] == ["Log out"]
    shown = [e.value for kind in ("markdown", "caption", "title") for e in getattr(app, kind)]
    assert not [text for text in shown if "ceo@example.com" in text or "Ada Exec" in text]
