"""Type 2 history of operational entities: one row per version, with the span of time it held.

Bronze keeps every extracted version of every row, so a version's span comes from the source's own change
times. Deleted entities keep their history: the deletion is a final version marked `is_deleted`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import ibis
import ibis.expr.types as ir

from transforms.silver.catalog import major_units
from transforms.table import Incremental, SilverTable


def history(bronze: ir.Table, tracked_columns: Sequence[str], key: str = "id") -> ir.Table:
    """Every version of each key: a version starts when a tracked column or the deleted state changes.

    valid_from is the change time at the source (`updated_at`). A hard-delete tombstone repeats the last
    live version's values and `updated_at`, so its version starts when the deletion was seen (its
    `_ingested_at`, never before that `updated_at`). valid_to is the next version's valid_from, null on
    the last version. The last version is current even when it is a deletion: live entities are
    `is_current and not is_deleted`. Consecutive rows with the same tracked values (replays, resyncs,
    changes of untracked columns) are one version, carrying the batch that first extracted it.
    """
    tombstone = bronze._deleted.fill_null(False) if "_deleted" in bronze.columns else ibis.literal(False)
    rows = bronze.mutate(
        _is_deleted=bronze.deleted_at.notnull() | tombstone,
        _changed_at=ibis.ifelse(
            tombstone, ibis.greatest(bronze.updated_at, bronze._ingested_at), bronze.updated_at
        ),
    )
    in_order = ibis.window(group_by=rows[key], order_by=[rows._changed_at, rows._ingested_at, rows._batch_id])
    starts = ibis.row_number().over(in_order) == 0
    for column in (*tracked_columns, "_is_deleted"):
        starts |= ~rows[column].identical_to(rows[column].lag().over(in_order))
    versions = rows.mutate(_starts=starts).filter(lambda t: t._starts)

    # Two versions at one change time (a row corrected without moving updated_at, a tombstone seen by a
    # clock behind the source's): the later extraction is what the source holds.
    last_seen = ibis.row_number().over(
        group_by=[versions[key], versions._changed_at],
        order_by=[ibis.desc(versions._ingested_at), ibis.desc(versions._batch_id)],
    )
    versions = versions.mutate(_last_seen=last_seen).filter(lambda t: t._last_seen == 0)

    valid_to = versions._changed_at.lead().over(group_by=versions[key], order_by=versions._changed_at)
    return versions.select(
        key,
        *tracked_columns,
        valid_from=versions._changed_at,
        valid_to=valid_to,
        is_current=valid_to.isnull(),
        is_deleted=versions._is_deleted,
        _batch_id=versions._batch_id,
    )


def users_history(bronze: ir.Table) -> ir.Table:
    # Email stays in bronze: its changes are not versions here, and silver is widely readable.
    return history(bronze, ("country", "signup_product", "marketing_opt_in", "created_at"))


def plans_history(bronze: ir.Table) -> ir.Table:
    tracked = (
        "product",
        "name",
        "tier",
        "interval",
        "interval_count",
        "unit_amount",
        "currency",
        "created_at",
    )
    return history(major_units(bronze, "unit_amount"), tracked)


def subscriptions_history(bronze: ir.Table) -> ir.Table:
    tracked = (
        "user_id",
        "plan_id",
        "quantity",
        "status",
        "trial_end",
        "started_at",
        "ended_at",
        "current_period_start",
        "current_period_end",
        "cancel_at",
        "canceled_at",
        "end_reason",
        "replaces_subscription_id",
        "created_at",
    )
    return history(bronze, tracked)


def subscription_discounts_history(bronze: ir.Table) -> ir.Table:
    tracked = (
        "subscription_id",
        "user_id",
        "coupon_code",
        "percent_off",
        "amount_off",
        "currency",
        "duration",
        "duration_in_months",
        "starts_at",
        "ends_at",
        "created_at",
    )
    typed = major_units(bronze, "amount_off")
    return history(typed.mutate(percent_off=typed.percent_off.cast("float64")), tracked)


def _history_table(table: str, build: Callable[[ir.Table], ir.Table], description: str) -> SilverTable:
    source = f"bronze/pg_{table}"
    return SilverTable(
        f"silver/{table}_history",
        (source,),
        build,
        description=description,
        keys=("id", "valid_from"),
        # A changed id's whole history is rebuilt from all its bronze versions: every window is per id.
        incremental=Incremental("id", driver=source, filters={source: "id"}),
    )


TABLES = (
    _history_table("users", users_history, "Every version of each user (no personal data)."),
    _history_table("plans", plans_history, "Every version of each price plan, amounts in major units."),
    _history_table("subscriptions", subscriptions_history, "Every version of each subscriptions row."),
    _history_table(
        "subscription_discounts",
        subscription_discounts_history,
        "Every version of each subscription discount, amount_off in major units.",
    ),
)
