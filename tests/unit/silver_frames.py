"""Tiny silver input tables shared by the transform tests."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, time

import ibis
import ibis.expr.types as ir
import pyarrow as pa

TS = pa.timestamp("us", tz="UTC")


def silver_events(rows: list[tuple[str, str, date, dict]], product: Callable[[str], str]) -> ir.Table:
    """silver/events from (event_id, event_type, event_date, properties), every event by user u1 at
    09:00 UTC; `product` names each event type's product."""
    count = len(rows)
    nothing = pa.array([None] * count, pa.string())
    return ibis.memtable(
        pa.table(
            {
                "event_id": [r[0] for r in rows],
                "event_type": [r[1] for r in rows],
                "product": [product(r[1]) for r in rows],
                "occurred_at": pa.array([datetime.combine(r[2], time(9, tzinfo=UTC)) for r in rows], TS),
                "event_date": pa.array([r[2] for r in rows], pa.date32()),
                "user_id": ["u1"] * count,
                "anonymous_id": nothing,
                "utm_source": nothing,
                "utm_medium": nothing,
                "utm_campaign": nothing,
                "referrer": nothing,
                "device": nothing,
                "properties": [json.dumps(r[3]) for r in rows],
                "is_active": [True] * count,
                "_batch_id": ["b1"] * count,
            }
        )
    )


def fx_rates(rates: list[tuple[date, str, float]]) -> ir.Table:
    """silver/fx_rates from (rate_date, currency, rate_to_usd)."""
    return ibis.memtable(
        pa.table(
            {
                "rate_date": pa.array([r[0] for r in rates], pa.date32()),
                "currency": [r[1] for r in rates],
                "rate_to_usd": [r[2] for r in rates],
            }
        )
    )
