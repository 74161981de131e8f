"""The chart builders: valid Vega-Lite over the rows they are given, axes formatted by the catalogue."""

from __future__ import annotations

import pandas as pd
import pytest

from dashboards import charts
from lakehouse.metrics_catalog import load_catalog


@pytest.fixture(scope="module")
def metric():
    return load_catalog().metric


@pytest.mark.parametrize(
    ("name", "values", "shown"),
    [
        ("cost_per_generation", [0.0061, 0.0042], "$,.4~f"),  # whole dollars would label every tick "$0"
        ("cpa", [28.46, 84.59], "$,.2f"),
        ("mrr", [7848.39, None], "$,.0f"),
        ("gross_margin", [0.935], ".1~%"),
        ("generations", [556], ",.0f"),
    ],
)
def test_axes_show_values_as_their_metric_reads(metric, name: str, values: list, shown: str) -> None:
    assert charts.number_format([metric(name)], pd.Series(values, dtype="float64")) == shown


def test_every_builder_gives_valid_vega_lite(metric) -> None:
    months = pd.DataFrame(
        {"period": ["2025-12", "2026-01"], "mrr": [5932.2, 7848.4], "arr": [71186.6, 94180.7]}
    )
    by_channel = pd.DataFrame(
        {
            "channel": ["email", "paid_search"],
            "spend": [0.0, 261.0],
            "attributed_conversion_value": [112.0, 591.0],
        }
    )
    by_model = pd.DataFrame(
        {"channel": ["email", "email"], "attribution_model": ["linear", "last_touch"], "roas": [1.5, None]}
    )
    cogs = pd.DataFrame({"product": ["courses"], "llm_inference_cost": [0.0], "payment_fees": [40.5]})
    cohorts = pd.DataFrame({"period": ["2026-01-05"], "week_number": [0], "cohort_retention": [1.0]})
    steps = pd.DataFrame(
        [("Dec 2025", 100.0, 0.0, 100.0, "total"), ("New", 20.0, 100.0, 120.0, "gain"),
         ("Jan 2026", 120.0, 0.0, 120.0, "total")],
        columns=["step", "amount_usd", "start", "end", "kind"],
    )  # fmt: skip
    built = [
        charts.over_time(months, "period", "month", [metric("mrr"), metric("arr")]),
        charts.by_group_over_time(by_model, "channel", "day", metric("roas"), "attribution_model"),
        charts.compared_by(by_channel, "channel", [metric("spend"), metric("attributed_conversion_value")]),
        charts.grouped_bars(by_model, "channel", metric("roas"), "attribution_model"),
        charts.stacked_parts(
            cogs, "product", [metric("llm_inference_cost"), metric("payment_fees")], title="USD"
        ),
        charts.heat_map(
            cohorts, "week_number", "period", metric("cohort_retention"), x_title="k", y_title="w"
        ),
        charts.waterfall(steps, title="MRR"),
    ]
    for chart in built:
        spec = chart.to_dict()  # validates against the Vega-Lite schema
        assert spec["mark"] in ("bar", "rect", "line") or spec["mark"]["type"] in ("bar", "rect", "line")
    # The metrics are labelled as the catalogue names them, in the catalogue's order.
    legend_order = built[2].to_dict()["encoding"]["color"]["sort"]
    assert legend_order == ["Ad spend", "Attributed conversion value"]
