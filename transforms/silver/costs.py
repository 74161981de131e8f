"""Cost exports: the daily price of each LLM model and cloud cost lines, in USD beside the original currency.

A later export of the same day corrects an earlier one. Both tables are local in their day: every row
comes from that day's export rows alone, with the USD rate of that day (or the latest earlier one).
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from transforms.silver.finance import with_usd_rate
from transforms.table import Incremental, Lookup, SilverTable


def latest_export(bronze: ir.Table, *grain: str) -> ir.Table:
    """One row per grain value: the latest ingested export wins, then the file whose path sorts last
    (files ingested in one run share `_ingested_at`), then the last line of that file."""
    latest = ibis.row_number().over(
        group_by=[bronze[column] for column in grain],
        order_by=[ibis.desc(bronze._ingested_at), ibis.desc(bronze._source), ibis.desc(bronze._line)],
    )
    return bronze.mutate(_version=latest).filter(lambda t: t._version == 0)


def llm_prices(bronze: ir.Table, rates: ir.Table) -> ir.Table:
    prices = latest_export(bronze, "date", "model")
    converted = with_usd_rate(
        prices.select(
            price_date=prices.date,
            model=prices.model,
            provider=prices.provider,
            currency=prices.currency.strip(),
            price_per_1k_tokens=prices.price_per_1k_tokens,
        ),
        "price_date",
        rates,
    )
    return converted.mutate(price_per_1k_tokens_usd=converted.price_per_1k_tokens * converted.fx_rate)


def cloud_costs(bronze: ir.Table, rates: ir.Table) -> ir.Table:
    lines = latest_export(bronze, "date", "provider", "service", "product")
    converted = with_usd_rate(
        lines.select(
            cost_date=lines.date,
            provider=lines.provider,
            service=lines.service,
            product=lines.product,
            currency=lines.currency.strip(),
            amount=lines.amount,
        ),
        "cost_date",
        rates,
    )
    return converted.mutate(amount_usd=converted.amount * converted.fx_rate)


TABLES = (
    SilverTable(
        "silver/llm_prices",
        ("bronze/llm_prices", "silver/fx_rates"),
        llm_prices,
        description="The price of each LLM model per day, in USD beside the original currency.",
        keys=("price_date", "model"),
        incremental=Incremental(
            "price_date",
            filters={"bronze/llm_prices": "date"},
            lookups={"silver/fx_rates": Lookup("rate_date", "price_date", onwards=True)},
        ),
    ),
    SilverTable(
        "silver/cloud_costs",
        ("bronze/cloud_costs", "silver/fx_rates"),
        cloud_costs,
        description="Cloud cost lines per day, provider, service and product (`shared` is allocated later), "
        "in USD beside the original currency.",
        keys=("cost_date", "provider", "service", "product"),
        incremental=Incremental(
            "cost_date",
            filters={"bronze/cloud_costs": "date"},
            lookups={"silver/fx_rates": Lookup("rate_date", "cost_date", onwards=True)},
        ),
    ),
)
