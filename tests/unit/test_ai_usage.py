from __future__ import annotations

from datetime import date

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pytest

from tests.unit.silver_frames import silver_events
from transforms.engine import _SparkCompiler
from transforms.silver.ai_usage import ai_generations, document_exports

TS = pa.timestamp("us", tz="UTC")
MAR_1, MAR_9, MAR_10, MAR_12 = date(2026, 3, 1), date(2026, 3, 9), date(2026, 3, 10), date(2026, 3, 12)

PRODUCT = {"content_generated": "marketing", "page_view": "marketing"}


def _events(rows: list[tuple[str, str, date, dict]]) -> ir.Table:
    return silver_events(rows, lambda event_type: PRODUCT.get(event_type, "documents"))


def _rows(expr: ir.Table) -> list[dict]:
    return ibis.duckdb.connect().to_pyarrow(expr.order_by("event_id")).to_pylist()


PRICES = ibis.memtable(
    pa.table(
        {
            "price_date": pa.array([MAR_1, MAR_10, MAR_10], pa.date32()),
            "model": ["gpt-4o-mini", "gpt-4o-mini", "claude-sonnet"],
            "provider": ["openai", "openai", "anthropic"],
            "currency": ["USD"] * 3,
            "price_per_1k_tokens": [0.0006, 0.0005, 0.015],
            "price_per_1k_tokens_usd": [0.0006, 0.0005, 0.015],
        }
    )
)

CONTENT = {"content_id": "ct1", "workspace_id": "w1", "content_type": "post", "brand_voice_score": 0.9}
DOCUMENT = {"document_id": "d1", "template_id": "t1"}
MINI, SONNET = {"model": "gpt-4o-mini"}, {"model": "claude-sonnet"}
EVENTS = _events(
    [
        (
            "g1",
            "content_generated",
            MAR_10,
            CONTENT | MINI | {"tokens": "812", "success": True},
        ),
        (
            "g2",
            "document_generated",
            MAR_9,
            DOCUMENT | MINI | {"tokens": 2000, "success": False},
        ),
        (
            "g3",
            "document_generated",
            MAR_12,
            DOCUMENT | SONNET | {"tokens": 1000, "success": True},
        ),
        (
            "g4",
            "content_generated",
            MAR_9,
            CONTENT | SONNET | {"tokens": 500, "success": True},
        ),
        ("x1", "document_exported", MAR_10, {"document_id": "d1", "format": "pdf"}),
        ("p1", "page_view", MAR_10, {"path": "/"}),
    ]
)


def test_generations_cost_tokens_at_the_price_of_their_day_or_the_latest_before() -> None:
    rows = _rows(ai_generations(EVENTS, PRICES))
    assert [(r["event_id"], r["tokens"], r["price_date"], r["price_per_1k_tokens_usd"]) for r in rows] == [
        ("g1", 812, MAR_10, 0.0005),  # tokens sent as the string "812"; that day's price
        ("g2", 2000, MAR_1, 0.0006),  # no price on Mar 9: the latest earlier one (Mar 1), not Mar 10's
        ("g3", 1000, MAR_10, 0.015),  # Mar 12 has no price yet: Mar 10's
        ("g4", 500, None, None),  # no price on or before its day: kept, without a cost
    ]
    assert [r["cost_usd"] for r in rows[:3]] == pytest.approx([0.812 * 0.0005, 2.0 * 0.0006, 1.0 * 0.015])
    assert rows[3]["cost_usd"] is None


def test_generations_keep_each_products_fields() -> None:
    rows = _rows(ai_generations(EVENTS, PRICES))
    content, document = rows[0], rows[1]
    assert (content["product"], content["artifact_id"], content["workspace_id"], content["content_type"]) == (
        "marketing",
        "ct1",
        "w1",
        "post",
    )
    assert (content["template_id"], content["brand_voice_score"], content["success"]) == (None, 0.9, True)
    assert (document["product"], document["artifact_id"], document["template_id"], document["success"]) == (
        "documents",
        "d1",
        "t1",
        False,
    )
    assert document["workspace_id"] is None


def test_document_exports() -> None:
    rows = _rows(document_exports(EVENTS))
    assert [(r["event_id"], r["document_id"], r["format"], r["event_date"]) for r in rows] == [
        ("x1", "d1", "pdf", MAR_10)
    ]


# Mar 9 holds g2 (priced from Mar 1, a day outside the one rebuilt) and g4; Mar 10 holds g1 and x1.
@pytest.mark.parametrize(("day", "generations"), [(MAR_9, 2), (MAR_10, 1)])
def test_facts_are_local_to_their_day(day: date, generations: int) -> None:
    one_day = EVENTS.filter(EVENTS.event_date == day)
    for build in (lambda e: ai_generations(e, PRICES), document_exports):
        full = build(EVENTS)
        assert _rows(build(one_day)) == _rows(full.filter(full.event_date == day))
    assert len(_rows(ai_generations(one_day, PRICES))) == generations


def test_generations_compile_for_spark_without_python_udfs() -> None:
    ibis.pyspark  # noqa: B018 (loading the backend registers the options its compiler reads)
    events = ibis.table(EVENTS.schema(), name="events")
    prices = ibis.table(PRICES.schema(), name="prices")
    compiler = _SparkCompiler()
    sql = compiler.to_sqlglot(ai_generations(events, prices)).sql(dialect=compiler.dialect)
    assert "unwrap_json" not in sql.lower()
