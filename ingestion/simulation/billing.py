"""Subscriptions: trials, plans, upgrades, downgrades, quantity changes, cancellations, reactivations.

A customer holds at most one running `subscriptions` row per product. A plan or quantity change ends
the running row (ended_at = the change) and starts a new one at the same instant, so the MRR at a
month end is Σ over rows running at the end of that day, trial over, of unit_amount × quantity per
month. Upgrades (and more seats) apply at once with a proration credit for the unused time and a new
billing cycle; downgrades (and fewer seats) wait for the end of the cycle. Cancellation is at the end of
the cycle, or at once with a refund of the unused time.
"""

from __future__ import annotations

import heapq
import random

from ingestion.simulation import invoicing
from ingestion.simulation.catalog import Plan, plans_for
from ingestion.simulation.clock import MS_DAY, MS_HOUR, add_months, to_datetime
from ingestion.simulation.invoicing import Discount, Invoice, Line, schedule
from ingestion.simulation.people import User
from ingestion.simulation.rand import hex_id
from ingestion.simulation.world import World

TRIAL_DAYS = {"courses": 7, "marketing": 14, "documents": 7}
SUBSCRIBE_AFTER_SIGNUP = {"courses": 0.16, "marketing": 0.22, "documents": 0.18}
TRIAL_SHARE = 0.6
TRIAL_CONVERSION = 0.55
REACTIVATION = 0.2


def next_period_end(plan: Plan, start: int, anchor_day: int) -> int:
    if plan.interval == "week":
        return start + 7 * plan.interval_count * MS_DAY
    return add_months(start, int(plan.months), anchor_day)


class Sub:
    """One row of the subscriptions table."""

    TABLE = "subscriptions"
    __slots__ = ("id", "user_id", "plan", "quantity", "status", "trial_end", "started_at", "ended_at")
    __slots__ += ("updated_at", "period_start", "period_end", "cancel_at", "canceled_at", "end_reason")
    __slots__ += ("replaces",)

    def __init__(self, id: str, user_id: str, plan: Plan, quantity: int, started_at: int) -> None:
        self.id = id
        self.user_id = user_id
        self.plan = plan
        self.quantity = quantity
        self.status = "active"
        self.trial_end: int | None = None
        self.started_at = started_at
        self.ended_at: int | None = None
        self.updated_at = started_at
        self.period_start = started_at
        self.period_end = started_at
        self.cancel_at: int | None = None
        self.canceled_at: int | None = None
        self.end_reason: str | None = None
        self.replaces: str | None = None

    def row(self) -> dict:
        return {
            "id": self.id,
            "user_id": self.user_id,
            "plan_id": self.plan.id,
            "quantity": self.quantity,
            "status": self.status,
            "trial_end": self.trial_end,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "updated_at": self.updated_at,
            "deleted_at": None,
            "created_at": self.started_at,
            "current_period_start": self.period_start,
            "current_period_end": self.period_end,
            "cancel_at": self.cancel_at,
            "canceled_at": self.canceled_at,
            "end_reason": self.end_reason,
            "replaces_subscription_id": self.replaces,
        }

    def monthly(self) -> float:
        """List MRR of the row in minor units of its plan's currency."""
        return self.plan.monthly(self.quantity)


class Customer:
    """A user who has subscribed at least once: their currency and one contract per product."""

    __slots__ = ("user", "currency", "contracts", "paying", "ever_paid", "paid_until", "rows")

    def __init__(self, user: User) -> None:
        self.user = user
        self.currency = user.currency
        self.contracts: dict[str, Contract] = {}
        self.paying = 0  # running rows with the trial over
        self.ever_paid = False
        self.paid_until: int | None = None  # when the customer last stopped paying
        self.rows: list[Sub] = []  # every subscriptions row, in start order

    def running(self) -> bool:
        return any(c.sub.ended_at is None for c in self.contracts.values())


class Contract:
    """A customer's subscription to one product: a chain of subscriptions rows over time."""

    __slots__ = ("customer", "product", "sub", "version", "discount", "pending", "last_line", "last_invoice")
    __slots__ += ("paying",)

    def __init__(self, customer: Customer, product: str) -> None:
        self.customer = customer
        self.product = product
        self.sub: Sub = None  # type: ignore[assignment]
        self.version = 0
        self.discount: Discount | None = None
        self.pending: tuple[Plan, int, str] | None = None  # a change waiting for the cycle's end
        self.last_line: Line | None = None  # the subscription line of the current cycle
        self.last_invoice: Invoice | None = None
        self.paying = False  # the trial is over and the product is paid for

    # -- rows -----------------------------------------------------------------------------------
    def new_row(self, world: World, rng: random.Random, plan: Plan, quantity: int, at: int) -> Sub:
        sub = Sub("sub_" + hex_id(rng, 14), self.customer.user.id, plan, quantity, at)
        self.sub = sub
        self.version += 1
        self.customer.rows.append(sub)
        world.rows.touch(sub)
        return sub

    def end_row(self, world: World, at: int, reason: str) -> None:
        sub = self.sub
        sub.ended_at = sub.updated_at = at
        sub.status = "canceled"
        sub.end_reason = reason
        if sub.canceled_at is None and reason not in ("plan_change", "quantity_change"):
            sub.canceled_at = at
        self.version += 1
        world.rows.touch(sub)
        if self.discount is not None and (self.discount.ends_at is None or self.discount.ends_at > at):
            self.discount.ends_at = self.discount.updated_at = at
            world.rows.touch(self.discount)

    # -- billing cycles -------------------------------------------------------------------------
    def start_cycle(
        self, world: World, rng: random.Random, at: int, reason: str, extra: list[Line] = ()
    ) -> None:
        """Bill the cycle starting at `at` and plan what happens before it ends."""
        sub = self.sub
        anchor = to_datetime(at).day  # type: ignore[union-attr]
        sub.period_start, sub.period_end = at, next_period_end(sub.plan, at, anchor)
        sub.updated_at = at
        world.rows.touch(sub)
        plan = sub.plan
        amount = plan.unit_amount * sub.quantity
        off = 0
        if self.discount is not None and self.discount.active(at):
            off = self.discount.off(amount)
            if not self.discount.recurring:
                self.discount.ends_at = self.discount.updated_at = at + 1
                world.rows.touch(self.discount)
        line = Line(
            "subscription",
            self.product,
            f"{plan.name} × {sub.quantity}",
            sub.quantity,
            plan.unit_amount,
            amount,
            off,
            sub.id,
            plan.id,
            (sub.period_start, sub.period_end),
        )
        lines = [*extra, line]
        # a proration credit larger than the new cycle's charge would leave a negative invoice
        net = sum(x.net for x in lines)
        if net < 0:
            line.discount = max(0, line.discount + net)
        self.last_line = line
        self.last_invoice = invoicing.issue(
            world, rng, self.customer.user, self, at, reason, lines, plan.currency
        )
        schedule(world, sub.period_end, "renew", self, self.version)
        self.plan_cycle(world, rng)

    def plan_cycle(self, world: World, rng: random.Random) -> None:
        """Draw what the customer does during this cycle (at most one thing)."""
        sub, user = self.sub, self.customer.user
        engaged = user.engaged_until >= world.today.toordinal() + 3
        months = sub.plan.months
        cancel = (0.03 if engaged else 0.3) * min(months, 3.0) ** 0.5
        if months >= 12:
            cancel = 0.15 if engaged else 0.6
        draw = rng.random()
        length = sub.period_end - sub.period_start
        when = sub.period_start + int(length * rng.uniform(0.05, 0.95))
        if draw < cancel:
            schedule(world, when, "cancel", self, self.version)
        elif draw < cancel + 0.05 and engaged:
            schedule(world, when, "upgrade", self, self.version)
        elif draw < cancel + 0.08:
            schedule(world, when, "downgrade", self, self.version)
        elif draw < cancel + 0.13 and self.product != "documents":
            schedule(world, when, "seats_up", self, self.version)
        elif draw < cancel + 0.15 and sub.quantity > 1:
            schedule(world, when, "seats_down", self, self.version)

    # -- payment outcomes (called by invoicing) ------------------------------------------------------
    def paid(self, world: World, invoice: Invoice, at: int) -> None:
        if self.sub.status == "past_due" and self.sub.ended_at is None:
            self.sub.status = "active"
            self.sub.updated_at = at
            world.rows.touch(self.sub)

    def payment_failed(self, world: World, invoice: Invoice, at: int, final: bool) -> None:
        sub = self.sub
        if sub.ended_at is not None or invoice.sub_id != sub.id:
            return
        if final:
            end(world, self, at, "payment_failed")
        elif sub.status != "past_due":
            sub.status = "past_due"
            sub.updated_at = at
            world.rows.touch(sub)


# -- the agenda's actions ---------------------------------------------------------------------------
def on_signup(world: World, user: User, rng: random.Random) -> None:
    """Some new users subscribe within a few weeks (a trial first, most of them)."""
    for product in user.interests:
        if rng.random() < SUBSCRIBE_AFTER_SIGNUP[product]:
            at = user.created_at + int(rng.expovariate(1 / 5) * MS_DAY) + rng.randrange(MS_HOUR)
            trial = rng.random() < TRIAL_SHARE
            schedule(world, at, "start", (user, product, trial))


def start(world: World, rng: random.Random, at: int, user: User, product: str, trial: bool) -> None:
    if user.deleted_at is not None:
        return
    customer = user.customer
    if customer is None:
        customer = user.customer = Customer(user)
        world.customers.append(customer)
    current = customer.contracts.get(product)
    if current is not None and current.sub.ended_at is None:
        return
    returning = current is not None
    contract = customer.contracts[product] = Contract(customer, product)
    options = plans_for(product, customer.currency)
    basic = [p for p in options if p.tier == "basic"]
    pro = [p for p in options if p.tier == "pro"]
    pool = pro if pro and rng.random() < 0.22 else basic
    monthly = [p for p in pool if p.interval != "year"]
    plan = (
        rng.choice([p for p in pool if p.interval == "year"] or pool)
        if rng.random() < 0.2
        else rng.choice(monthly or pool)
    )
    quantity = 1
    if product == "marketing" and rng.random() < 0.4:
        quantity = rng.randint(2, 6)
    elif product == "courses" and rng.random() < 0.05:
        quantity = rng.randint(3, 10)
    sub = contract.new_row(world, rng, plan, quantity, at)
    coupon = None
    if returning and rng.random() < 0.4:
        coupon = "WINBACK30"
    elif not returning and rng.random() < 0.15:
        coupon = rng.choice(("WELCOME20", "LAUNCH50", "FRIENDS10", "SAVE5"))
    if coupon is not None:
        discount = Discount("di_" + hex_id(rng, 14), sub.id, user.id, coupon, plan.currency, at)
        terms = discount.terms
        if terms[2] == "repeating":
            discount.ends_at = add_months(at, terms[3], to_datetime(at).day)  # type: ignore[union-attr]
        contract.discount = discount
        world.rows.touch(discount)
    if trial and not returning:
        sub.status = "trialing"
        sub.trial_end = sub.period_end = at + TRIAL_DAYS[product] * MS_DAY
        world.rows.touch(sub)
        schedule(world, sub.trial_end, "trial_end", contract, contract.version)
        return
    begin_paying(world, rng, contract, at, "subscription_create")


def begin_paying(world: World, rng: random.Random, contract: Contract, at: int, reason: str) -> None:
    customer = contract.customer
    contract.paying = True
    customer.paying += 1
    if customer.paying == 1:
        gap = customer.paid_until is None or at - customer.paid_until >= 90 * MS_DAY
        if not customer.ever_paid or gap:
            world.truth.conversion(customer, at)
        customer.ever_paid = True
    user = customer.user
    user.engage(at, rng, loyal=rng.random() < 0.4, mean_days=120.0)
    if not user.listed:
        user.listed = True
        world.engaged.append(user)
    contract.start_cycle(world, rng, at, reason)


def stop_paying(world: World, contract: Contract, at: int) -> None:
    customer = contract.customer
    contract.paying = False
    customer.paying -= 1
    if customer.paying == 0:
        customer.paid_until = at


def end(world: World, contract: Contract, at: int, reason: str, rng: random.Random | None = None) -> None:
    """The customer's subscription to the product is over (not a plan change)."""
    contract.end_row(world, at, reason)
    if contract.paying:
        stop_paying(world, contract, at)
    rng = rng or world.rng("billing")
    if rng.random() < REACTIVATION and reason != "trial_expired":
        back = at + rng.randint(30, 200) * MS_DAY + rng.randrange(MS_DAY)
        schedule(world, back, "start", (contract.customer.user, contract.product, False))


def change(
    world: World, rng: random.Random, contract: Contract, at: int, plan: Plan, quantity: int, reason: str
) -> None:
    """End the running row and start its successor at the same instant; the discount moves along."""
    old = contract.sub
    in_trial = old.trial_end is not None and old.trial_end > at
    old_discount = contract.discount
    keep_until = old_discount.ends_at if old_discount is not None else None
    keeps = old_discount is not None and (keep_until is None or keep_until > at)
    contract.end_row(world, at, reason)
    sub = contract.new_row(world, rng, plan, quantity, at)
    sub.replaces = old.id
    contract.discount = None
    if keeps:
        assert old_discount is not None
        moved = Discount("di_" + hex_id(rng, 14), sub.id, sub.user_id, old_discount.coupon, plan.currency, at)
        moved.ends_at = keep_until
        contract.discount = moved
        world.rows.touch(moved)
    _sync_seats(world, contract, at)
    if in_trial:
        sub.status, sub.trial_end, sub.period_end = "trialing", old.trial_end, old.trial_end  # type: ignore[assignment]
        schedule(world, old.trial_end, "trial_end", contract, contract.version)  # type: ignore[arg-type]
        return
    credit: list[Line] = []
    last = contract.last_line
    if last is not None and old.period_end > at:
        unused = (old.period_end - at) / (old.period_end - old.period_start)
        amount = -round(last.net * unused)
        if amount < 0:
            credit.append(
                Line(
                    "proration",
                    contract.product,
                    f"Unused time on {old.plan.name} × {old.quantity}",
                    old.quantity,
                    old.plan.unit_amount,
                    amount,
                    0,
                    old.id,
                    old.plan.id,
                    (at, old.period_end),
                )
            )
    contract.start_cycle(world, rng, at, "subscription_update", credit)


def upgrade_target(contract: Contract) -> Plan | None:
    plan = contract.sub.plan
    options = [
        p
        for p in plans_for(contract.product, plan.currency)
        if p.currency == plan.currency and p.id != plan.id and p.months >= plan.months
    ]
    higher = [p for p in options if p.tier == "pro" and plan.tier == "basic" and p.interval == plan.interval]
    if higher:
        return higher[0]
    longer = [p for p in options if p.tier == plan.tier and p.months > plan.months]
    return longer[0] if longer else None


def downgrade_target(contract: Contract) -> Plan | None:
    plan = contract.sub.plan
    options = [p for p in plans_for(contract.product, plan.currency) if p.currency == plan.currency]
    lower = [p for p in options if plan.tier == "pro" and p.tier == "basic" and p.interval == plan.interval]
    if lower:
        return lower[0]
    shorter = [p for p in options if p.tier == plan.tier and p.months < plan.months and p.interval == "month"]
    return shorter[0] if shorter else None


def process_day(world: World) -> None:
    """Run today's agenda in time order (actions may add more for later today)."""
    rng = world.rng("billing")
    heap = world.agenda.pop(world.today.toordinal(), [])
    heapq.heapify(heap)
    world.today_heap = heap
    try:
        while heap:
            at, _, action, subject, version = heapq.heappop(heap)
            _ACTIONS[action](world, rng, at, subject, version)
    finally:
        world.today_heap = None


def _start(world: World, rng: random.Random, at: int, subject: tuple, _: int) -> None:
    user, product, trial = subject
    start(world, rng, at, user, product, trial)


def _trial_end(world: World, rng: random.Random, at: int, contract: Contract, version: int) -> None:
    if version != contract.version or contract.sub.ended_at is not None:
        return
    user = contract.customer.user
    chance = TRIAL_CONVERSION if user.engaged_until >= world.today.toordinal() else TRIAL_CONVERSION / 2
    if user.deleted_at is not None or rng.random() >= chance:
        end(world, contract, at, "trial_expired", rng)
        return
    contract.sub.status = "active"
    begin_paying(world, rng, contract, at, "subscription_create")


def _renew(world: World, rng: random.Random, at: int, contract: Contract, version: int) -> None:
    if version != contract.version or contract.sub.ended_at is not None:
        return
    sub = contract.sub
    if sub.cancel_at is not None and sub.cancel_at <= at:
        end(world, contract, at, "canceled", rng)
        return
    if contract.pending is not None:
        plan, quantity, reason = contract.pending
        contract.pending = None
        change(world, rng, contract, at, plan, quantity, reason)
        return
    contract.start_cycle(world, rng, at, "subscription_cycle")


def _cancel(world: World, rng: random.Random, at: int, contract: Contract, version: int) -> None:
    if version != contract.version or contract.sub.ended_at is not None:
        return
    sub = contract.sub
    sub.canceled_at = sub.updated_at = at
    settled = contract.last_invoice is None or contract.last_invoice.status == "paid"
    immediately = settled and rng.random() < (0.5 if sub.plan.months >= 12 else 0.12)
    if immediately:
        last, invoice = contract.last_line, contract.last_invoice
        end(world, contract, at, "canceled", rng)
        if last is not None and invoice is not None and sub.period_end > at:
            unused = (sub.period_end - at) / (sub.period_end - sub.period_start)
            invoicing.refund(world, rng, invoice, at, last, round(last.net * unused))
        return
    sub.cancel_at = sub.period_end
    world.rows.touch(sub)


def _upgrade(world: World, rng: random.Random, at: int, contract: Contract, version: int) -> None:
    if version != contract.version or contract.sub.ended_at is not None or contract.sub.status == "past_due":
        return
    target = upgrade_target(contract)
    if target is not None:
        change(world, rng, contract, at, target, contract.sub.quantity, "plan_change")


def _seats_up(world: World, rng: random.Random, at: int, contract: Contract, version: int) -> None:
    if version != contract.version or contract.sub.ended_at is not None or contract.sub.status == "past_due":
        return
    sub = contract.sub
    change(world, rng, contract, at, sub.plan, sub.quantity + rng.randint(1, 3), "quantity_change")


def _downgrade(world: World, rng: random.Random, at: int, contract: Contract, version: int) -> None:
    if version != contract.version or contract.sub.ended_at is not None:
        return
    target = downgrade_target(contract)
    if target is not None:
        contract.pending = (target, contract.sub.quantity, "plan_change")


def _seats_down(world: World, rng: random.Random, at: int, contract: Contract, version: int) -> None:
    if version != contract.version or contract.sub.ended_at is not None:
        return
    sub = contract.sub
    contract.pending = (sub.plan, max(1, sub.quantity - rng.randint(1, sub.quantity - 1)), "quantity_change")


def _retry(world: World, rng: random.Random, at: int, invoice: Invoice, number: int) -> None:
    invoicing.attempt(world, rng, invoice, at, number)


def _refund(world: World, rng: random.Random, at: int, invoice: Invoice, _: int) -> None:
    invoicing.refund(world, rng, invoice, at)


def _sync_seats(world: World, contract: Contract, at: int) -> None:
    workspace = contract.customer.user.workspace
    if contract.product == "marketing" and workspace is not None:
        workspace.seats = contract.sub.quantity
        workspace.updated_at = at
        world.rows.touch(workspace)


_ACTIONS = {
    "start": _start,
    "trial_end": _trial_end,
    "renew": _renew,
    "cancel": _cancel,
    "upgrade": _upgrade,
    "seats_up": _seats_up,
    "downgrade": _downgrade,
    "seats_down": _seats_down,
    "retry": _retry,
    "refund": _refund,
}
