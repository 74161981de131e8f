"""The pieces every page is made of: filters, metric tiles, charts with their data, and the page frame.

Pages read the warehouse only through `read_all` (catalogue queries, bound parameters) and draw only
through these functions, so every tile carries its as-of day and check status and every chart its CSV.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime

import altair as alt
import pandas as pd
import streamlit as st

from dashboards import formatting as fmt
from dashboards.filters import Refused, Selection, choose, choose_range, shown
from dashboards.queries import Planned, bounds
from dashboards.status import (
    BUILD_INFO_SQL,
    DEFAULT_STALE_HOURS,
    MART_STATUS_SQL,
    Freshness,
    MartStatus,
    freshness,
)
from dashboards.tiles import Reading, grows_with_days, reading, shown_period
from dashboards.warehouse import NOT_BUILT_MESSAGE, WarehouseNotBuilt, WarehouseUnreadable, read
from lakehouse.metrics_catalog import Catalog, CatalogError, Metric, MetricQueryError, load_catalog
from lakehouse.settings import SettingsError, load_settings

# A smaller value is the better one: the change is coloured green when it falls.
LOWER_IS_BETTER = frozenset(
    {
        "cpa",
        "channel_cac",
        "cac",
        "cac_payback_months",
        "logo_churn_rate",
        "revenue_churn_rate",
        "churned_mrr",
        "contraction_mrr",
        "cogs",
        "generation_latency_p50",
        "generation_latency_p95",
        "cost_per_generation",
        "cost_per_active_customer",
        "lesson_drop_rate",
        "time_to_complete_p50",
        "time_to_complete_p75",
    }
)

MART_STATUS_EXISTS_SQL = """
select count(*) as tables
from duckdb_tables()
where schema_name = 'meta' and table_name = 'mart_status'
"""


@contextmanager
def page_guard() -> Iterator[None]:
    """Turn a warehouse that is not built, unreadable or misconfigured into a message, not a trace."""
    try:
        yield
    except WarehouseNotBuilt as missing:
        st.info(NOT_BUILT_MESSAGE)
        st.caption(f"Details: {missing.detail.rstrip('.!')}.")
    except (WarehouseUnreadable, SettingsError, CatalogError) as error:
        st.error(str(error))
    except MetricQueryError as error:
        st.error(f"The metric catalogue refused this view: {error}")


def run_page(
    title: str,
    setup: Callable[[Catalog], list[Planned]],
    filters: Callable[[Catalog, dict[str, pd.DataFrame], list[Planned], Notices], Selection],
    plan: Callable[[Catalog, Selection], list[Planned]],
    draw: Callable[[Page], None],
) -> None:
    """Read the filters' values, draw the filters, read the page's numbers, then draw the page."""
    st.title(title)
    with page_guard():
        catalog = load_catalog()
        fresh = load_freshness()
        setup_plan = setup(catalog)
        found = read_all(setup_plan)
        notices = Notices([], fresh.as_of)
        selection = filters(catalog, found, setup_plan, notices)
        planned = plan(catalog, selection)
        data = read_all(planned)
        notices.show()
        build_caption(fresh)
        draw(Page(catalog, selection, planned, data, fresh))


@dataclass(frozen=True)
class Page:
    """What a page draws from: its filters, its planned queries and their rows, the marts' status."""

    catalog: Catalog
    selection: Selection
    plan: list[Planned]
    data: dict[str, pd.DataFrame]
    fresh: Freshness

    def grain(self, name: str) -> str | None:
        return next(planned.grain for planned in self.plan if planned.name == name)

    def metric(self, name: str) -> Metric:
        return self.catalog.metric(name)

    def tiles(self, specs: Sequence[Tile], *, per_row: int = 4) -> None:
        tiles(specs, self, per_row=per_row)

    def latest(self, name: str) -> tuple[pd.DataFrame, date | None]:
        """The rows of a grouped result's latest period that is over (as the tiles choose theirs)."""
        frame = self.data[name]
        if frame.empty:
            return frame, None
        days = pd.to_datetime(frame["period"]).dt.date
        period = shown_period(sorted(set(days)), self.grain(name), self.fresh.as_of)
        return frame[days == period], period


def read_all(plan: Sequence[Planned]) -> dict[str, pd.DataFrame]:
    """Every planned query's rows, by name; all read before anything is drawn."""
    return {planned.name: read(planned.query.sql, planned.query.params) for planned in plan}


def status_plan() -> list[tuple[str, str]]:
    """The meta queries every page runs (no parameters)."""
    return [
        ("build_info", BUILD_INFO_SQL),
        ("mart_status_exists", MART_STATUS_EXISTS_SQL),
        ("mart_status", MART_STATUS_SQL),
    ]


def load_freshness() -> Freshness:
    build_info = read(BUILD_INFO_SQL)
    exists = int(read(MART_STATUS_EXISTS_SQL).iloc[0]["tables"]) > 0
    mart_status = read(MART_STATUS_SQL) if exists else None
    stale_hours = getattr(load_settings(), "dashboard_stale_hours", DEFAULT_STALE_HOURS)
    now = datetime.now(UTC).replace(tzinfo=None)  # the warehouse stores UTC timestamps without a zone
    return freshness(build_info, mart_status, now, stale_hours)


def build_caption(fresh: Freshness) -> None:
    if fresh.built_at is None:
        st.caption("meta.build_info has no row: the numbers below have no known as-of date.")
        return
    words = f"Data as of {fmt.day(fresh.as_of)}, published {fmt.timestamp_utc(fresh.built_at)}."
    if fresh.stale:
        st.warning(f"{words} This build is older than the freshness limit: the numbers may be out of date.")
    else:
        st.caption(words)


# Filters ---------------------------------------------------------------------------------------------


@dataclass
class Notices:
    """Messages about refused filter values, shown at the top of the page; `as_of` is the data's day."""

    items: list[str]
    as_of: date | None = None

    def show(self) -> None:
        for item in self.items:
            st.warning(item)


def date_range(
    notices: Notices, first: date, last: date, *, key: str = "dates"
) -> tuple[date | None, date | None]:
    """The days to show, within [first, last]; (None, None) when every day is chosen."""
    linked = st.query_params.get_all(key)
    if linked and key not in st.session_state:
        try:
            choose_range(linked, first, last)
        except Refused as refused:
            notices.items.append(f"The link's date range was not used. {refused}")
    _reset_unless(notices, key, "date range", _are_days)
    picked = st.sidebar.date_input(
        "Date range",
        value=(first, last),
        min_value=first,
        max_value=last,
        key=key,
        bind="query-params",
        help=f"The data covers {fmt.day(first)} to {fmt.day(last)}.",
    )
    try:
        start, end = choose_range(picked if isinstance(picked, tuple | list) else (picked,), first, last)
    except Refused as refused:
        notices.items.append(str(refused))
        return None, None
    if (start, end) == (first, last):
        return None, None
    return start, end


def pick(
    notices: Notices,
    label: str,
    known: Sequence[str],
    *,
    key: str,
    every: str,
    default: str | None = None,
) -> str | None:
    """One value of a dimension, from those the warehouse holds; None, shown as `every`, for all of them."""
    known = list(known)
    # `every` is an option of its own (not None) so that the widget, the URL and a test send it alike.
    options = [every, *known]
    fallback = default if default in known else None
    _linked_unknown(notices, key, label, options)
    _reset_unless(notices, key, label, lambda value: value in options)
    chosen = st.sidebar.selectbox(
        label, options, index=options.index(fallback or every), key=key, bind="query-params"
    )
    try:
        return choose(None if chosen == every else chosen, known, label.lower())
    except Refused as refused:
        notices.items.append(str(refused))
        return fallback


def switch(notices: Notices, label: str, known: Sequence[str], *, key: str, default: str) -> str:
    """A segmented switch between the known values (attribution models); one is always chosen."""
    known = list(known)
    if not known:
        st.caption(f"{label}: the warehouse holds none yet.")
        return default
    fallback = default if default in known else known[0]
    _linked_unknown(notices, key, label, known)
    _reset_unless(notices, key, label, lambda value: value in known)
    chosen = st.segmented_control(
        label,
        known,
        default=fallback,
        required=True,
        format_func=lambda value: value.replace("_", " "),
        key=key,
        bind="query-params",
    )
    try:
        return choose(chosen, known, label.lower()) or fallback
    except Refused as refused:
        notices.items.append(str(refused))
        return fallback


def _linked_unknown(notices: Notices, key: str, label: str, allowed: Sequence[str]) -> None:
    # Streamlit drops a bound URL value that is not an option; the viewer is told rather than left guessing.
    linked = st.query_params.get(key)
    if linked is not None and key not in st.session_state and linked not in allowed:
        notices.items.append(
            f"The link's {label.lower()} {shown(linked)} was not used: it is not one of this page's values."
        )


def _reset_unless(notices: Notices, key: str, label: str, valid: Callable[[object], bool]) -> None:
    """Drop a widget's kept value that is not one it can hold, before the widget reads it."""
    if key in st.session_state:
        value = st.session_state[key]
        try:
            keep = valid(value)
        except TypeError:  # an unhashable value is no option either
            keep = False
        if not keep:
            del st.session_state[key]
            notices.items.append(
                f"The {label.lower()} filter held {shown(value)}, not one of its values: reset."
            )


def _are_days(value: object) -> bool:
    return (
        isinstance(value, tuple | list)
        and 1 <= len(value) <= 2
        and all(isinstance(day, date) for day in value)
    )


def known(frame: pd.DataFrame, column: str) -> list[str]:
    return [str(value) for value in frame[column].dropna()]


def dates(
    notices: Notices, found: dict[str, pd.DataFrame], setup: Sequence[Planned]
) -> tuple[date | None, date | None]:
    """The date range filter, bounded by the days the page's `span_` queries found data for."""
    covered = bounds(
        (found[planned.name], planned.grain) for planned in setup if planned.name.startswith("span_")
    )
    if covered is None:
        st.sidebar.caption("Date range: no dated data yet.")
        return None, None
    first, last = covered
    # A month's period reaches its last day; the data does not reach past the build's data day.
    if notices.as_of is not None and first <= notices.as_of < last:
        last = notices.as_of
    return date_range(notices, first, last)


# Tiles -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tile:
    metric: str
    result: str  # the name of the planned query holding the metric's series
    label: str | None = None
    note: str | None = None  # shown under the value, e.g. that a cohort is still open


def tiles(specs: Sequence[Tile], page: Page, *, per_row: int = 4) -> None:
    for row_start in range(0, len(specs), per_row):
        columns = st.columns(per_row)
        for column, spec in zip(columns, specs[row_start : row_start + per_row], strict=False):
            metric = page.metric(spec.metric)
            status = page.fresh.of(metric.relation)
            grain = page.grain(spec.result)
            # Whether a period is over is judged on the build's data day, the same for every tile.
            shown_reading = reading(
                page.data[spec.result],
                metric.name,
                grain,
                page.fresh.as_of,
                grows=grows_with_days(page.catalog, metric),
            )
            with column:
                tile(metric, shown_reading, grain, status, label=spec.label, note=spec.note)


def tile(
    metric: Metric,
    shown: Reading,
    grain: str | None,
    status: MartStatus,
    *,
    label: str | None = None,
    note: str | None = None,
) -> None:
    """One metric: value, change, trend, the period it covers, as-of day and the status of its checks."""
    change = fmt.metric_change(shown.value, shown.previous, metric.format)
    with st.container(border=True):
        st.metric(
            label or metric.label,
            fmt.metric_value(shown.value, metric.format),
            delta=change,
            delta_color="inverse" if metric.name in LOWER_IS_BETTER else "normal",
            delta_description=shown.comparison_words(grain) or None,
            chart_data=list(shown.trend) if len(shown.trend) > 1 else None,
            help=metric.description,
        )
        st.markdown(status.badges())
        st.caption(" · ".join(part for part in (shown.period_words(grain), note, status.caption()) if part))


# Charts ----------------------------------------------------------------------------------------------


def chart(title: str, frame: pd.DataFrame, spec: alt.Chart, *, key: str, note: str | None = None) -> None:
    """A chart and, under it, a CSV of exactly the rows and columns it draws."""
    st.markdown(f"**{title}**")
    if note:
        st.caption(note)
    if frame.empty:
        st.caption("No data for the chosen filters.")
        return
    st.altair_chart(spec, width="stretch")
    st.download_button(
        "Download CSV",
        frame.to_csv(index=False).encode("utf-8"),
        file_name=f"{key}.csv",
        mime="text/csv",
        key=f"csv_{key}",
        icon=":material/download:",
        on_click="ignore",
    )


def month_label(frame: pd.DataFrame, column: str = "period") -> pd.DataFrame:
    """Periods as 'YYYY-MM' text: a time axis would put day ticks between monthly points."""
    return frame.assign(**{column: pd.to_datetime(frame[column]).dt.strftime("%Y-%m")})


def day_column(frame: pd.DataFrame, column: str = "period") -> pd.DataFrame:
    return frame.assign(**{column: pd.to_datetime(frame[column]).dt.date})
