"""AI usage facts: every generation with its tokens and LLM cost, and every document export."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from transforms.silver import properties as props
from transforms.table import Incremental, Lookup, SilverTable

# The event that records a generation in each product, and the property naming what it produced.
GENERATION_ARTIFACT = {"content_generated": "content_id", "document_generated": "document_id"}


def _prices_as_of(generations: ir.Table, prices: ir.Table) -> ir.Table:
    """The price of each (model, day) generations need: that day's, else the latest earlier one.

    The as-of match runs on the distinct (model, day) pairs, a few thousand at most, rather than on every
    generation; both engines then join it back on equality.
    """
    days = generations.select("model", "event_date").distinct()
    candidates = days.join(prices, [days.model == prices.model, prices.price_date <= days.event_date]).select(
        price_model=days.model,
        price_day=days.event_date,
        price_date=prices.price_date,
        provider=prices.provider,
        price_per_1k_tokens_usd=prices.price_per_1k_tokens_usd,
    )
    # The provider only breaks a tie (a model priced twice on one day), so a rebuild picks the same row.
    newest = ibis.row_number().over(
        group_by=[candidates.price_model, candidates.price_day],
        order_by=[ibis.desc(candidates.price_date), candidates.provider],
    )
    ranked = candidates.mutate(_newest=newest)
    return ranked.filter(ranked._newest == 0).drop("_newest", "provider")


def ai_generations(events: ir.Table, prices: ir.Table) -> ir.Table:
    """Content and document generations with tokens, latency, outcome and cost at the day's model price."""
    found = events.filter(events.event_type.isin(tuple(GENERATION_ARTIFACT)))
    p = found.properties
    generations = found.select(
        "event_id",
        "event_type",
        "product",
        "user_id",
        "occurred_at",
        "event_date",
        workspace_id=props.string(p, "workspace_id"),
        artifact_id=ibis.cases(
            *((found.event_type == kind, props.string(p, key)) for kind, key in GENERATION_ARTIFACT.items())
        ),
        template_id=props.string(p, "template_id"),
        content_type=props.string(p, "content_type"),
        model=props.string(p, "model"),
        tokens=props.integer(p, "tokens"),
        latency_ms=props.integer(p, "latency_ms"),
        success=props.boolean(p, "success"),
        brand_voice_score=props.floating(p, "brand_voice_score"),
    )
    priced = _prices_as_of(generations, prices)
    joined = generations.left_join(
        priced, [generations.model == priced.price_model, generations.event_date == priced.price_day]
    )
    return joined.select(
        event_id=generations.event_id,
        event_type=generations.event_type,
        product=generations.product,
        user_id=generations.user_id,
        workspace_id=generations.workspace_id,
        artifact_id=generations.artifact_id,
        template_id=generations.template_id,
        content_type=generations.content_type,
        model=generations.model,
        tokens=generations.tokens,
        latency_ms=generations.latency_ms,
        success=generations.success,
        brand_voice_score=generations.brand_voice_score,
        price_date=priced.price_date,
        price_per_1k_tokens_usd=priced.price_per_1k_tokens_usd,
        cost_usd=generations.tokens.cast("float64") / 1000 * priced.price_per_1k_tokens_usd,
        occurred_at=generations.occurred_at,
        event_date=generations.event_date,
    )


def document_exports(events: ir.Table) -> ir.Table:
    exports = events.filter(events.event_type == "document_exported")
    return exports.select(
        event_id=exports.event_id,
        user_id=exports.user_id,
        document_id=props.string(exports.properties, "document_id"),
        format=props.string(exports.properties, "format"),
        occurred_at=exports.occurred_at,
        event_date=exports.event_date,
    )


# A fact depends only on its own event and on lookups read whole (prices): the events silver/events
# gained are built alone and appended; a price that arrives or is corrected rebuilds its day and the
# days after (the as-of price may be that one), together with the days of the new events.
_BY_EVENT_DATE = Incremental("event_date", driver="silver/events", appends=True)
_PRICED_BY_EVENT_DATE = Incremental(
    "event_date",
    driver="silver/events",
    lookups={"silver/llm_prices": Lookup("price_date", "event_date", onwards=True)},
    appends=True,
)

TABLES = (
    SilverTable(
        "silver/ai_generations",
        ("silver/events", "silver/llm_prices"),
        ai_generations,
        partition_by=("event_date",),
        description="Content and document generations: tokens, latency, success and LLM cost in USD at the "
        "model's price of the day (or the latest earlier price, shown in price_date).",
        keys=("event_id",),
        incremental=_PRICED_BY_EVENT_DATE,
    ),
    SilverTable(
        "silver/document_exports",
        ("silver/events",),
        document_exports,
        partition_by=("event_date",),
        description="Documents exported, by format.",
        keys=("event_id",),
        incremental=_BY_EVENT_DATE,
    ),
)
