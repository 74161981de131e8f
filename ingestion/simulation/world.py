"""The simulated world's state, which stays small: people, subscriptions, open invoices, enrollments.

Events are not kept: each day's events are handed to the writer at the day's end and forgotten.
"""

from __future__ import annotations

import bisect
import itertools
import random
from datetime import date, timedelta

from ingestion.simulation.catalog import Catalog, LlmPrices
from ingestion.simulation.clock import MS_DAY, MS_MINUTE, day_ms
from ingestion.simulation.config import COUNTRIES, SimConfig
from ingestion.simulation.events import Device, Event
from ingestion.simulation.rand import stream, uid
from ingestion.simulation.rows import RowSink, RowStore

# Share of a day's activity in each local hour (people sleep at night, peak mid-morning and evening).
_HOURLY = (1, 1, 1, 1, 1, 2, 3, 5, 7, 8, 8, 7, 6, 7, 7, 7, 6, 6, 7, 8, 7, 5, 3, 2)
_HOUR_CUM = list(itertools.accumulate(_HOURLY))
_COUNTRY_CUM = list(itertools.accumulate(c[1] for c in COUNTRIES))
_DEVICES: dict[tuple[str, int], Device] = {}


class World:
    def __init__(self, config: SimConfig, rows: RowSink) -> None:
        self.config = config
        self.seed = config.seed
        self.scale = config.scale
        self.start_ms = day_ms(config.start)
        self.end_ms = day_ms(config.end) + MS_DAY - 1  # last instant of the window
        self.rows = RowStore(self.end_ms, rows)
        self.catalog = Catalog(config.seed, config.start)
        self.llm_prices = LlmPrices(config.seed, config.warmup_start)
        self.today: date = config.warmup_start
        self.today_ms = day_ms(self.today)
        self.in_window = False
        self.events: list[Event] = []  # today's true events
        self.fx: dict[str, float] = {"USD": 1.0, "EUR": 1.08, "GBP": 1.27}  # today's rates
        self.fx_by_day: dict[tuple[date, str], float] = {}
        self.counters: dict[str, int] = {}
        self.usage: dict[str, int] = {}  # today's volumes that drive cloud costs
        self.usage_tokens: dict[str, int] = {}  # today's LLM tokens per model
        self.documents_stored = 0
        self._rngs: dict[str, random.Random] = {}
        # people: every user (small objects), the ones still engaged, visitors coming back on a day
        self.users: list = []
        self.engaged: list = []
        self.returning: dict[int, list] = {}
        # the billing agenda: day ordinal → [(instant, sequence, action, subject, version)]
        self.agenda: dict[int, list] = {}
        self.today_heap: list | None = None  # the agenda of the day being processed
        self.signup_hooks: list = []  # called with (world, user, rng) when someone signs up
        self.customers: list = []  # billing.Customer of every user who ever subscribed
        self.open_enrollments: list = []  # learning.Enrollment not completed yet
        self.truth = None  # truth.Truth
        self.paid_visits: dict[tuple[str, str], float] = {}  # today's expected visits per paid campaign

    # -- days and randomness -------------------------------------------------------------------
    def begin_day(self, day: date) -> None:
        self.today = day
        self.today_ms = day_ms(day)
        self.in_window = day >= self.config.start
        self.events = []
        self._rngs = {}
        self.usage = {"generations": 0, "documents": 0, "heartbeats": 0, "sessions": 0}
        self.usage_tokens = {}

    def rng(self, purpose: str) -> random.Random:
        """Today's random stream for one purpose (the same whatever else happened today)."""
        generator = self._rngs.get(purpose)
        if generator is None:
            generator = self._rngs[purpose] = stream(self.seed, purpose, self.today.toordinal())
        return generator

    def next_number(self, kind: str) -> int:
        self.counters[kind] = number = self.counters.get(kind, 0) + 1
        return number

    @property
    def weekday_factor(self) -> float:
        return (1.0, 1.05, 1.05, 1.0, 0.95, 0.7, 0.65)[self.today.weekday()]

    @property
    def growth(self) -> float:
        """The business grows about 60 % a year."""
        return 1.6 ** ((self.today - self.config.warmup_start).days / 365)

    # -- instants --------------------------------------------------------------------------------
    def moment(self, rng: random.Random, offset_minutes: int = 0) -> int:
        """A random instant of today (UTC) following the local daily rhythm of a device."""
        hour = bisect.bisect_right(_HOUR_CUM, rng.random() * _HOUR_CUM[-1])
        local = hour * 60 * MS_MINUTE + rng.randrange(60 * MS_MINUTE)
        return self.today_ms + (local - offset_minutes * MS_MINUTE) % MS_DAY

    def rest_of_day(self, t: int) -> int:
        return self.today_ms + MS_DAY - 1 - t

    # -- people ----------------------------------------------------------------------------------
    def device(self, rng: random.Random) -> tuple[str, Device]:
        country = COUNTRIES[bisect.bisect_right(_COUNTRY_CUM, rng.random() * _COUNTRY_CUM[-1])]
        kind = rng.choices(("desktop", "mobile", "tablet"), (55, 38, 7))[0]
        offset = round(country[4] * 60)
        if rng.random() < self.config.dirt.skewed_device_rate:
            skew = rng.choice((-1, 1)) * rng.randint(2 * 60, 6 * 3600) * 1000
            return country[0], Device(kind, offset, skew)
        shared = _DEVICES.get((kind, offset))  # devices with a right clock differ only by kind and zone
        if shared is None:
            shared = _DEVICES[(kind, offset)] = Device(kind, offset, 0)
        return country[0], shared

    def event(
        self,
        rng: random.Random,
        type: str,
        product: str,
        t: int,
        user_id: str | None,
        anon: str | None,
        device: Device,
        props: dict,
        session: str | None = None,
        context: dict | None = None,
    ) -> Event:
        event = Event(
            uid(rng), type, product, t, user_id, anon, context or device.context, props, session, device
        )
        self.events.append(event)
        return event


def days(first: date, last: date):
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)
