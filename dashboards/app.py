"""Overview page of the AI business: finance, learning and marketing headline numbers.

Run with `streamlit run dashboards/app.py`. The page reads only the published marts (finance.fct_mrr,
learning.fct_active_users, marketing.fct_channel_daily, meta.build_info) and only sums or picks rows of
them; every metric formula lives in the dbt project, not here.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from dashboards import formatting as fmt
from dashboards.warehouse import NOT_BUILT_MESSAGE, WarehouseNotBuilt, WarehouseUnreadable, read
from lakehouse.settings import SettingsError

PLATFORM_WIDE = "all"

MONTHLY_MRR_SQL = """
select month, sum(mrr) as mrr, sum(arr) as arr,
       count(distinct customer_id) filter (where mrr > 0) as paying_customers
from finance.fct_mrr
group by month
order by month
"""

LATEST_ACTIVE_USERS_SQL = """
select activity_date, dau, wau, mau, stickiness
from learning.fct_active_users
where product = ?
order by activity_date desc
limit 1
"""

DAU_BY_PRODUCT_SQL = """
select activity_date, product, dau
from learning.fct_active_users
where product <> ?
order by activity_date, product
"""

CHANNELS_SQL = """
select channel, sum(spend_usd) as spend_usd, sum(touchpoints) as touchpoints,
       min(activity_date) as first_day, max(activity_date) as last_day
from marketing.fct_channel_daily
group by channel
order by spend_usd desc nulls last, channel
"""

BUILD_INFO_SQL = """
select built_at, as_of_date, lake_versions
from meta.build_info
order by built_at desc
limit 1
"""


@dataclass(frozen=True)
class Overview:
    monthly_mrr: pd.DataFrame
    latest_active_users: pd.DataFrame
    dau_by_product: pd.DataFrame
    channels: pd.DataFrame
    build_info: pd.DataFrame


def load_overview() -> Overview:
    # Everything is read before anything is drawn, so a missing table shows one message, not half a page.
    return Overview(
        monthly_mrr=read(MONTHLY_MRR_SQL),
        latest_active_users=read(LATEST_ACTIVE_USERS_SQL, (PLATFORM_WIDE,)),
        dau_by_product=read(DAU_BY_PRODUCT_SQL, (PLATFORM_WIDE,)),
        channels=read(CHANNELS_SQL),
        build_info=read(BUILD_INFO_SQL),
    )


def value(row: pd.Series | None, column: str) -> object | None:
    """One cell as a plain value; SQL NULL (NaN, NA, NaT) and an absent row both become None."""
    if row is None:
        return None
    cell = row[column]
    return None if pd.isna(cell) else cell


def difference(current: object | None, previous: object | None) -> float | None:
    if current is None or previous is None:
        return None
    return float(current) - float(previous)


def latest_and_previous_month(monthly: pd.DataFrame) -> tuple[pd.Series | None, pd.Series | None]:
    """The latest month's row and the calendar month before it; None where that month has no rows.

    The previous row is not used blindly: after a gap it would be an older month and the delta a lie.
    """
    if monthly.empty:
        return None, None
    latest = monthly.iloc[-1]
    wanted = pd.Timestamp(latest["month"]) - pd.DateOffset(months=1)
    earlier = monthly[pd.to_datetime(monthly["month"]) == wanted]
    return latest, (earlier.iloc[0] if not earlier.empty else None)


def first_row(frame: pd.DataFrame) -> pd.Series | None:
    return None if frame.empty else frame.iloc[0]


def build_caption(build_info: pd.DataFrame) -> str:
    row = first_row(build_info)
    if row is None:
        return "meta.build_info has no row: the numbers below have no known as-of date."
    return (
        f"Data as of {fmt.day(value(row, 'as_of_date'))}, "
        f"built {fmt.timestamp_utc(value(row, 'built_at'))} "
        f"from lake versions {fmt.lake_versions(value(row, 'lake_versions'))}."
    )


def show_finance(monthly: pd.DataFrame) -> None:
    latest, previous = latest_and_previous_month(monthly)
    st.subheader(f"Finance — {fmt.month(value(latest, 'month'))}")
    mrr, arr, paying = st.columns(3)
    for column, label, name, shown in (
        (mrr, "MRR", "mrr", fmt.money),
        (arr, "ARR", "arr", fmt.money),
        (paying, "Paying customers", "paying_customers", fmt.count),
    ):
        delta = difference(value(latest, name), value(previous, name))
        column.metric(
            label,
            shown(value(latest, name)),
            delta=None if delta is None else shown(delta, signed=True),
            help="Change against the previous calendar month.",
        )
    if not monthly.empty:
        # A month label, not a date: a time axis would put day ticks between the monthly points.
        trend = monthly.assign(month=pd.to_datetime(monthly["month"]).dt.strftime("%Y-%m"))
        st.line_chart(trend, x="month", y="mrr", x_label="Month", y_label="MRR (USD)")


def show_learning(latest_active_users: pd.DataFrame, dau_by_product: pd.DataFrame) -> None:
    latest = first_row(latest_active_users)
    st.subheader(f"Active users — {fmt.day(value(latest, 'activity_date'))}, all products")
    dau, wau, mau, stickiness = st.columns(4)
    dau.metric("DAU", fmt.count(value(latest, "dau")))
    wau.metric("WAU", fmt.count(value(latest, "wau")), help="Distinct active users, trailing 7 days.")
    mau.metric("MAU", fmt.count(value(latest, "mau")), help="Distinct active users, trailing 28 days.")
    stickiness.metric("Stickiness", fmt.percent(value(latest, "stickiness")), help="DAU / MAU.")
    if not dau_by_product.empty:
        st.line_chart(
            dau_by_product, x="activity_date", y="dau", color="product", x_label="Day", y_label="DAU"
        )


def total(column: pd.Series) -> object | None:
    """Sum of a column; None when it holds no value at all (no spend rows is unknown spend, not $0)."""
    result = column.sum(min_count=1)
    return None if pd.isna(result) else result


def smallest(column: pd.Series) -> object | None:
    result = column.min()
    return None if pd.isna(result) else result


def largest(column: pd.Series) -> object | None:
    result = column.max()
    return None if pd.isna(result) else result


def show_marketing(channels: pd.DataFrame) -> None:
    period = f"{fmt.day(smallest(channels['first_day']))} to {fmt.day(largest(channels['last_day']))}"
    st.subheader(f"Marketing — {period}, all channels")
    spend, touchpoints = st.columns(2)
    spend.metric("Ad spend", fmt.money(total(channels["spend_usd"])))
    touchpoints.metric("Touchpoints", fmt.count(total(channels["touchpoints"])))
    if channels.empty:
        return
    # Dollars and counts get a chart each: on one shared axis the smaller scale would be flattened.
    spend_chart, touchpoints_chart = st.columns(2)
    # Horizontal, largest first: channel names stay readable and the ranking is the point.
    spend_chart.bar_chart(
        channels,
        x="channel",
        y="spend_usd",
        x_label="Channel",
        y_label="Ad spend (USD)",
        horizontal=True,
        sort="-spend_usd",
    )
    touchpoints_chart.bar_chart(
        channels,
        x="channel",
        y="touchpoints",
        x_label="Channel",
        y_label="Touchpoints",
        horizontal=True,
        sort="-touchpoints",
    )


def main() -> None:
    st.set_page_config(page_title="AI business — Overview", layout="wide")
    st.title("AI business — Overview")
    try:
        overview = load_overview()
    except WarehouseNotBuilt as missing:
        st.info(NOT_BUILT_MESSAGE)
        st.caption(f"Details: {missing.detail.rstrip('.!')}.")
        return
    except (WarehouseUnreadable, SettingsError) as error:
        st.error(str(error))
        return
    st.caption(build_caption(overview.build_info))
    show_finance(overview.monthly_mrr)
    show_learning(overview.latest_active_users, overview.dau_by_product)
    show_marketing(overview.channels)


main()
