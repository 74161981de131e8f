"""Invoices, their lines, discounts, taxes, payments with failures and retries, and refunds.

Money is in minor units of the invoice's currency. An invoice's subtotal is the sum of its line
amounts, its total = subtotal − discount_total + tax; tax is the customer's country's rate on the
discounted subtotal. A failed payment is retried 3 days later, at most 4 attempts.
"""

from __future__ import annotations

import heapq
import random
from typing import TYPE_CHECKING

from ingestion.simulation.clock import MS_DAY, MS_SECOND, ordinal_of
from ingestion.simulation.config import TAX_RATES
from ingestion.simulation.rand import hex_id

if TYPE_CHECKING:
    from ingestion.simulation.billing import Contract
    from ingestion.simulation.people import User
    from ingestion.simulation.world import World

MAX_ATTEMPTS = 4
RETRY_AFTER = 3 * MS_DAY
FAILURE_CODES = ("card_declined", "insufficient_funds", "expired_card", "processing_error")
COUPONS = {
    # code: (percent_off, amount_off per cycle in minor units, duration, duration_in_months)
    "WELCOME20": (20.0, None, "repeating", 3),
    "LAUNCH50": (50.0, None, "once", None),
    "FRIENDS10": (10.0, None, "forever", None),
    "SAVE5": (None, 500, "repeating", 6),
    "WINBACK30": (30.0, None, "repeating", 2),
}


def schedule(world: World, at: int, action: str, subject: object, version: int = 0) -> None:
    """Put an action on the billing agenda (processed in time order on its day)."""
    entry = (at, world.next_number("agenda"), action, subject, version)
    day = ordinal_of(at)
    if day == world.today.toordinal() and world.today_heap is not None:
        heapq.heappush(world.today_heap, entry)
    else:
        world.agenda.setdefault(day, []).append(entry)


class Discount:
    TABLE = "subscription_discounts"
    __slots__ = (
        "id",
        "sub_id",
        "user_id",
        "coupon",
        "currency",
        "starts_at",
        "ends_at",
        "created_at",
        "updated_at",
    )

    def __init__(
        self, id: str, sub_id: str, user_id: str, coupon: str, currency: str, starts_at: int
    ) -> None:
        self.id = id
        self.sub_id = sub_id
        self.user_id = user_id
        self.coupon = coupon
        self.currency = currency
        self.starts_at = starts_at
        self.ends_at: int | None = None
        self.created_at = starts_at
        self.updated_at = starts_at

    @property
    def terms(self) -> tuple:
        return COUPONS[self.coupon]

    @property
    def recurring(self) -> bool:
        return self.terms[2] != "once"

    def active(self, at: int) -> bool:
        return self.starts_at <= at and (self.ends_at is None or at < self.ends_at)

    def off(self, amount: int) -> int:
        """The discount on a subscription line of `amount` (never more than the line)."""
        percent, fixed, _, _ = self.terms
        off = round(amount * percent / 100) if percent is not None else fixed
        return max(0, min(amount, off))

    def row(self) -> dict:
        percent, fixed, duration, months = self.terms
        return {
            "id": self.id,
            "subscription_id": self.sub_id,
            "user_id": self.user_id,
            "coupon_code": self.coupon,
            "percent_off": percent,
            "amount_off": fixed,
            "currency": self.currency if fixed is not None else None,
            "duration": duration,
            "duration_in_months": months,
            "starts_at": self.starts_at,
            "ends_at": self.ends_at,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "deleted_at": None,
        }


class Line:
    """An invoice line (immutable once written)."""

    __slots__ = (
        "id",
        "kind",
        "product",
        "sub_id",
        "plan_id",
        "description",
        "quantity",
        "unit_amount",
        "amount",
    )
    __slots__ += ("discount", "period_start", "period_end")

    def __init__(
        self,
        kind: str,
        product: str,
        description: str,
        quantity: int,
        unit_amount: int,
        amount: int,
        discount: int = 0,
        sub_id: str | None = None,
        plan_id: str | None = None,
        period: tuple[int, int] | None = None,
    ) -> None:
        self.id = ""
        self.kind = kind
        self.product = product
        self.sub_id = sub_id
        self.plan_id = plan_id
        self.description = description
        self.quantity = quantity
        self.unit_amount = unit_amount
        self.amount = amount
        self.discount = discount
        self.period_start, self.period_end = period or (None, None)

    @property
    def net(self) -> int:
        return self.amount - self.discount


class Invoice:
    TABLE = "invoices"
    __slots__ = ("id", "user", "contract", "sub_id", "number", "currency", "status", "reason", "lines")
    __slots__ += ("period_start", "period_end", "subtotal", "discount_total", "tax_rate", "tax", "total")
    __slots__ += ("amount_paid", "amount_refunded", "paid_at", "created_at", "updated_at", "payment_id")

    def row(self) -> dict:
        return {
            "id": self.id,
            "user_id": self.user.id,
            "subscription_id": self.sub_id,
            "number": self.number,
            "currency": self.currency,
            "status": self.status,
            "billing_reason": self.reason,
            "period_start": self.period_start,
            "period_end": self.period_end,
            "subtotal": self.subtotal,
            "discount_total": self.discount_total,
            "tax_rate": self.tax_rate,
            "tax": self.tax,
            "total": self.total,
            "amount_paid": self.amount_paid,
            "amount_refunded": self.amount_refunded,
            "paid_at": self.paid_at,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "deleted_at": None,
        }


def issue(
    world: World,
    rng: random.Random,
    user: User,
    contract: Contract | None,
    at: int,
    reason: str,
    lines: list[Line],
    currency: str,
) -> Invoice:
    """Write an invoice with its lines and try to collect it at once."""
    invoice = Invoice()
    invoice.id = "in_" + hex_id(rng, 16)
    invoice.user = user
    invoice.contract = contract
    invoice.sub_id = next((line.sub_id for line in lines if line.sub_id), None)
    invoice.number = f"INV-{world.next_number('invoice'):08d}"
    invoice.currency = currency
    invoice.reason = reason
    invoice.lines = lines
    periods = [line for line in lines if line.period_start is not None]
    invoice.period_start = min((line.period_start for line in periods), default=None)
    invoice.period_end = max((line.period_end for line in periods), default=None)
    invoice.subtotal = sum(line.amount for line in lines)
    invoice.discount_total = sum(line.discount for line in lines)
    invoice.tax_rate = TAX_RATES[user.country]
    invoice.tax = round(max(0, invoice.subtotal - invoice.discount_total) * invoice.tax_rate)
    invoice.total = invoice.subtotal - invoice.discount_total + invoice.tax
    invoice.amount_paid = invoice.amount_refunded = 0
    invoice.paid_at = invoice.payment_id = None
    invoice.created_at = invoice.updated_at = at
    invoice.status = "open"
    fx = world.fx[currency]
    for number, line in enumerate(lines, 1):
        line.id = f"{invoice.id}_{number}"
        world.rows.put(
            "invoice_lines",
            {
                "id": line.id,
                "invoice_id": invoice.id,
                "subscription_id": line.sub_id,
                "plan_id": line.plan_id,
                "product": line.product,
                "kind": line.kind,
                "description": line.description,
                "quantity": line.quantity,
                "unit_amount": line.unit_amount,
                "amount": line.amount,
                "discount_amount": line.discount,
                "currency": currency,
                "period_start": line.period_start,
                "period_end": line.period_end,
                "created_at": at,
                "updated_at": at,
                "deleted_at": None,
            },
        )
        world.truth.revenue(line.product, currency, fx, line.net, at, line.period_start, line.period_end)
    world.rows.touch(invoice)
    if invoice.total <= 0:
        invoice.status, invoice.paid_at = "paid", at
    else:
        attempt(world, rng, invoice, min(at + rng.randint(1, 30) * MS_SECOND, world.today_ms + MS_DAY - 1), 1)
    return invoice


def attempt(world: World, rng: random.Random, invoice: Invoice, at: int, number: int) -> None:
    """One payment attempt; a failure is retried later or, after the last, the invoice is written off."""
    chance = 0.92 if number == 1 else 0.5
    succeeded = rng.random() < chance
    payment_id = "py_" + hex_id(rng, 16)
    fee = round(invoice.total * 0.029) + 30 if succeeded else 0
    world.rows.put(
        "payments",
        {
            "id": payment_id,
            "invoice_id": invoice.id,
            "user_id": invoice.user.id,
            "amount": invoice.total,
            "currency": invoice.currency,
            "status": "succeeded" if succeeded else "failed",
            "failure_code": None if succeeded else rng.choice(FAILURE_CODES),
            "attempt": number,
            "fee": fee,
            "created_at": at,
            "updated_at": at,
            "deleted_at": None,
        },
    )
    invoice.updated_at = at
    world.rows.touch(invoice)
    if succeeded:
        invoice.status, invoice.paid_at, invoice.amount_paid, invoice.payment_id = (
            "paid",
            at,
            invoice.total,
            payment_id,
        )
        world.truth.cash(invoice.user, invoice.currency, world.fx[invoice.currency], invoice.total, at)
        if invoice.contract is not None:
            invoice.contract.paid(world, invoice, at)
        if rng.random() < 0.025:
            schedule(world, at + rng.randint(1, 20) * MS_DAY + rng.randrange(MS_DAY), "refund", invoice)
        return
    if invoice.contract is not None:
        invoice.contract.payment_failed(world, invoice, at, final=number >= MAX_ATTEMPTS)
    if number >= MAX_ATTEMPTS:
        invoice.status = "uncollectible"
    else:
        schedule(world, at + RETRY_AFTER, "retry", invoice, number + 1)


def refund(
    world: World,
    rng: random.Random,
    invoice: Invoice,
    at: int,
    line: Line | None = None,
    revenue: int | None = None,
    reason: str = "subscription_canceled",
) -> int:
    """Refund part of a paid invoice against one line; returns the cash returned (tax included).

    Without a line, the customer asked for money back: the largest line, in full or in half.
    """
    if invoice.status != "paid" or invoice.payment_id is None:
        return 0
    if line is None:
        line = max(invoice.lines, key=lambda candidate: candidate.net)
        revenue = line.net if rng.random() < 0.6 else line.net // 2
        reason = rng.choices(("requested_by_customer", "duplicate", "fraudulent"), (8, 1, 1))[0]
    assert revenue is not None
    tax = round(revenue * invoice.tax_rate)
    amount = min(revenue + tax, invoice.amount_paid - invoice.amount_refunded)
    if amount <= 0:
        return 0
    tax = min(tax, amount)
    world.rows.put(
        "refunds",
        {
            "id": "re_" + hex_id(rng, 16),
            "payment_id": invoice.payment_id,
            "invoice_id": invoice.id,
            "invoice_line_id": line.id,
            "user_id": invoice.user.id,
            "amount": amount,
            "tax_amount": tax,
            "currency": invoice.currency,
            "reason": reason,
            "created_at": at,
            "updated_at": at,
            "deleted_at": None,
        },
    )
    invoice.amount_refunded += amount
    invoice.updated_at = at
    world.rows.touch(invoice)
    fx = world.fx[invoice.currency]
    world.truth.cash(invoice.user, invoice.currency, fx, -amount, at)
    world.truth.reversal(line.product, invoice.currency, fx, amount - tax, line, at)
    return amount
