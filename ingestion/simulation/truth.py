"""The ground truth, accumulated day by day from the simulator's own state (never from its files).

Event metrics count each event once, on the UTC day of the time its line reports, from the day its first
copy is delivered: duplicates, malformed lines and quarantined lines never count, and an event still in
flight when the window ends (a late one) does not count yet. Formulas follow METRICS.md.
"""

from __future__ import annotations

import calendar
from collections import defaultdict, deque
from datetime import date, timedelta
from typing import Protocol

from ingestion.simulation.clock import MS_DAY, day_ms, day_of, iso, ordinal_of
from ingestion.simulation.config import PASSIVE, PRODUCTS, SimConfig
from ingestion.simulation.events import Event

LATE_DAYS = 8  # a day's event counts are final this many days later (7 days late, plus clock skew)
WINDOW_MS = 30 * MS_DAY  # attribution look-back
VALUE_MS = 90 * MS_DAY  # conversion value window

COLUMNS = {
    "active_users": ("activity_date", "product", "dau", "wau", "mau", "stickiness"),
    "touchpoints": ("touch_date", "channel", "touchpoints"),
    "spend": ("spend_date", "channel", "spend_usd"),
    "mrr": ("customer_id", "month", "mrr", "discounted_mrr"),
    "mrr_movements": ("customer_id", "month", "movement", "amount", "mrr", "previous_mrr"),
    "conversions": (
        "conversion_id",
        "conversion_type",
        "user_id",
        "anonymous_id",
        "converted_at",
        "conversion_date",
        "value_usd",
        "window_open",
        "touches",
    ),
    "conversion_touches": (
        "conversion_id",
        "conversion_type",
        "touch_event_id",
        "touched_at",
        "channel",
        "campaign",
        "first_touch",
        "last_touch",
        "linear",
        "position_based",
        "time_decay",
    ),
    "recognized_revenue": (
        "month",
        "product",
        "currency",
        "billed",
        "recognized",
        "deferred",
        "billed_usd",
        "recognized_usd",
        "deferred_usd",
    ),
    "completion": (
        "enrollment_id",
        "user_id",
        "course_id",
        "completion_rule",
        "enrolled_at",
        "required_lessons",
        "required_completed",
        "final_passed",
        "completed_at",
        "days_to_complete",
        "completed_within_90_days",
    ),
}


class TruthSink(Protocol):
    def emit(self, table: str, row: dict) -> None: ...


class MemoryTruth:
    def __init__(self) -> None:
        self.tables: dict[str, list[dict]] = {name: [] for name in COLUMNS}

    def emit(self, table: str, row: dict) -> None:
        self.tables[table].append(row)


class Conversion:
    __slots__ = ("id", "kind", "user_id", "anon", "at", "value", "touches")

    def __init__(self, id: str, kind: str, user_id: str, anon: str, at: int) -> None:
        self.id = id
        self.kind = kind
        self.user_id = user_id
        self.anon = anon
        self.at = at
        self.value = 0.0
        self.touches: list[tuple] | None = None


def weights(touches: list[tuple], at: int) -> list[tuple[float, float, float, float, float]]:
    """(first, last, linear, position-based, time-decay) weight of each touch, each summing to 1."""
    n = len(touches)
    decay = [2 ** (-(at - t[0]) / (7 * MS_DAY)) for t in touches]
    total = sum(decay)
    out = []
    for i in range(n):
        if n == 1:
            position = 1.0
        elif n == 2:
            position = 0.5
        else:
            position = 0.4 if i in (0, n - 1) else 0.2 / (n - 2)
        out.append((float(i == 0), float(i == n - 1), 1 / n, position, decay[i] / total))
    return out


class Truth:
    def __init__(self, config: SimConfig, sink: TruthSink) -> None:
        self.config = config
        self.sink = sink
        self.first = config.start.toordinal()
        self.last = config.end.toordinal()
        self.next_day = self.first  # the first window day whose rows are not out yet
        self.active: dict[int, dict[str, set[str]]] = defaultdict(
            lambda: {p: set() for p in (*PRODUCTS, "all")}
        )
        self.touch_counts: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.touches: dict[str, list[tuple]] = defaultdict(
            list
        )  # anonymous id → [(ms, id, channel, campaign)]
        self.last_mrr: dict[str, float] = {}
        self.ever_paid: set[str] = set()
        self.capturing: deque[Conversion] = deque()  # conversions waiting for their late touches
        self.valuing: deque[Conversion] = deque()  # paid conversions inside their 90-day value window
        self.open_value: dict[str, list[Conversion]] = defaultdict(list)
        self.spend_today: dict[tuple[date, str], float] = {}
        self.revenue_months: dict[tuple[date, str, str], list[float]] = defaultdict(lambda: [0.0] * 4)

    # -- events ---------------------------------------------------------------------------------
    def delivered(self, event: Event, reported: int) -> None:
        day = ordinal_of(reported)
        if event.user_id is not None and event.type not in PASSIVE:
            sets = self.active[day]
            sets[event.product].add(event.user_id)
            sets["all"].add(event.user_id)
        if event.type == "page_view":
            self.touch_counts[day][event.channel] += 1  # type: ignore[index]
            campaign = event.context.get("utm_campaign")
            self.touches[event.anon].append((reported, event.id, event.channel, campaign))  # type: ignore[index]

    def _emit_day(self, day: int) -> None:
        when = date.fromordinal(day)
        for product in (*PRODUCTS, "all"):
            dau = len(self.active[day][product]) if day in self.active else 0
            wau = len(
                set().union(*(self.active[d][product] for d in range(day - 6, day + 1) if d in self.active))
            )
            mau = len(
                set().union(*(self.active[d][product] for d in range(day - 27, day + 1) if d in self.active))
            )
            self.sink.emit(
                "active_users",
                {
                    "activity_date": when,
                    "product": product,
                    "dau": dau,
                    "wau": wau,
                    "mau": mau,
                    "stickiness": dau / mau if mau else None,
                },
            )
        for channel, count in sorted(self.touch_counts.pop(day, {}).items()):
            self.sink.emit("touchpoints", {"touch_date": when, "channel": channel, "touchpoints": count})

    def end_of_day(self, world) -> None:
        for (day, channel), usd in sorted(self.spend_today.items()):
            self.sink.emit("spend", {"spend_date": day, "channel": channel, "spend_usd": usd})
        self.spend_today = {}
        today = world.today.toordinal()
        while self.next_day <= min(today - LATE_DAYS, self.last):
            self._emit_day(self.next_day)
            self.next_day += 1
        for day in [d for d in self.active if d < self.next_day - 28]:
            del self.active[day]
        self._settle_conversions(world.today_ms + MS_DAY, final=False)
        if today % 7 == 0:
            horizon = world.today_ms - WINDOW_MS - LATE_DAYS * MS_DAY
            for anon in list(self.touches):
                kept = [t for t in self.touches[anon] if t[0] >= horizon]
                if kept:
                    self.touches[anon] = kept
                else:
                    del self.touches[anon]

    # -- money ----------------------------------------------------------------------------------
    def spend(self, day: date, channel: str, usd: float) -> None:
        self.spend_today[(day, channel)] = self.spend_today.get((day, channel), 0.0) + usd

    def month_end(self, world) -> None:
        """MRR of every customer at the end of today (a month's last day), and its movement."""
        end_of_day = world.today_ms + MS_DAY
        month = world.today.replace(day=1)
        for customer in world.customers:
            list_mrr = discounted = 0.0
            for contract in customer.contracts.values():
                sub = contract.sub
                if sub.ended_at is not None or sub.started_at >= end_of_day:
                    continue
                if sub.trial_end is not None and sub.trial_end >= end_of_day:
                    continue
                plan = sub.plan
                fx = world.fx[plan.currency]
                monthly = plan.unit_amount / 100 * sub.quantity / plan.months
                list_mrr += monthly * fx
                discount = contract.discount
                if (
                    discount is not None
                    and discount.recurring
                    and discount.starts_at < end_of_day
                    and (discount.ends_at is None or discount.ends_at >= end_of_day)
                ):
                    percent, fixed, _, _ = discount.terms
                    if percent is not None:
                        monthly *= 1 - percent / 100
                    else:
                        monthly = max(0.0, monthly - fixed / 100 / plan.months)
                discounted += monthly * fx
            user_id = customer.user.id
            self.sink.emit(
                "mrr", {"customer_id": user_id, "month": month, "mrr": list_mrr, "discounted_mrr": discounted}
            )
            previous = self.last_mrr.get(user_id, 0.0)
            self.last_mrr[user_id] = list_mrr
            movement = None
            if list_mrr > 0 and previous == 0:
                movement = "reactivation" if user_id in self.ever_paid else "new"
            elif list_mrr > 0 and previous > 0 and list_mrr != previous:
                movement = "expansion" if list_mrr > previous else "contraction"
            elif list_mrr == 0 and previous > 0:
                movement = "churn"
            if list_mrr > 0:
                self.ever_paid.add(user_id)
            if movement is not None:
                self.sink.emit(
                    "mrr_movements",
                    {
                        "customer_id": user_id,
                        "month": month,
                        "movement": movement,
                        "amount": abs(list_mrr - previous),
                        "mrr": list_mrr,
                        "previous_mrr": previous,
                    },
                )

    def cash(self, user, currency: str, fx: float, amount: int, at: int) -> None:
        for conversion in self.open_value.get(user.id, ()):
            if conversion.at <= at < conversion.at + VALUE_MS:
                conversion.value += amount / 100 * fx

    def revenue(
        self, product: str, currency: str, fx: float, net: int, at: int, start: int | None, end: int | None
    ):
        self._book(product, currency, fx, net, at)
        if start is None or end is None:
            self._recognize(product, currency, fx, net, at, at + 1)
        else:
            self._recognize(product, currency, fx, net, start, end)

    def reversal(self, product: str, currency: str, fx: float, amount: int, line, at: int) -> None:
        """A refund reverses revenue: first what is still to be recognized of the line, the rest at once."""
        self._book(product, currency, fx, -amount, at)
        start, end = line.period_start, line.period_end
        spread = 0
        if start is not None and end is not None and at < end:
            from_ = max(at, start)
            remaining = line.net * (end - from_) / (end - start)
            spread = min(amount, remaining)
            self._recognize(product, currency, fx, -spread, from_, end)
        if amount - spread:
            self._recognize(product, currency, fx, -(amount - spread), at, at + 1)

    def _book(self, product: str, currency: str, fx: float, amount: float, at: int) -> None:
        entry = self.revenue_months[(day_of(at).replace(day=1), product, currency)]
        entry[0] += amount / 100
        entry[2] += amount / 100 * fx

    def _recognize(self, product: str, currency: str, fx: float, amount: float, start: int, end: int) -> None:
        """Spread `amount` (minor units) evenly over [start, end), month by month."""
        length = end - start
        month = day_of(start).replace(day=1)
        while True:
            last = calendar.monthrange(month.year, month.month)[1]
            month_end_ms = day_ms(month.replace(day=last)) + MS_DAY
            part_start = max(start, day_ms(month))
            part = min(end, month_end_ms) - part_start
            if part > 0:
                share = amount * part / length / 100
                entry = self.revenue_months[(month, product, currency)]
                entry[1] += share
                entry[3] += share * fx
            if month_end_ms >= end:
                return
            month = month.replace(day=last) + timedelta(days=1)

    # -- conversions ----------------------------------------------------------------------------
    def conversion(self, customer, at: int) -> None:
        user = customer.user
        conversion = Conversion(f"cv_{user.id}_{ordinal_of(at)}", "paid", user.id, user.person.anon, at)
        self.capturing.append(conversion)
        self.valuing.append(conversion)
        self.open_value[user.id].append(conversion)

    def signup(self, world, user, rng) -> None:
        if world.in_window:
            self.capturing.append(
                Conversion(f"su_{user.id}", "signup", user.id, user.person.anon, user.created_at)
            )

    def _settle_conversions(self, now: int, final: bool) -> None:
        """Touches are taken once no late one can arrive; a paid conversion is out when its value is."""
        while self.capturing and (final or now >= self.capturing[0].at + LATE_DAYS * MS_DAY):
            conversion = self.capturing.popleft()
            low = conversion.at - WINDOW_MS
            conversion.touches = sorted(
                t for t in self.touches.get(conversion.anon, ()) if low <= t[0] <= conversion.at
            )
            if conversion.kind == "signup":
                self._emit_conversion(conversion, window_open=False)
        while self.valuing and (final or now >= self.valuing[0].at + VALUE_MS):
            conversion = self.valuing.popleft()
            self._emit_conversion(conversion, window_open=now < conversion.at + VALUE_MS)
            mine = self.open_value[conversion.user_id]
            mine.remove(conversion)
            if not mine:
                del self.open_value[conversion.user_id]

    def _emit_conversion(self, conversion: Conversion, window_open: bool) -> None:
        touches = conversion.touches or []
        self.sink.emit(
            "conversions",
            {
                "conversion_id": conversion.id,
                "conversion_type": conversion.kind,
                "user_id": conversion.user_id,
                "anonymous_id": conversion.anon,
                "converted_at": iso(conversion.at),
                "conversion_date": day_of(conversion.at),
                "value_usd": conversion.value if conversion.kind == "paid" else None,
                "window_open": window_open,
                "touches": len(touches),
            },
        )
        base = {"conversion_id": conversion.id, "conversion_type": conversion.kind}
        if not touches:
            self.sink.emit(
                "conversion_touches",
                base
                | {
                    "touch_event_id": None,
                    "touched_at": None,
                    "channel": "direct",
                    "campaign": None,
                    "first_touch": 1.0,
                    "last_touch": 1.0,
                    "linear": 1.0,
                    "position_based": 1.0,
                    "time_decay": 1.0,
                },
            )
            return
        for (t, event_id, channel, campaign), w in zip(touches, weights(touches, conversion.at), strict=True):
            self.sink.emit(
                "conversion_touches",
                base
                | {
                    "touch_event_id": event_id,
                    "touched_at": iso(t),
                    "channel": channel,
                    "campaign": campaign,
                    "first_touch": w[0],
                    "last_touch": w[1],
                    "linear": w[2],
                    "position_based": w[3],
                    "time_decay": w[4],
                },
            )

    # -- learning -------------------------------------------------------------------------------
    def completion(self, enrollment) -> None:
        """An enrollment's completion (when it completes, or at the window's end if it has not)."""
        end_ms = day_ms(self.config.end) + MS_DAY
        done = enrollment.completed_at
        days = None if done is None else (done - enrollment.enrolled_at) / MS_DAY
        if done is not None:
            within = days <= 90
        else:
            within = False if enrollment.enrolled_at + 90 * MS_DAY <= end_ms else None
        self.sink.emit(
            "completion",
            {
                "enrollment_id": enrollment.id,
                "user_id": enrollment.user.id,
                "course_id": enrollment.course.id,
                "completion_rule": enrollment.course.rule,
                "enrolled_at": iso(enrollment.enrolled_at),
                "required_lessons": enrollment.course.required,
                "required_completed": enrollment.required_completed,
                "final_passed": enrollment.final_passed,
                "completed_at": None if done is None else iso(done),
                "days_to_complete": days,
                "completed_within_90_days": within,
            },
        )

    # -- the end --------------------------------------------------------------------------------
    def finish(self, world) -> None:
        while self.next_day <= self.last:
            self._emit_day(self.next_day)
            self.next_day += 1
        self._settle_conversions(world.today_ms + MS_DAY, final=True)
        for enrollment in world.open_enrollments:
            if enrollment.completed_at is None:
                self.completion(enrollment)
        cumulative: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0] * 4)
        for (month, product, currency), (billed, recognized, billed_usd, recognized_usd) in sorted(
            self.revenue_months.items()
        ):
            if month.replace(day=calendar.monthrange(month.year, month.month)[1]) > self.config.end:
                continue
            total = cumulative[(product, currency)]
            total[0] += billed
            total[1] += recognized
            total[2] += billed_usd
            total[3] += recognized_usd
            self.sink.emit(
                "recognized_revenue",
                {
                    "month": month,
                    "product": product,
                    "currency": currency,
                    "billed": billed,
                    "recognized": recognized,
                    "deferred": total[0] - total[1],
                    "billed_usd": billed_usd,
                    "recognized_usd": recognized_usd,
                    "deferred_usd": total[2] - total[3],
                },
            )
