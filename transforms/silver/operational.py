"""Operational tables: the current state of each row, as extracted from PostgreSQL."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from transforms.table import Incremental, SilverTable


def current_rows(bronze: ir.Table, key: str = "id") -> ir.Table:
    """The latest extracted version of each key; soft- and hard-deleted rows are not current."""
    latest = ibis.row_number().over(
        group_by=bronze[key], order_by=[ibis.desc(bronze.updated_at), ibis.desc(bronze._ingested_at)]
    )
    ranked = bronze.mutate(_version=latest)
    current = ranked.filter((ranked._version == 0) & ranked.deleted_at.isnull())
    if "_deleted" in bronze.columns:  # a tombstone: the row was deleted at the source
        current = current.filter(~current._deleted.fill_null(False))
    return current.drop(
        "_version",
        "deleted_at",
        "_source",
        "_ingested_at",
        *(["_deleted"] if "_deleted" in bronze.columns else []),
    )


def users(bronze: ir.Table) -> ir.Table:
    # Email stays in bronze: no analytic model needs it, and silver is widely readable.
    return current_rows(bronze).select("id", "country", "created_at", "updated_at", "_batch_id")


def plans(bronze: ir.Table) -> ir.Table:
    latest = ibis.row_number().over(group_by=bronze.id, order_by=ibis.desc(bronze._ingested_at))
    ranked = bronze.mutate(_version=latest)
    return ranked.filter(ranked._version == 0).select(
        "id",
        "product",
        "name",
        "interval",
        "interval_count",
        unit_amount=ranked.unit_amount.cast("float64") / 100,
        currency=ranked.currency.strip(),
        updated_at="updated_at",
        _batch_id="_batch_id",
    )


def subscriptions(bronze: ir.Table) -> ir.Table:
    return current_rows(bronze).select(
        "id",
        "user_id",
        "plan_id",
        "quantity",
        "status",
        "trial_end",
        "started_at",
        "ended_at",
        "updated_at",
        "_batch_id",
    )


def _by_id(source: str) -> Incremental:
    # Every extracted version of a changed id is re-read, so its current row is rebuilt from all of them.
    return Incremental("id", driver=source, filters={source: "id"})


TABLES = (
    SilverTable(
        "silver/users",
        ("bronze/pg_users",),
        users,
        description="Current users (no personal data).",
        keys=("id",),
        incremental=_by_id("bronze/pg_users"),
    ),
    SilverTable(
        "silver/plans",
        ("bronze/pg_plans",),
        plans,
        description="Current price plans, amounts in major units.",
        keys=("id",),
        incremental=_by_id("bronze/pg_plans"),
    ),
    SilverTable(
        "silver/subscriptions",
        ("bronze/pg_subscriptions",),
        subscriptions,
        description="Current subscriptions with trial and end dates.",
        keys=("id",),
        incremental=_by_id("bronze/pg_subscriptions"),
    ),
)
