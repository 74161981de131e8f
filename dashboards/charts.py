"""Altair charts of catalogue query results: pure builders, no Streamlit, no arithmetic on metrics.

Every builder draws the frame it is given as it is (the page offers that same frame as the CSV), labels
the metrics with the catalogue's labels and formats their axis with the catalogue's format.
"""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import pandas as pd

from lakehouse.metrics_catalog import Metric

AXIS_FORMATS = {
    "percent": ".1~%",
    "count": ",.0f",
    "number": ",.1~f",
    "ratio": ",.2~f",
    "days": ",.1~f",
    "months": ",.1~f",
    "seconds": ",.0f",
    "ms": ",.0f",
}
HEIGHT = 300
# Horizontal bars: one band this tall per bar, so names stay readable however many there are.
BAR = 22
MEASURE = "Measure"
VALUE = "Value"


def _legend() -> alt.Legend:
    # Above the plot, in two columns: a legend wider than a half-page chart would shrink the whole chart.
    return alt.Legend(orient="top", title=None, labelLimit=220, columns=2)


def _bars_height(bars: int, *, legend: bool) -> int:
    # Streamlit fits axes and legend into the chart's height: leave them their room beside the bars.
    return max(160, bars * BAR + 70 + (60 if legend else 0))


def time_axis(grain: str | None) -> tuple[str, str]:
    """The x encoding type of a period column and its title: months as ordered text, days as dates."""
    if grain == "month":
        return "ordinal", "Month"
    if grain == "week":
        return "temporal", "Week"
    return "temporal", "Day"


def _x_time(x: str, grain: str | None) -> alt.X:
    x_type, x_title = time_axis(grain)
    # Days and weeks read as "Jan 05"; Vega's own choice mixes weekdays, months and years.
    labels = {"format": "%b %d"} if x_type == "temporal" else {}
    return alt.X(x, type=x_type, title=x_title, axis=alt.Axis(labelAngle=0, labelOverlap=True, **labels))


def _long(frame: pd.DataFrame, keys: Sequence[str], metrics: Sequence[Metric]) -> pd.DataFrame:
    """One row per key and metric, labelled; `order` keeps the metrics' order for stacking."""
    labels = {metric.name: metric.label for metric in metrics}
    melted = frame.melt(id_vars=list(keys), value_vars=list(labels), var_name=MEASURE, value_name=VALUE)
    order = {name: position for position, name in enumerate(labels)}
    return melted.assign(order=melted[MEASURE].map(order), **{MEASURE: melted[MEASURE].map(labels)})


def _order(metrics: Sequence[Metric]) -> list[str]:
    # Colours and bars follow the metrics' order (the funnel's steps), not the alphabet.
    return [metric.label for metric in metrics]


def number_format(metrics: Sequence[Metric], values: pd.Series) -> str:
    """The d3 format of the metrics' values on an axis and in tooltips.

    Dollars get the cents their size needs: whole dollars for revenue, four places for a cost per
    generation (in whole dollars every tick would read "$0").
    """
    formats = {metric.format for metric in metrics}
    if len(formats) > 1:
        return ",.2~f"
    if formats == {"currency_usd"}:
        size = pd.to_numeric(values, errors="coerce").abs().max()
        if pd.isna(size) or size >= 100:
            return "$,.0f"
        return "$,.2f" if size >= 1 else "$,.4~f"
    return AXIS_FORMATS[metrics[0].format]


def over_time(
    frame: pd.DataFrame,
    x: str,
    grain: str | None,
    metrics: Sequence[Metric],
    *,
    kind: str = "line",
    y_title: str | None = None,
) -> alt.Chart:
    """One line (or side-by-side bars) per metric over the periods."""
    x_type, x_title = time_axis(grain)
    data = _long(frame, [x], metrics)
    shown = number_format(metrics, data[VALUE])
    base = alt.Chart(data, height=HEIGHT)
    mark = base.mark_line(point=True) if kind == "line" else base.mark_bar()
    encoding = {
        "x": _x_time(x, grain),
        "y": alt.Y(
            VALUE, type="quantitative", title=y_title or metrics[0].label, axis=alt.Axis(format=shown)
        ),
        "color": alt.Color(
            MEASURE, type="nominal", sort=_order(metrics), legend=_legend() if len(metrics) > 1 else None
        ),
        "tooltip": [
            alt.Tooltip(x, type=x_type, title=x_title),
            alt.Tooltip(MEASURE, type="nominal"),
            alt.Tooltip(VALUE, type="quantitative", format=shown),
        ],
    }
    if kind != "line":
        encoding["xOffset"] = alt.XOffset(MEASURE, type="nominal", sort=_order(metrics))
    return mark.encode(**encoding)


def by_group_over_time(
    frame: pd.DataFrame, x: str, grain: str | None, metric: Metric, group: str, *, kind: str = "line"
) -> alt.Chart:
    """One metric over the periods, one line (or stacked bar part) per value of a dimension."""
    shown = number_format([metric], frame[metric.name])
    x_type, x_title = time_axis(grain)
    base = alt.Chart(frame, height=HEIGHT)
    mark = base.mark_line(point=True) if kind == "line" else base.mark_bar()
    return mark.encode(
        x=_x_time(x, grain),
        y=alt.Y(
            metric.name,
            type="quantitative",
            title=metric.label,
            axis=alt.Axis(format=shown),
        ),
        color=alt.Color(group, type="nominal", legend=_legend()),
        tooltip=[
            alt.Tooltip(x, type=x_type, title=x_title),
            alt.Tooltip(group, type="nominal"),
            alt.Tooltip(metric.name, type="quantitative", title=metric.label, format=shown),
        ],
    )


def _value_x(field: str, metric: Metric, shown: str, title: str | None = None) -> alt.X:
    return alt.X(field, type="quantitative", title=title or metric.label, axis=alt.Axis(format=shown))


def compared_by(
    frame: pd.DataFrame, category: str, metrics: Sequence[Metric], *, title: str | None = None
) -> alt.Chart:
    """Bars of a few metrics of one format side by side for each dimension value, in the frame's order."""
    data = _long(frame, [category], metrics)
    shown = number_format(metrics, data[VALUE])
    return (
        alt.Chart(data, height=_bars_height(len(data), legend=len(metrics) > 1))
        .mark_bar()
        .encode(
            y=alt.Y(category, type="nominal", title=None, sort=None),
            yOffset=alt.YOffset(MEASURE, type="nominal", sort=_order(metrics)),
            x=_value_x(VALUE, metrics[0], shown, title),
            color=alt.Color(
                MEASURE, type="nominal", sort=_order(metrics), legend=_legend() if len(metrics) > 1 else None
            ),
            tooltip=[
                alt.Tooltip(category, type="nominal"),
                alt.Tooltip(MEASURE, type="nominal"),
                alt.Tooltip(VALUE, type="quantitative", format=shown),
            ],
        )
    )


def grouped_bars(frame: pd.DataFrame, category: str, metric: Metric, group: str) -> alt.Chart:
    """One metric for each value of `category`, one bar per value of `group` side by side."""
    shown = number_format([metric], frame[metric.name])
    return (
        alt.Chart(frame, height=_bars_height(len(frame), legend=True))
        .mark_bar()
        .encode(
            y=alt.Y(category, type="nominal", title=None, sort=None),
            yOffset=alt.YOffset(group, type="nominal"),
            x=_value_x(metric.name, metric, shown),
            color=alt.Color(group, type="nominal", legend=_legend()),
            tooltip=[
                alt.Tooltip(category, type="nominal"),
                alt.Tooltip(group, type="nominal"),
                alt.Tooltip(metric.name, type="quantitative", title=metric.label, format=shown),
            ],
        )
    )


def stacked_parts(frame: pd.DataFrame, category: str, parts: Sequence[Metric], *, title: str) -> alt.Chart:
    """The parts of a total (COGS by kind) stacked for each value of a dimension."""
    data = _long(frame, [category], parts)
    shown = number_format(parts, data[VALUE])
    return (
        alt.Chart(data, height=_bars_height(2 * frame[category].nunique(), legend=True))
        .mark_bar()
        .encode(
            y=alt.Y(category, type="nominal", title=None),
            x=alt.X(
                VALUE,
                type="quantitative",
                title=title,
                stack="zero",
                axis=alt.Axis(format=shown),
            ),
            color=alt.Color(MEASURE, type="nominal", sort=_order(parts), legend=_legend()),
            order=alt.Order("order", type="quantitative"),
            tooltip=[
                alt.Tooltip(category, type="nominal"),
                alt.Tooltip(MEASURE, type="nominal"),
                alt.Tooltip(VALUE, type="quantitative", format=shown),
            ],
        )
    )


def heat_map(frame: pd.DataFrame, x: str, y: str, metric: Metric, *, x_title: str, y_title: str) -> alt.Chart:
    """A metric per cell of two dimensions (cohort × week), darker for larger values."""
    shown = number_format([metric], frame[metric.name])
    return (
        alt.Chart(frame, height=alt.Step(18))
        .mark_rect()
        .encode(
            x=alt.X(x, type="ordinal", title=x_title),
            y=alt.Y(y, type="ordinal", title=y_title, sort="descending"),
            color=alt.Color(
                metric.name,
                type="quantitative",
                title=metric.label,
                legend=alt.Legend(format=shown),
                scale=alt.Scale(scheme="blues"),
            ),
            tooltip=[
                alt.Tooltip(y, type="ordinal", title=y_title),
                alt.Tooltip(x, type="ordinal", title=x_title),
                alt.Tooltip(metric.name, type="quantitative", title=metric.label, format=shown),
            ],
        )
    )


def waterfall(steps: pd.DataFrame, *, title: str) -> alt.Chart:
    """Bars from `start` to `end` for each `step` in order; `kind` colours totals, gains and losses.

    `steps` holds the step's own amounts and where its bar starts and ends on the axis: the page lines
    the catalogue's movements up one after another, it does not compute a metric.
    """
    colours = alt.Scale(domain=["total", "gain", "loss"], range=["#4c78a8", "#54a24b", "#e45756"])
    return (
        alt.Chart(steps, height=HEIGHT)
        .mark_bar()
        .encode(
            x=alt.X(
                "step", type="nominal", title=None, sort=list(steps["step"]), axis=alt.Axis(labelAngle=0)
            ),
            y=alt.Y("start", type="quantitative", title=title, axis=alt.Axis(format="$,.0f")),
            y2=alt.Y2("end"),
            color=alt.Color("kind", type="nominal", scale=colours, legend=None),
            tooltip=[
                alt.Tooltip("step", type="nominal"),
                alt.Tooltip("amount_usd", type="quantitative", title="Amount (USD)", format="$,.2f"),
            ],
        )
    )
