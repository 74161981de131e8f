"""Product events of all three products, conformed to one model and deduplicated."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from transforms.table import Incremental, SilverTable

# Events that arrive without the person doing anything; they never make a user active.
PASSIVE_EVENT_TYPES = ("notification_received", "email_delivered")


def conform_events(bronze: ir.Table) -> ir.Table:
    """One row per event_id: the first copy received wins (earliest ingestion, then file and line)."""
    first_received = ibis.row_number().over(
        group_by=bronze.event_id, order_by=[bronze._ingested_at, bronze._source, bronze._line]
    )
    deduplicated = bronze.mutate(_copy=first_received).filter(lambda t: t._copy == 0)
    context = deduplicated.context.cast("json")
    return deduplicated.select(
        "event_id",
        "event_type",
        "product",
        "occurred_at",
        "event_date",
        "user_id",
        "anonymous_id",
        utm_source=context["utm_source"].str,
        utm_medium=context["utm_medium"].str,
        utm_campaign=context["utm_campaign"].str,
        referrer=context["referrer"].str,
        device=context["device"].str,
        properties="properties",
        is_active=~deduplicated.event_type.isin(PASSIVE_EVENT_TYPES) & deduplicated.user_id.notnull(),
        _batch_id="_batch_id",
    )


TABLES = (
    SilverTable(
        "silver/events",
        ("bronze/events",),
        conform_events,
        partition_by=("event_date",),
        description="Events of the three products, one row per event_id (first copy received wins).",
        keys=("event_id",),
        # Events only arrive: the new bronze rows are conformed alone, and an event_id the day already
        # holds keeps its first copy (bronze commits in the order it receives). Late events land in
        # the partition of their own day.
        incremental=Incremental("event_date", appends=True),
    ),
)
