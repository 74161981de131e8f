"""The metric catalogue: dbt's semantic layer as lakehouse.metrics_catalog reads it, and the SQL it writes.

The catalogue comes from dbt_project/target/semantic_manifest.json (`make install` parses the project).
The SQL runs here on tiny in-memory copies of the marts, made from the columns the dbt manifest declares,
holding rows whose expected figures are worked out by hand in each test.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import duckdb
import pytest

from lakehouse.metrics_catalog import (
    METRICS_DOC,
    PAGES,
    SEMANTIC_MANIFEST,
    Catalog,
    CatalogError,
    MetricQueryError,
    catalogue_table,
    load_catalog,
)

MANIFEST = SEMANTIC_MANIFEST.with_name("manifest.json")

# Every metric METRICS.md defines that a mart provides, by the name the catalogue gives it.
METRICS_MD = {
    "MRR": "mrr",
    "ARR": "arr",
    "list MRR": "list_mrr",
    "new MRR": "new_mrr",
    "reactivation MRR": "reactivation_mrr",
    "expansion MRR": "expansion_mrr",
    "contraction MRR": "contraction_mrr",
    "churned MRR": "churned_mrr",
    "NRR 1 month": "nrr_1m",
    "NRR 12 months": "nrr_12m",
    "GRR 1 month": "grr_1m",
    "GRR 12 months": "grr_12m",
    "logo churn rate": "logo_churn_rate",
    "ARPA": "arpa",
    "billed revenue": "billed_revenue",
    "recognized revenue": "recognized_revenue",
    "deferred revenue": "deferred_revenue",
    "cash collected": "collected_revenue",
    "COGS": "cogs",
    "gross margin": "gross_margin",
    "revenue churn rate": "revenue_churn_rate",
    "LTV": "ltv",
    "CAC": "cac",
    "CAC payback": "cac_payback_months",
    "touchpoints": "touchpoints",
    "conversions": "conversions",
    "conversion value": "conversion_value",
    "attributed conversions": "attributed_conversions",
    "attributed value": "attributed_conversion_value",
    "spend": "spend",
    "ROAS": "roas",
    "CPA": "cpa",
    "CAC by channel": "channel_cac",
    "funnel visitors": "funnel_visitors",
    "funnel signups": "funnel_signups",
    "funnel activations": "funnel_activations",
    "funnel paid": "funnel_paid",
    "funnel signup rate": "funnel_signup_rate",
    "funnel activation rate": "funnel_activation_rate",
    "funnel paid rate": "funnel_paid_rate",
    "enrollments": "enrollments",
    "completion rate at 90 days": "completion_rate_90d",
    "time to complete p50": "time_to_complete_p50",
    "time to complete p75": "time_to_complete_p75",
    "quiz pass rate": "quiz_pass_rate",
    "lesson reach": "lesson_reach_rate",
    "lesson drop-off": "lesson_drop_rate",
    "DAU": "dau",
    "WAU": "wau",
    "MAU": "mau",
    "stickiness": "stickiness",
    "cohort retention": "cohort_retention",
    "engaged time": "engaged_time",
    "generations": "generations",
    "success rate": "generation_success_rate",
    "latency p50": "generation_latency_p50",
    "latency p95": "generation_latency_p95",
    "tokens per generation": "tokens_per_generation",
    "cost per generation": "cost_per_generation",
    "cost per active customer": "cost_per_active_customer",
    "documents exported": "document_exports",
}

# Ratios whose parts the marts hold: Σ numerator / Σ denominator, so they re-aggregate.
RATIOS_OF_PARTS = {
    "roas", "cpa", "channel_cac", "gross_margin", "cac", "completion_rate_90d", "quiz_pass_rate",
    "generation_success_rate", "tokens_per_generation", "cost_per_generation", "funnel_signup_rate",
    "cohort_retention", "nrr_1m", "logo_churn_rate", "revenue_churn_rate", "stickiness",
}  # fmt: skip
# Read only at their mart's grain: percentiles, distinct counts, rates tied to their period.
GRAIN_ONLY = {
    "generation_latency_p50", "generation_latency_p95", "time_to_complete_p50", "time_to_complete_p75",
    "nrr_1m", "nrr_12m", "grr_1m", "grr_12m", "logo_churn_rate", "arpa", "revenue_churn_rate", "ltv",
    "cac_payback_months", "dau", "wau", "mau", "stickiness", "ai_active_customers",
    "cost_per_active_customer", "lesson_reach_rate", "lesson_drop_rate",
}  # fmt: skip


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture(scope="module")
def manifest() -> dict:
    return json.loads(MANIFEST.read_text(encoding="utf-8"))


@pytest.fixture
def marts(manifest: dict):
    """An in-memory database holding every mart, empty, with the columns and types dbt declares."""
    con = duckdb.connect()
    for node in manifest["nodes"].values():
        if node["resource_type"] == "model" and "/marts/" in node["original_file_path"]:
            columns = ", ".join(f'"{name}" {c["data_type"]}' for name, c in node["columns"].items())
            con.execute(f"create schema if not exists {node['schema']}")
            con.execute(f"create table {node['schema']}.{node['alias']} ({columns})")
    yield con
    con.close()


def insert(con: duckdb.DuckDBPyConnection, relation: str, rows: list[dict]) -> None:
    for row in rows:
        names = ", ".join(f'"{name}"' for name in row)
        con.execute(
            f"insert into {relation} ({names}) values ({', '.join('?' for _ in row)})", list(row.values())
        )


def run(con: duckdb.DuckDBPyConnection, catalog: Catalog, *args, **kwargs) -> list[dict]:
    query = catalog.query(*args, **kwargs)
    return [
        dict(zip(query.columns, row, strict=True)) for row in con.execute(query.sql, query.params).fetchall()
    ]


def test_every_metrics_md_metric_is_in_the_catalogue(catalog: Catalog) -> None:
    missing = {concept: name for concept, name in METRICS_MD.items() if name not in catalog.metrics}
    assert missing == {}
    assert {name for name in RATIOS_OF_PARTS if catalog.metrics[name].type != "ratio"} == set()
    grain_only = {name for name, metric in catalog.metrics.items() if metric.grain_only}
    assert GRAIN_ONLY - grain_only == set()
    assert grain_only & (RATIOS_OF_PARTS - GRAIN_ONLY) == set()  # these do re-aggregate
    assert catalog.metrics["arr"].type == "derived"
    assert catalog.metrics["deferred_revenue"].type == "cumulative"
    for metric in catalog.metrics.values():
        assert metric.label and "METRICS.md" in metric.description, metric.name


def test_every_metric_reads_a_documented_mart_column(catalog: Catalog, manifest: dict) -> None:
    models = {n["name"]: n for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    for metric in catalog.metrics.values():
        node = models[metric.model]
        assert "/marts/" in node["original_file_path"], metric.name
        assert metric.relation == f"{node['schema']}.{node['alias']}", metric.name
        assert metric.column in node["columns"], f"{metric.name}: {metric.model}.{metric.column}"
        if metric.type == "simple":  # the column named is the one the measure aggregates
            assert re.search(rf"\b{metric.column}\b", metric.measure.expr), metric.name
        for dimension in metric.dimensions:
            expr = catalog.semantic_models[metric.semantic_model].dimensions[dimension]
            assert expr in node["columns"], f"{metric.name}: dimension {dimension}"


def test_every_page_has_its_metrics_and_a_dashboard_exposure_on_their_marts(
    catalog: Catalog, manifest: dict
) -> None:
    dashboards = {e["meta"]["page"]: e for e in manifest["exposures"].values() if e["type"] == "dashboard"}
    assert set(dashboards) == set(PAGES)
    for page, exposure in dashboards.items():
        marts = {f"model.lakehouse.{metric.model}" for metric in catalog.metrics_for_page(page)}
        assert set(exposure["depends_on"]["nodes"]) == marts, page
        # Streamlit serves the default page (the overview) at the root only.
        assert exposure["url"].endswith("/" if page == "overview" else f"/{page}")
    overview = {metric.name for metric in catalog.metrics_for_page("overview")}
    assert {"mrr", "arr", "nrr_1m", "grr_1m", "gross_margin", "mau", "roas", "cac_payback_months"} <= overview
    applications = {e["name"] for e in manifest["exposures"].values() if e["type"] == "application"}
    assert {"metrics_api_learner_progress", "metrics_api_workspace_usage", "metrics_api_kpis"} <= applications
    assert {"generation_executive_brief", "generation_marketing_insights"} <= applications
    with pytest.raises(MetricQueryError, match="unknown dashboard page"):
        catalog.metrics_for_page("admin")


def test_every_metric_compiles_to_sql_that_runs(catalog: Catalog, marts) -> None:
    for metric in catalog.metrics.values():
        model = catalog.semantic_models[metric.semantic_model]
        groups = set(metric.required_dimensions) | set(model.grain_dimensions if metric.grain_only else ())
        for name in metric.inputs:
            groups |= set(catalog.metrics[name].required_dimensions)
        query = catalog.query(metric.name, date(2026, 1, 1), date(2026, 3, 31), group_by=sorted(groups))
        assert marts.execute(query.sql, query.params).fetchall() == [], metric.name


def test_user_values_reach_the_sql_only_as_bound_parameters(catalog: Catalog, marts) -> None:
    insert(marts, "marketing.fct_channel_performance", [
        {"activity_date": date(2026, 1, 5), "channel": "email", "campaign": "c'1",
         "attribution_model": "linear", "spend_usd": 10.0, "attributed_value_usd": 20.0},
    ])  # fmt: skip
    hostile = "email'; drop table marketing.fct_channel_performance; --"
    query = catalog.query(
        "roas", date(2026, 1, 1), date(2026, 1, 31), group_by=["channel"],
        filters={"channel": [hostile, "x" * 10_000], "attribution_model": "linear", "campaign": "c'1"},
    )  # fmt: skip
    assert hostile not in query.sql and "c'1" not in query.sql and "linear" not in query.sql
    assert query.sql.count("?") == len(query.params)
    assert hostile in query.params and "c'1" in query.params
    assert marts.execute(query.sql, query.params).fetchall() == []
    chosen = {"attribution_model": "linear", "campaign": "c'1"}
    assert run(marts, catalog, "roas", group_by=["channel"], filters=chosen) == [
        {"period": date(2026, 1, 5), "channel": "email", "roas": 2.0}
    ]


def test_unknown_names_and_bad_values_are_refused(catalog: Catalog) -> None:
    cases = [
        ({"metrics": "mrr; select 1"}, "unknown metric"),
        ({"metrics": "roas", "group_by": ["channel; --"]}, "unknown dimension"),
        ({"metrics": "roas", "group_by": ["user_id"]}, "unknown dimension"),
        ({"metrics": "roas", "filters": {"1=1 or channel": "email"}}, "unknown dimension"),
        ({"metrics": "roas", "filters": {"attribution_model": []}}, "has no values"),
        ({"metrics": "roas", "filters": {"attribution_model": [{"a": 1}]}}, "is not a value"),
        ({"metrics": "roas", "grain": "hour"}, "unknown time grain"),
        ({"metrics": "roas", "start": "2026-01-01"}, "must be a date"),
        ({"metrics": "roas", "start": date(2026, 2, 1), "end": date(2026, 1, 1)}, "is after end"),
        ({"metrics": ["mrr", "roas"]}, "one mart at a time"),
        ({"metrics": "mrr", "grain": "week"}, "one row per month"),
    ]
    for arguments, message in cases:
        with pytest.raises(MetricQueryError, match=message):
            catalog.query(**arguments)


def test_grain_only_metrics_are_read_only_at_their_grain(catalog: Catalog) -> None:
    with pytest.raises(MetricQueryError, match="cannot be re-aggregated over time: ask for grain 'day'"):
        catalog.query("generation_latency_p95", grain="week", group_by=["product"])
    with pytest.raises(MetricQueryError, match="differs by product"):
        catalog.query("generation_latency_p95")  # two products, no platform-wide row
    catalog.query("generation_latency_p95", filters={"product": "documents"})
    with pytest.raises(MetricQueryError, match="differs by product"):
        catalog.query("generation_latency_p95", filters={"product": ["documents", "marketing"]})
    with pytest.raises(MetricQueryError, match="cannot be re-aggregated over time"):
        catalog.query("dau", grain="month")
    with pytest.raises(MetricQueryError, match="cannot be re-aggregated over time"):
        catalog.query(["generations", "generation_latency_p50"], grain="month", group_by=["product"])
    catalog.query("generations", grain="month")
    with pytest.raises(MetricQueryError, match="differs by course_id, lesson_position"):
        catalog.query("lesson_drop_rate")
    with pytest.raises(MetricQueryError, match="differs by attribution_model"):
        catalog.query("roas")
    with pytest.raises(MetricQueryError, match="differs by week_number"):
        catalog.query("cohort_retention")


def test_ratios_divide_sums_and_are_null_on_a_zero_denominator(catalog: Catalog, marts) -> None:
    rows = [
        (date(2026, 1, 5), "email", 10.0, 30.0, 3.0),
        (date(2026, 1, 6), "email", 20.0, 0.0, 0.0),
        (date(2026, 1, 6), "direct", 0.0, 50.0, 1.0),
    ]
    for model in ("last_touch", "linear"):
        insert(marts, "marketing.fct_channel_performance", [
            {"activity_date": day, "channel": channel, "campaign": "(none)", "attribution_model": model,
             "spend_usd": spend, "attributed_value_usd": value, "attributed_conversions": conversions}
            for day, channel, spend, value, conversions in rows
        ])  # fmt: skip
    by_channel = run(
        marts, catalog, ["roas", "cpa", "spend"], grain="month", group_by=["channel"],
        filters={"attribution_model": "linear"},
    )  # fmt: skip
    # email: 30 / (10 + 20) = 1.0, not the mean of 3.0 and 0.0; direct has no spend: null, not 0
    assert by_channel == [
        {"period": date(2026, 1, 1), "channel": "direct", "roas": None, "cpa": 0.0, "spend": 0.0},
        {"period": date(2026, 1, 1), "channel": "email", "roas": 1.0, "cpa": 10.0, "spend": 30.0},
    ]
    # Spend repeats on every model's rows: read once (the last-touch rows) when no model is chosen.
    assert run(marts, catalog, "spend", grain="month") == [{"period": date(2026, 1, 1), "spend": 30.0}]
    per_model = run(marts, catalog, "roas", grain="month", group_by=["attribution_model"])
    assert [row["roas"] for row in per_model] == [80 / 30, 80 / 30]


def test_total_rows_are_read_instead_of_adding_up_the_others(catalog: Catalog, marts) -> None:
    day = date(2026, 1, 5)
    insert(marts, "finance.fct_ai_usage", [
        {"usage_date": day, "product": "documents", "model": "m1", "generations": 4, "successes": 3,
         "active_customers": 2, "cost_usd": 2.5, "latency_p95_ms": 100.0},
        {"usage_date": day, "product": "documents", "model": "m2", "generations": 1, "successes": 0,
         "active_customers": 1, "cost_usd": 1.0, "latency_p95_ms": 300.0},
        {"usage_date": day, "product": "documents", "model": "all", "generations": 5, "successes": 3,
         "active_customers": 2, "cost_usd": 3.5, "latency_p95_ms": 290.0},
    ])  # fmt: skip
    totals = run(
        marts, catalog, ["generations", "generation_success_rate", "cost_per_active_customer",
                         "generation_latency_p95"], filters={"product": "documents"},
    )  # fmt: skip
    # the 'all' row: u1 used both models, so 2 customers (1.75 each), not 3; p95 over all generations
    assert totals == [
        {"period": day, "generations": 5, "generation_success_rate": 0.6, "cost_per_active_customer": 1.75,
         "generation_latency_p95": 290.0}
    ]  # fmt: skip
    per_model = run(marts, catalog, "generations", group_by=["model"])
    assert per_model == [
        {"period": day, "model": "m1", "generations": 4},
        {"period": day, "model": "m2", "generations": 1},
    ]


def test_movements_filters_and_derived_metrics(catalog: Catalog, marts) -> None:
    month = date(2026, 2, 1)
    insert(marts, "finance.fct_mrr_movements", [
        {"customer_id": "c1", "month": month, "movement": "new", "amount": 50.0},
        {"customer_id": "c2", "month": month, "movement": "churn", "amount": -20.0},
        {"customer_id": "c3", "month": month, "movement": "contraction", "amount": -5.0},
    ])  # fmt: skip
    insert(marts, "finance.fct_mrr", [
        {"customer_id": "c1", "month": month, "mrr": 50.0},
        {"customer_id": "c3", "month": month, "mrr": 10.0},
    ])  # fmt: skip
    movements = ["new_mrr", "churned_mrr", "contraction_mrr", "net_new_mrr", "expansion_mrr"]
    assert run(marts, catalog, movements) == [
        {"period": month, "new_mrr": 50.0, "churned_mrr": 20.0, "contraction_mrr": 5.0, "net_new_mrr": 25.0,
         "expansion_mrr": None}
    ]  # fmt: skip
    assert run(marts, catalog, ["mrr", "arr"]) == [{"period": month, "mrr": 60.0, "arr": 720.0}]
    insert(marts, "learning.fct_lesson_dropoff", [
        {"course_id": "c", "lesson_position": 1, "learners_started": 20, "learners_reached": 10,
         "next_learners_reached": 4},
        {"course_id": "c", "lesson_position": 2, "learners_started": 20, "learners_reached": 4,
         "next_learners_reached": None},
    ])  # fmt: skip
    assert run(
        marts, catalog, ["lesson_reach_rate", "lesson_drop_rate"], date(2020, 1, 1), date(2020, 1, 2),
        group_by=["course_id", "lesson_position"],
    ) == [
        {"course_id": "c", "lesson_position": 1, "lesson_reach_rate": 0.5, "lesson_drop_rate": 0.6},
        {"course_id": "c", "lesson_position": 2, "lesson_reach_rate": 0.2, "lesson_drop_rate": None},
    ]  # fmt: skip


def test_retention_metrics_read_their_period(catalog: Catalog, marts) -> None:
    month = date(2026, 3, 1)
    insert(marts, "finance.fct_retention", [
        {"month": month, "period_months": 1, "mrr_start": 100.0, "mrr_end": 110.0, "grr": 0.9,
         "customers_start": 10, "churned_customers": 1, "arpa": 11.0},
        {"month": month, "period_months": 12, "mrr_start": 50.0, "mrr_end": 40.0, "grr": 0.7,
         "customers_start": 5, "churned_customers": None, "arpa": None},
    ])  # fmt: skip
    assert run(marts, catalog, ["nrr_1m", "nrr_12m", "grr_1m", "grr_12m", "logo_churn_rate", "arpa"]) == [
        {"period": month, "nrr_1m": 1.1, "nrr_12m": 0.8, "grr_1m": 0.9, "grr_12m": 0.7,
         "logo_churn_rate": 0.1, "arpa": 11.0}
    ]  # fmt: skip


def test_cumulative_metrics_count_history_before_the_range(catalog: Catalog, marts) -> None:
    insert(marts, "finance.fct_revenue_recognition", [
        {"month": date(2026, m, 1), "product": p, "currency": "USD", "change_in_deferred_usd": d,
         "billed_usd": b}
        for m, p, d, b in [(1, "courses", 100.0, 120.0), (2, "courses", -30.0, 0.0),
                           (3, "courses", 10.0, 40.0), (2, "documents", 5.0, 5.0)]
    ])  # fmt: skip
    ranged = run(marts, catalog, ["deferred_revenue", "billed_revenue"], date(2026, 2, 15), date(2026, 3, 31))
    assert ranged == [
        {"period": date(2026, 2, 1), "deferred_revenue": 75.0, "billed_revenue": 5.0},
        {"period": date(2026, 3, 1), "deferred_revenue": 85.0, "billed_revenue": 40.0},
    ]  # fmt: skip
    by_product = run(marts, catalog, "deferred_revenue", end=date(2026, 2, 28), group_by=["product"])
    assert by_product == [
        {"period": date(2026, 1, 1), "product": "courses", "deferred_revenue": 100.0},
        {"period": date(2026, 2, 1), "product": "courses", "deferred_revenue": 70.0},
        {"period": date(2026, 2, 1), "product": "documents", "deferred_revenue": 5.0},
    ]


def test_a_missing_catalogue_says_what_to_run(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="run `make install`"):
        load_catalog(tmp_path / "semantic_manifest.json")


def test_docs_list_every_metric_of_the_catalogue(catalog: Catalog) -> None:
    doc = METRICS_DOC.read_text(encoding="utf-8")
    assert catalogue_table(doc) == catalog.catalogue_markdown(), "run `python -m lakehouse.metrics_catalog`"
    for name in catalog.metrics:
        assert f"| `{name}` |" in doc
    row = next(line for line in doc.splitlines() if line.startswith("| `roas` |"))
    assert catalogue_table(doc.replace(row + "\n", "")) != catalog.catalogue_markdown()


def _broken(tmp_path: Path, change) -> Path:
    manifest = json.loads(SEMANTIC_MANIFEST.read_text(encoding="utf-8"))
    change({metric["name"]: metric for metric in manifest["metrics"]})
    path = tmp_path / "semantic_manifest.json"
    path.write_text(json.dumps(manifest), encoding="utf-8")
    return path


def test_a_catalogue_breaking_the_readers_rules_is_refused(tmp_path: Path) -> None:
    def unknown_page(metrics):
        metrics["mrr"]["config"]["meta"]["pages"] = ["board"]

    def no_format(metrics):
        del metrics["roas"]["config"]["meta"]["format"]

    def other_filter(metrics):
        metrics["new_mrr"]["filter"]["where_filters"][0]["where_sql_template"] = (
            "{{ Dimension('customer_movement__movement') }} like 'n%'"
        )

    def unknown_input(metrics):
        metrics["arr"]["type_params"]["expr"] = "12 * mrr + pi()"

    cases = [(unknown_page, "unknown pages"), (no_format, "meta lacks format"),
             (other_filter, "must be"), (unknown_input, "neither an input metric")]  # fmt: skip
    for change, message in cases:
        with pytest.raises(CatalogError, match=message):
            load_catalog(_broken(tmp_path, change))


def test_filter_values_and_their_total_rows(catalog: Catalog, marts) -> None:
    with pytest.raises(MetricQueryError, match="totals the other values"):
        catalog.query("generations", filters={"model": ["all", "m1"]})
    insert(marts, "learning.fct_active_users", [
        {"activity_date": date(2026, 1, 5), "product": product, "dau": dau, "mau": mau}
        for product, dau, mau in [("courses", 3, 6), ("documents", 2, 4), ("all", 4, 8)]
    ])  # fmt: skip
    values = catalog.values_query("dau", "product")
    assert [row[0] for row in marts.execute(values.sql, values.params).fetchall()] == ["courses", "documents"]
    assert run(marts, catalog, ["dau", "stickiness"]) == [
        {"period": date(2026, 1, 5), "dau": 4, "stickiness": 0.5}
    ]
    assert run(
        marts, catalog, "dau", filters={"product": ["courses", "documents"]}, group_by=["product"]
    ) == [
        {"period": date(2026, 1, 5), "product": "courses", "dau": 3},
        {"period": date(2026, 1, 5), "product": "documents", "dau": 2},
    ]
