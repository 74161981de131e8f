"""A small deterministic business world: the three products, their visitors, users and subscriptions.

The same seed gives the same world, byte for byte. The simulator writes what real sources would hold
(event files, operational rows, CSV exports) and, separately, the ground truth it used, so tests can
check the marts without trusting the pipeline.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone

PRODUCTS = ("courses", "marketing", "documents")
CURRENCIES = ("USD", "EUR", "GBP")

# (channel, utm_source, utm_medium, campaign, referrer); the channel is what silver must derive
ACQUISITION = (
    ("paid_search", "google", "cpc", "brand_search", None),
    ("paid_search", "bing", "cpc", "generic_ai_tools", None),
    ("paid_social", "linkedin", "paid_social", "founders_q1", None),
    ("paid_social", "facebook", "cpc", "creators_q1", None),
    ("email", "newsletter", "email", "weekly_digest", None),
    ("affiliate", "partnerhub", "affiliate", "partner_launch", None),
    ("organic_search", None, None, None, "https://www.google.com/"),
    ("referral", None, None, None, "https://news.ycombinator.com/item"),
    ("direct", None, None, None, None),
)
PAID_CAMPAIGNS = {(c[0], c[3]) for c in ACQUISITION if c[0] in ("paid_search", "paid_social", "affiliate")}

# event types that show a person using a product (the rest are passive and do not make anyone active)
ACTIVITY = {
    "courses": ("lesson_started", "lesson_completed", "video_heartbeat", "quiz_attempted"),
    "marketing": ("content_generated", "content_scheduled"),
    "documents": ("document_generated", "document_exported"),
}
PASSIVE = ("notification_received",)

PLANS = (
    # id, product, name, interval, interval_count, unit_amount (minor units), currency
    ("plan_courses_m_usd", "courses", "Learner monthly", "month", 1, 2900, "USD"),
    ("plan_courses_y_usd", "courses", "Learner annual", "year", 1, 29000, "USD"),
    ("plan_courses_m_eur", "courses", "Learner monthly", "month", 1, 2700, "EUR"),
    ("plan_marketing_m_usd", "marketing", "Studio monthly", "month", 1, 9900, "USD"),
    ("plan_marketing_m_gbp", "marketing", "Studio monthly", "month", 1, 7900, "GBP"),
    ("plan_marketing_y_eur", "marketing", "Studio annual", "year", 1, 99000, "EUR"),
    ("plan_documents_w_usd", "documents", "Docs weekly", "week", 2, 1500, "USD"),
    ("plan_documents_m_eur", "documents", "Docs monthly", "month", 1, 1900, "EUR"),
)
INTERVAL_MONTHS = {"month": 1.0, "year": 12.0, "week": 12.0 / 52.0}


@dataclass(frozen=True)
class User:
    id: str
    anonymous_id: str
    email: str
    country: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Subscription:
    id: str
    user_id: str
    plan_id: str
    quantity: int
    status: str
    trial_end: datetime | None
    started_at: datetime
    ended_at: datetime | None
    updated_at: datetime


@dataclass
class World:
    seed: int
    start: date
    days: int
    users: list[User] = field(default_factory=list)
    subscriptions: list[Subscription] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)  # true events, one per event_id
    duplicates: list[dict] = field(default_factory=list)  # re-sent copies, as real trackers do
    malformed_lines: dict[date, list[str]] = field(default_factory=dict)
    ad_spend: list[dict] = field(default_factory=list)
    fx_rates: list[dict] = field(default_factory=list)

    @property
    def end(self) -> date:
        return self.start + timedelta(days=self.days - 1)

    @property
    def plans(self) -> list[dict]:
        keys = ("id", "product", "name", "interval", "interval_count", "unit_amount", "currency")
        return [dict(zip(keys, plan, strict=True)) for plan in PLANS]


class _Ids:
    def __init__(self, rng: random.Random) -> None:
        self._rng = rng

    def uuid(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))


def _at(day: date, rng: random.Random) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(seconds=rng.randrange(86_400))


def _stamp(moment: datetime, rng: random.Random) -> str:
    # Trackers send local offsets; the instant is what matters.
    offset = rng.choice((0, 0, 0, 1, -5, 5.5))
    zone = timezone(timedelta(hours=offset))
    return moment.astimezone(zone).isoformat(timespec="milliseconds")


def simulate(seed: int = 7, users: int = 300, start: date = date(2026, 1, 24), days: int = 14) -> World:
    rng = random.Random(seed)
    ids = _Ids(rng)
    world = World(seed=seed, start=start, days=days)
    history_start = start - timedelta(days=150)
    _fx(world, rng, history_start)
    _spend(world, rng)

    for n in range(users):
        anonymous_id = "anon_" + ids.uuid()[:12]
        existing = rng.random() < 0.25  # signed up before the window, may already pay
        if existing:
            created = _at(history_start + timedelta(days=rng.randrange(140)), rng)
        else:
            first_visit = start + timedelta(days=rng.randrange(days))
            visit_days = sorted(
                {first_visit + timedelta(days=rng.randrange(4)) for _ in range(rng.randint(1, 3))}
            )
            visit_days = [d for d in visit_days if d <= world.end]
            signup_visit = None
            for day in visit_days:
                moment = _visit(world, rng, ids, anonymous_id, day)
                if signup_visit is None and rng.random() < 0.45:
                    signup_visit = moment
            if signup_visit is None:
                continue
            created = signup_visit + timedelta(minutes=rng.randint(1, 20))
        user = User(
            id=f"user_{n:05d}",
            anonymous_id=anonymous_id,
            email=f"person{n}@example.com",
            country=rng.choice(("US", "DE", "GB", "FR", "IN")),
            created_at=created,
            updated_at=created,
        )
        world.users.append(user)
        if not existing:
            _event(world, rng, ids, "signup", rng.choice(PRODUCTS), created, user.id, anonymous_id, {})
        _activity(world, rng, ids, user)
        _subscribe(world, rng, ids, user)

    _dirt(world, rng)
    world.events.sort(key=lambda e: (e["_instant"], e["event_id"]))
    return world


def _fx(world: World, rng: random.Random, first: date) -> None:
    rate = {"USD": 1.0, "EUR": 1.08, "GBP": 1.27}
    day = first
    while day <= world.end:
        for currency in CURRENCIES:
            if currency != "USD":
                rate[currency] = round(rate[currency] * (1 + rng.uniform(-0.004, 0.004)), 6)
            world.fx_rates.append({"date": day, "currency": currency, "rate_to_usd": rate[currency]})
        day += timedelta(days=1)


def _spend(world: World, rng: random.Random) -> None:
    for offset in range(world.days):
        day = world.start + timedelta(days=offset)
        for channel, campaign in sorted(PAID_CAMPAIGNS):
            currency = "EUR" if channel == "paid_social" else "USD"
            amount = round(rng.uniform(40, 400), 2)
            world.ad_spend.append(
                {
                    "date": day,
                    "channel": channel,
                    "campaign": campaign,
                    "currency": currency,
                    "amount": amount,
                }
            )


def _visit(world: World, rng: random.Random, ids: _Ids, anonymous_id: str, day: date) -> datetime:
    channel, source, medium, campaign, referrer = rng.choice(ACQUISITION)
    context = {"device": rng.choice(("desktop", "mobile", "tablet"))}
    if source:
        context |= {"utm_source": source, "utm_medium": medium, "utm_campaign": campaign}
    if referrer:
        context["referrer"] = referrer
    moment = _at(day, rng)
    product = rng.choice(PRODUCTS)
    _event(world, rng, ids, "page_view", product, moment, None, anonymous_id, {"path": "/"}, context)
    world.events[-1]["_channel"] = channel
    return moment


def _activity(world: World, rng: random.Random, ids: _Ids, user: User) -> None:
    uses = [p for p in PRODUCTS if rng.random() < 0.5] or [rng.choice(PRODUCTS)]
    for offset in range(world.days):
        day = world.start + timedelta(days=offset)
        day_start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        if day_start + timedelta(days=1) <= user.created_at:
            continue
        if rng.random() < 0.3:
            moment = max(_at(day, rng), user.created_at + timedelta(seconds=1))
            if moment.date() == day:
                _event(
                    world, rng, ids, "notification_received", rng.choice(PRODUCTS), moment, user.id, None, {}
                )
        for product in uses:
            if rng.random() >= 0.35:
                continue
            moment = max(_at(day, rng), user.created_at + timedelta(seconds=1))
            if moment.date() != day:
                continue
            for _ in range(rng.randint(1, 3)):
                event_type = rng.choice(ACTIVITY[product])
                props = _properties(event_type, rng)
                _event(world, rng, ids, event_type, product, moment, user.id, user.anonymous_id, props)
                moment += timedelta(seconds=rng.randint(10, 600))
                if moment.date() != day:
                    break


def _properties(event_type: str, rng: random.Random) -> dict:
    if event_type.startswith("lesson") or event_type == "video_heartbeat":
        return {"course_id": f"course_{rng.randint(1, 4)}", "lesson_id": f"lesson_{rng.randint(1, 8)}"}
    if event_type == "quiz_attempted":
        return {"quiz_id": f"quiz_{rng.randint(1, 6)}", "score": round(rng.random(), 2)}
    if event_type == "content_generated":
        return {"model": rng.choice(("gpt-4o-mini", "claude-haiku")), "tokens": rng.randint(200, 3000)}
    if event_type == "document_exported":
        return {"format": rng.choice(("pdf", "docx", "md"))}
    return {}


def _subscribe(world: World, rng: random.Random, ids: _Ids, user: User) -> None:
    if rng.random() >= 0.4:
        return
    plan = rng.choice(PLANS)
    started = user.created_at + timedelta(days=rng.randint(0, 20), hours=rng.randint(0, 23))
    last_moment = datetime(world.end.year, world.end.month, world.end.day, 23, 59, tzinfo=UTC)
    if started > last_moment:
        return
    trial_end = started + timedelta(days=14) if rng.random() < 0.3 else None
    ended = None
    if rng.random() < 0.25:
        ended = started + timedelta(days=rng.randint(10, 120))
        if ended > last_moment:
            ended = None
    world.subscriptions.append(
        Subscription(
            id="sub_" + ids.uuid()[:12],
            user_id=user.id,
            plan_id=plan[0],
            quantity=rng.choice((1, 1, 1, 2, 5)),
            status="canceled"
            if ended
            else ("trialing" if trial_end and trial_end > last_moment else "active"),
            trial_end=trial_end,
            started_at=started,
            ended_at=ended,
            updated_at=ended or started,
        )
    )


def _event(
    world: World,
    rng: random.Random,
    ids: _Ids,
    event_type: str,
    product: str,
    moment: datetime,
    user_id: str | None,
    anonymous_id: str | None,
    properties: dict,
    context: dict | None = None,
) -> None:
    world.events.append(
        {
            "event_id": ids.uuid(),
            "event_type": event_type,
            "product": product,
            "occurred_at": _stamp(moment, rng),
            "user_id": user_id,
            "anonymous_id": anonymous_id,
            "context": context or {"device": rng.choice(("desktop", "mobile"))},
            "properties": properties,
            "schema_version": 1,
            "_instant": moment,
        }
    )


def _dirt(world: World, rng: random.Random) -> None:
    for event in world.events:
        if rng.random() < 0.03:
            world.duplicates.append(event)
    for offset in range(0, world.days, 3):
        day = world.start + timedelta(days=offset)
        world.malformed_lines[day] = ['{"event_id": "broken", "event_type": ', "not json at all"]
