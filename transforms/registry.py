"""Which silver table is built from which lake tables by which pure function."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import ibis.expr.types as ir

from transforms.silver import events, finance, operational, touchpoints


@dataclass(frozen=True)
class SilverTable:
    name: str
    inputs: tuple[str, ...]
    build: Callable[..., ir.Table]
    partition_by: tuple[str, ...] = ()
    description: str = ""


SILVER_TABLES = (
    SilverTable(
        "silver/events",
        ("bronze/events",),
        events.conform_events,
        ("event_date",),
        "Events of the three products, one row per event_id (first copy received wins).",
    ),
    SilverTable(
        "silver/touchpoints",
        ("silver/events",),
        touchpoints.touchpoints,
        (),
        "Landing page views with the acquisition channel derived from UTM and referrer.",
    ),
    SilverTable(
        "silver/users", ("bronze/pg_users",), operational.users, (), "Current users (no personal data)."
    ),
    SilverTable(
        "silver/plans",
        ("bronze/pg_plans",),
        operational.plans,
        (),
        "Current price plans, amounts in major units.",
    ),
    SilverTable(
        "silver/subscriptions",
        ("bronze/pg_subscriptions",),
        operational.subscriptions,
        (),
        "Current subscriptions with trial and end dates.",
    ),
    SilverTable(
        "silver/fx_rates", ("bronze/fx_rates",), finance.fx_rates, (), "One USD rate per day and currency."
    ),
    SilverTable(
        "silver/ad_spend",
        ("bronze/ad_spend", "silver/fx_rates"),
        finance.ad_spend,
        (),
        "Ad spend per day, channel and campaign, in USD beside the original currency.",
    ),
)

BY_NAME = {table.name: table for table in SILVER_TABLES}
