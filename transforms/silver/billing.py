"""Billing facts (invoices, their lines, payments, refunds) in major units and in USD.

Money is converted at the USD rate of the transaction's UTC day; when that day has no rate, the latest
earlier one is used and `fx_rate_date` says which day it came from. USD is 1 whether or not the FX export
lists it. Each table is the current row of its PostgreSQL table, so it is local in `id`; FX rates are a
lookup read whole.
"""

from __future__ import annotations

from collections.abc import Callable

import ibis
import ibis.expr.types as ir

from transforms.silver.finance import with_usd_rate
from transforms.silver.operational import current_rows
from transforms.table import Incremental, Lookup, SilverTable

MICROSECONDS_PER_DAY = 86_400_000_000


def major(minor: ir.IntegerValue) -> ir.FloatingValue:
    return minor.cast("float64") / 100


def month_of(day: ir.DateValue) -> ir.DateValue:
    """The first day of the day's month: the billing facts' partition, so that a run's MERGE rewrites
    the recent months its changes fall in, not the whole table."""
    return ibis.date(day.year(), day.month(), 1)


def _in_usd(table: ir.Table, *columns: str) -> ir.Table:
    return table.mutate(**{f"{column}_usd": table[column] * table.fx_rate for column in columns})


def invoices(bronze: ir.Table, rates: ir.Table) -> ir.Table:
    current = current_rows(bronze)
    converted = with_usd_rate(
        current.select(
            "id",
            "user_id",
            "subscription_id",
            "number",
            "status",
            "billing_reason",
            "period_start",
            "period_end",
            "paid_at",
            "created_at",
            "updated_at",
            "_batch_id",
            currency=current.currency.strip(),
            subtotal=major(current.subtotal),
            discount_total=major(current.discount_total),
            tax_rate=current.tax_rate.cast("float64"),
            tax=major(current.tax),
            total=major(current.total),
            amount_paid=major(current.amount_paid),
            amount_refunded=major(current.amount_refunded),
            invoice_date=current.created_at.date(),
            invoice_month=month_of(current.created_at.date()),
        ),
        "invoice_date",
        rates,
    )
    return _in_usd(converted, "subtotal", "discount_total", "tax", "total", "amount_paid", "amount_refunded")


def invoice_lines(bronze: ir.Table, rates: ir.Table) -> ir.Table:
    """Lines with their service period [service_start, service_end): the end is exclusive.

    `service_days` is the period's exact length in days (fractional for a proration that starts mid-day),
    so the part recognized in a month is amount × (overlap of the period with the month) / service_days,
    both measured the same way. A line is created with its invoice, so its own `created_at` is the
    invoice's day.
    """
    current = current_rows(bronze)
    length = current.period_end.delta(current.period_start, unit="microsecond")
    converted = with_usd_rate(
        current.select(
            "id",
            "invoice_id",
            "subscription_id",
            "plan_id",
            "product",
            "kind",
            "quantity",
            "created_at",
            "updated_at",
            "_batch_id",
            currency=current.currency.strip(),
            unit_amount=major(current.unit_amount),
            amount=major(current.amount),
            discount_amount=major(current.discount_amount),
            net_amount=major(current.amount - current.discount_amount),
            service_start=current.period_start,
            service_end=current.period_end,
            service_days=length.cast("float64") / MICROSECONDS_PER_DAY,
            invoice_date=current.created_at.date(),
            invoice_month=month_of(current.created_at.date()),
        ),
        "invoice_date",
        rates,
    )
    return _in_usd(converted, "unit_amount", "amount", "discount_amount", "net_amount")


def payments(bronze: ir.Table, rates: ir.Table) -> ir.Table:
    """Payment attempts; `fee` is charged on succeeded ones only (0 on failures)."""
    current = current_rows(bronze)
    converted = with_usd_rate(
        current.select(
            "id",
            "invoice_id",
            "user_id",
            "status",
            "failure_code",
            "attempt",
            "created_at",
            "updated_at",
            "_batch_id",
            currency=current.currency.strip(),
            amount=major(current.amount),
            fee=major(current.fee),
            payment_date=current.created_at.date(),
            payment_month=month_of(current.created_at.date()),
        ),
        "payment_date",
        rates,
    )
    return _in_usd(converted, "amount", "fee")


def refunds(bronze: ir.Table, rates: ir.Table) -> ir.Table:
    """Refunds at the rate of the refund's own day; `revenue_amount` is the revenue it reverses."""
    current = current_rows(bronze)
    converted = with_usd_rate(
        current.select(
            "id",
            "payment_id",
            "invoice_id",
            "invoice_line_id",
            "user_id",
            "reason",
            "created_at",
            "updated_at",
            "_batch_id",
            currency=current.currency.strip(),
            amount=major(current.amount),
            tax_amount=major(current.tax_amount),
            revenue_amount=major(current.amount - current.tax_amount),
            refund_date=current.created_at.date(),
            refund_month=month_of(current.created_at.date()),
        ),
        "refund_date",
        rates,
    )
    return _in_usd(converted, "amount", "tax_amount", "revenue_amount")


def _by_id(source: str, day: str) -> Incremental:
    # Every extracted version of a changed id is re-read; FX rates, a lookup, are read whole, and a rate
    # that arrives or changes rebuilds the rows of its day and after (the as-of rate may be that one).
    return Incremental(
        "id",
        driver=source,
        filters={source: "id"},
        lookups={"silver/fx_rates": Lookup("rate_date", day, onwards=True)},
    )


def _table(name: str, build: Callable[..., ir.Table], description: str, day: str) -> SilverTable:
    source = f"bronze/pg_{name}"
    return SilverTable(
        f"silver/{name}",
        (source, "silver/fx_rates"),
        build,
        description=description,
        keys=("id",),
        # A row's month never changes (it is the month of its creation): MERGE matches within it.
        partition_by=(day.replace("_date", "_month"),),
        incremental=_by_id(source, day),
    )


TABLES = (
    _table(
        "invoices",
        invoices,
        "Current invoices in major units and in USD at the rate of the invoice's day.",
        "invoice_date",
    ),
    _table(
        "invoice_lines",
        invoice_lines,
        "Current invoice lines with net amount and service period [start, end), in USD at the invoice's day.",
        "invoice_date",
    ),
    _table(
        "payments",
        payments,
        "Payment attempts with fees, in USD at the rate of the payment's day.",
        "payment_date",
    ),
    _table(
        "refunds",
        refunds,
        "Refunds with the revenue they reverse, in USD at the rate of the refund's day.",
        "refund_date",
    ),
)
