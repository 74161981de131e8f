"""Exports that carry money: daily FX rates and ad spend in USD beside the original currency."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from transforms.table import Incremental, Lookup, SilverTable


def fx_rates(bronze: ir.Table) -> ir.Table:
    """One rate per day and currency; a later export of the same day corrects an earlier one."""
    latest = ibis.row_number().over(
        group_by=[bronze.date, bronze.currency],
        order_by=[ibis.desc(bronze._ingested_at), ibis.desc(bronze._line)],
    )
    ranked = bronze.mutate(_version=latest)
    return ranked.filter(ranked._version == 0).select(
        rate_date="date", currency="currency", rate_to_usd="rate_to_usd"
    )


def ad_spend(bronze: ir.Table, rates: ir.Table) -> ir.Table:
    latest = ibis.row_number().over(
        group_by=[bronze.date, bronze.channel, bronze.campaign, bronze.currency],
        order_by=[ibis.desc(bronze._ingested_at), ibis.desc(bronze._line)],
    )
    spend = bronze.mutate(_version=latest).filter(lambda t: t._version == 0)
    joined = spend.left_join(rates, [spend.date == rates.rate_date, spend.currency == rates.currency])
    return joined.select(
        spend_date=spend.date,
        channel=spend.channel,
        campaign=spend.campaign,
        currency=spend.currency,
        amount=spend.amount,
        rate_to_usd=rates.rate_to_usd,
        amount_usd=spend.amount * rates.rate_to_usd,
    )


TABLES = (
    SilverTable(
        "silver/fx_rates",
        ("bronze/fx_rates",),
        fx_rates,
        description="One USD rate per day and currency.",
        keys=("rate_date", "currency"),
        incremental=Incremental("rate_date", filters={"bronze/fx_rates": "date"}),
    ),
    SilverTable(
        "silver/ad_spend",
        ("bronze/ad_spend", "silver/fx_rates"),
        ad_spend,
        description="Ad spend per day, channel and campaign, in USD beside the original currency.",
        keys=("spend_date", "channel", "campaign", "currency"),
        incremental=Incremental(
            "spend_date",
            filters={"bronze/ad_spend": "date"},
            lookups={"silver/fx_rates": Lookup("rate_date", "spend_date")},
        ),
    ),
)
