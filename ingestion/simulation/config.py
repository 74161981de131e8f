"""The simulator's knobs: the window, the size (`scale`) and the dirt rates, and the fixed business facts.

Scale 1 is about one million events over 365 days; every volume in the world is proportional to it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, timedelta

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
PAID_CHANNELS = ("paid_search", "paid_social", "affiliate")
PAID_CAMPAIGNS = {(c[0], c[3]) for c in ACQUISITION if c[0] in PAID_CHANNELS}

# event types that show a person using a product (the rest are passive and do not make anyone active)
ACTIVITY = {
    "courses": ("lesson_started", "lesson_completed", "video_heartbeat", "quiz_attempted"),
    "marketing": ("content_generated", "content_scheduled"),
    "documents": ("document_requested", "document_generated", "document_exported"),
}
PASSIVE = ("notification_received", "email_delivered")

# id, product, name, interval, interval_count, unit_amount (minor units), currency, tier.
# The first eight are the plans of the first simulator (their ids and prices never change).
PLANS = (
    ("plan_courses_m_usd", "courses", "Learner monthly", "month", 1, 2900, "USD", "basic"),
    ("plan_courses_y_usd", "courses", "Learner annual", "year", 1, 29000, "USD", "basic"),
    ("plan_courses_m_eur", "courses", "Learner monthly", "month", 1, 2700, "EUR", "basic"),
    ("plan_marketing_m_usd", "marketing", "Studio monthly", "month", 1, 9900, "USD", "basic"),
    ("plan_marketing_m_gbp", "marketing", "Studio monthly", "month", 1, 7900, "GBP", "basic"),
    ("plan_marketing_y_eur", "marketing", "Studio annual", "year", 1, 99000, "EUR", "basic"),
    ("plan_documents_w_usd", "documents", "Docs weekly", "week", 2, 1500, "USD", "basic"),
    ("plan_documents_m_eur", "documents", "Docs monthly", "month", 1, 1900, "EUR", "basic"),
    ("plan_courses_y_eur", "courses", "Learner annual", "year", 1, 27000, "EUR", "basic"),
    ("plan_courses_m_gbp", "courses", "Learner monthly", "month", 1, 2300, "GBP", "basic"),
    ("plan_courses_pro_m_usd", "courses", "Pro monthly", "month", 1, 4900, "USD", "pro"),
    ("plan_courses_pro_y_usd", "courses", "Pro annual", "year", 1, 49000, "USD", "pro"),
    ("plan_courses_pro_m_eur", "courses", "Pro monthly", "month", 1, 4500, "EUR", "pro"),
    ("plan_marketing_m_eur", "marketing", "Studio monthly", "month", 1, 8900, "EUR", "basic"),
    ("plan_marketing_agency_m_usd", "marketing", "Agency monthly", "month", 1, 19900, "USD", "pro"),
    ("plan_marketing_agency_m_gbp", "marketing", "Agency monthly", "month", 1, 15900, "GBP", "pro"),
    ("plan_marketing_agency_y_eur", "marketing", "Agency annual", "year", 1, 179000, "EUR", "pro"),
    ("plan_documents_m_usd", "documents", "Docs monthly", "month", 1, 2900, "USD", "basic"),
    ("plan_documents_m_gbp", "documents", "Docs monthly", "month", 1, 1600, "GBP", "basic"),
    ("plan_documents_team_m_usd", "documents", "Docs Team monthly", "month", 1, 5900, "USD", "pro"),
    ("plan_documents_team_m_eur", "documents", "Docs Team monthly", "month", 1, 4900, "EUR", "pro"),
)
PLAN_KEYS = ("id", "product", "name", "interval", "interval_count", "unit_amount", "currency", "tier")
INTERVAL_MONTHS = {"month": 1.0, "year": 12.0, "week": 12.0 / 52.0}

# country, weight, currency it pays in, tax rate, UTC offset (hours) of its people's devices
COUNTRIES = (
    ("US", 34, "USD", 0.0, -5.0),
    ("US", 10, "USD", 0.0, -8.0),
    ("GB", 14, "GBP", 0.20, 0.0),
    ("DE", 14, "EUR", 0.19, 1.0),
    ("FR", 9, "EUR", 0.20, 1.0),
    ("IN", 10, "USD", 0.18, 5.5),
    ("BR", 5, "USD", 0.0, -3.0),
    ("CA", 4, "USD", 0.05, -5.0),
)
TAX_RATES = {c[0]: c[3] for c in COUNTRIES}

# LLM models: provider, USD price per 1k tokens on the first day, tokens per second
MODELS = {
    "gpt-4o-mini": ("openai", 0.0006, 90.0),
    "gpt-4o": ("openai", 0.0100, 45.0),
    "claude-haiku": ("anthropic", 0.0012, 110.0),
    "claude-sonnet": ("anthropic", 0.0150, 55.0),
    "llama-3-70b": ("self_hosted", 0.0009, 60.0),
}

WARMUP_DAYS = 180  # the business exists before the window: customers, subscriptions, invoices
USERS_PER_SCALE = 4000  # settings' sim_users → scale (the users the business has when the window opens)


@dataclass(frozen=True)
class DirtConfig:
    """Rates of realistic dirt in the event files; all zero with `--no-dirt`."""

    duplicate_rate: float = 0.02  # share of events re-sent with the same event_id
    late_rate: float = 0.01  # share of events delivered 1..max_late_days days after they happened
    max_late_days: int = 7
    malformed_rate: float = 0.001  # malformed lines per event line (at least a few a week)
    skewed_device_rate: float = 0.03  # share of devices whose clock is off by minutes to hours
    tokens_as_string_rate: float = 0.02  # share of generation events whose properties.tokens is a string
    schema_v2_rate: float = 0.01  # share of passive events sent with schema_version "2" (quarantined)
    new_field_after_days: int | None = 10  # session_id appears this many days after the window opens

    @classmethod
    def none(cls) -> DirtConfig:
        return cls(0.0, 0.0, 0, 0.0, 0.0, 0.0, 0.0, None)

    @property
    def enabled(self) -> bool:
        return self != DirtConfig.none()


@dataclass(frozen=True)
class SimConfig:
    seed: int = 7
    scale: float = 1.0
    start: date = date(2025, 1, 1)
    days: int = 365
    dirt: DirtConfig = field(default_factory=DirtConfig)

    def __post_init__(self) -> None:
        if self.scale <= 0:
            raise ValueError(f"scale must be positive, is {self.scale}")
        if self.days < 1:
            raise ValueError(f"days must be at least 1, is {self.days}")

    @property
    def end(self) -> date:
        return self.start + timedelta(days=self.days - 1)

    @property
    def warmup_start(self) -> date:
        return self.start - timedelta(days=WARMUP_DAYS)

    def with_days(self, days: int) -> SimConfig:
        return replace(self, days=days)


def scale_for_users(users: int) -> float:
    """The scale whose business has about `users` users when the window opens."""
    return users / USERS_PER_SCALE
