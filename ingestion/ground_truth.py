"""What the marts must say, computed straight from the simulated world (never from the pipeline).

The formulas follow METRICS.md, written here a second time on purpose and in another language, so a
mistake in the dbt models shows up as a difference.
"""

from __future__ import annotations

import calendar
import csv
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from ingestion.simulator import INTERVAL_MONTHS, PASSIVE, PLANS, PRODUCTS, World


def _fx(world: World) -> dict[tuple[date, str], float]:
    return {(r["date"], r["currency"]): r["rate_to_usd"] for r in world.fx_rates}


def active_users(world: World) -> list[dict]:
    """DAU, WAU (trailing 7 days) and MAU (trailing 28 days) per day and product, and platform-wide."""
    active: dict[tuple[str, date], set[str]] = defaultdict(set)
    for event in world.events:
        if event["user_id"] and event["event_type"] not in PASSIVE:
            day = event["_instant"].date()
            active[(event["product"], day)].add(event["user_id"])
            active[("all", day)].add(event["user_id"])
    rows = []
    for product in (*PRODUCTS, "all"):
        for offset in range(world.days):
            day = world.start + timedelta(days=offset)

            def trailing(n: int, product: str = product, day: date = day) -> set[str]:
                return set().union(*(active[(product, day - timedelta(days=k))] for k in range(n)))

            dau, wau, mau = len(active[(product, day)]), len(trailing(7)), len(trailing(28))
            rows.append(
                {
                    "activity_date": day,
                    "product": product,
                    "dau": dau,
                    "wau": wau,
                    "mau": mau,
                    "stickiness": dau / mau if mau else None,
                }
            )
    return rows


def _month_ends(first: date, last: date) -> list[date]:
    ends, year, month = [], first.year, first.month
    while True:
        end = date(year, month, calendar.monthrange(year, month)[1])
        if end > last:
            return ends
        ends.append(end)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def mrr(world: World) -> list[dict]:
    """MRR in USD per customer and month: month-end snapshot of the subscriptions active that day."""
    plans = {p[0]: p for p in PLANS}
    fx = _fx(world)
    by_customer = defaultdict(list)
    for sub in world.subscriptions:
        by_customer[sub.user_id].append(sub)
    rows = []
    for customer, subs in sorted(by_customer.items()):
        first = min(s.started_at for s in subs).date()
        for month_end in _month_ends(first, world.end):
            end_of_day = datetime(month_end.year, month_end.month, month_end.day, tzinfo=UTC) + timedelta(
                days=1
            )
            total = 0.0
            for s in subs:
                running = s.started_at < end_of_day and (s.ended_at is None or s.ended_at >= end_of_day)
                paying = s.trial_end is None or s.trial_end < end_of_day
                if running and paying:
                    _, _, _, interval, count, unit_amount, currency = plans[s.plan_id]
                    monthly = unit_amount / 100 * s.quantity / (INTERVAL_MONTHS[interval] * count)
                    total += monthly * fx[(month_end, currency)]
            rows.append({"customer_id": customer, "month": month_end.replace(day=1), "mrr": total})
    return rows


def spend(world: World) -> list[dict]:
    fx = _fx(world)
    totals: dict[tuple[date, str], float] = defaultdict(float)
    for row in world.ad_spend:
        totals[(row["date"], row["channel"])] += row["amount"] * fx[(row["date"], row["currency"])]
    return [{"spend_date": d, "channel": c, "spend_usd": v} for (d, c), v in sorted(totals.items())]


def touchpoints(world: World) -> list[dict]:
    counts: dict[tuple[date, str], int] = defaultdict(int)
    for event in world.events:
        if "_channel" in event:
            counts[(event["_instant"].date(), event["_channel"])] += 1
    return [{"touch_date": d, "channel": c, "touchpoints": n} for (d, c), n in sorted(counts.items())]


def write_ground_truth(world: World, folder: Path) -> dict[str, int]:
    folder.mkdir(parents=True, exist_ok=True)
    tables = {
        "active_users": active_users(world),
        "mrr": mrr(world),
        "spend": spend(world),
        "touchpoints": touchpoints(world),
    }
    for name, rows in tables.items():
        with (folder / f"{name}.csv").open("w", newline="") as out:
            writer = csv.DictWriter(out, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    return {name: len(rows) for name, rows in tables.items()}
