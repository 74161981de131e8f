"""The queries of a page, written by the metric catalogue: no metric formula lives in the dashboards.

A page plans its queries as `Planned` entries (a name, the catalogue's SQL with its bound parameters, and
the time grain it asked for); the same plan feeds the page and the benchmark (`dashboards.registry`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from dashboards.filters import Selection
from lakehouse.metrics_catalog import Catalog, MetricQuery


@dataclass(frozen=True)
class Planned:
    name: str
    query: MetricQuery
    grain: str | None  # the time grain of its `period` column; None for a mart without a time axis


def ask(
    catalog: Catalog,
    name: str,
    metrics: str | Sequence[str],
    selection: Selection,
    *,
    grain: str | None = None,
    group_by: Sequence[str] = (),
    ignore: Iterable[str] = (),
    filters: dict[str, object] | None = None,
) -> Planned:
    """A catalogue query over the selection's days and the selection's values of the mart's dimensions.

    `ignore` names dimensions the selection must not narrow here (a chart that compares every value);
    `filters` adds fixed values (a product whose rows a tile reads).
    """
    first = catalog.metric(metrics if isinstance(metrics, str) else metrics[0])
    model = catalog.semantic_models[first.semantic_model]
    chosen = {
        dim: value for dim, value in selection.applied(tuple(model.dimensions)).items() if dim not in ignore
    }
    chosen |= filters or {}
    query = catalog.query(metrics, selection.start, selection.end, grain, group_by, chosen)
    return Planned(name, query, None if model.snapshot else (grain or model.time_granularity))


def values(catalog: Catalog, name: str, metric: str, dimension: str) -> Planned:
    """The values a filter may take: those the metric's mart holds (its total rows left out)."""
    return Planned(name, catalog.values_query(metric, dimension), None)


def span(catalog: Catalog, name: str, metric: str) -> Planned:
    """The periods a metric has data for, over its whole history: the bounds of a page's date range."""
    return ask(catalog, name, metric, Selection())


def bounds(frames: Iterable[tuple[pd.DataFrame, str | None]]) -> tuple[date, date] | None:
    """First and last day covered by span results (a month's period covers to its last day)."""
    firsts, lasts = [], []
    for frame, grain in frames:
        periods = pd.to_datetime(frame["period"]).dropna() if "period" in frame else pd.Series()
        if periods.empty:
            continue
        firsts.append(periods.min().date())
        lasts.append(period_end(periods.max().date(), grain))
    if not firsts:
        return None
    return min(firsts), max(lasts)


def period_end(start: date, grain: str | None) -> date:
    """The last day of the period starting on `start`."""
    if grain == "month":
        following = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
        return following - timedelta(days=1)
    if grain == "week":
        return start + timedelta(days=6)
    return start
