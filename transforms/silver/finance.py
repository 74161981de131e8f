"""Exports that carry money: daily FX rates and ad spend in USD beside the original currency."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from transforms.table import Incremental, Lookup, SilverTable


def with_usd_rate(rows: ir.Table, day: str, rates: ir.Table) -> ir.Table:
    """`rows` plus `fx_rate` (USD per unit of `currency` on `day`) and `fx_rate_date` (the rate's day).

    The as-of lookup runs on the distinct (currency, day) pairs, so its non-equi join is as small as the
    rate history, whatever the number of rows. A currency with no rate on or before the day stays null.
    """
    wanted = rows.select(currency=rows.currency, _day=rows[day]).distinct()
    earlier = wanted.join(rates, [wanted.currency == rates.currency, rates.rate_date <= wanted._day])
    latest = ibis.row_number().over(
        group_by=[earlier.currency, earlier._day], order_by=ibis.desc(earlier.rate_date)
    )
    picked = earlier.mutate(_latest=latest).filter(lambda t: t._latest == 0)
    looked_up = rows.left_join(picked, [rows.currency == picked.currency, rows[day] == picked._day])
    is_usd = rows.currency == "USD"
    return looked_up.select(
        *(rows[column] for column in rows.columns),
        fx_rate=ibis.cases((is_usd, ibis.literal(1.0)), else_=picked.rate_to_usd),
        fx_rate_date=ibis.cases((is_usd, rows[day]), else_=picked.rate_date),
    )


def fx_rates(bronze: ir.Table) -> ir.Table:
    """One rate per day and currency; a later export of the same day corrects an earlier one."""
    latest = ibis.row_number().over(
        group_by=[bronze.date, bronze.currency],
        # Files ingested in one run share _ingested_at: the file, then its line, decide (as for costs).
        order_by=[ibis.desc(bronze._ingested_at), ibis.desc(bronze._source), ibis.desc(bronze._line)],
    )
    ranked = bronze.mutate(_version=latest)
    return ranked.filter(ranked._version == 0).select(
        rate_date="date", currency="currency", rate_to_usd="rate_to_usd"
    )


def ad_spend(bronze: ir.Table, rates: ir.Table) -> ir.Table:
    latest = ibis.row_number().over(
        group_by=[bronze.date, bronze.channel, bronze.campaign, bronze.currency],
        order_by=[ibis.desc(bronze._ingested_at), ibis.desc(bronze._source), ibis.desc(bronze._line)],
    )
    spend = bronze.mutate(_version=latest).filter(lambda t: t._version == 0)
    converted = with_usd_rate(
        spend.select(
            spend_date=spend.date,
            channel=spend.channel,
            campaign=spend.campaign,
            currency=spend.currency,
            amount=spend.amount,
        ),
        "spend_date",
        rates,
    )
    return converted.select(
        "spend_date",
        "channel",
        "campaign",
        "currency",
        "amount",
        rate_to_usd=converted.fx_rate,
        fx_rate_date=converted.fx_rate_date,
        amount_usd=converted.amount * converted.fx_rate,
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
            lookups={"silver/fx_rates": Lookup("rate_date", "spend_date", onwards=True)},
        ),
    ),
)
