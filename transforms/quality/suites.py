"""What each silver table's new data must satisfy, and how bad a breach is.

Declarations only: `validate.py` turns them into Great Expectations expectations, the Dagster layer into
asset checks. Every table gets its grain (`keys` unique and not null) and a row-count check; `SUITES` adds
a table's own checks under its name, so a suite may name a table that is not built yet.

Severity (docs/quality.md):
- ERROR blocks the assets downstream: the grain, fields the contract requires, accepted values of contract
  fields, references within one source, and what a transform guarantees by construction. A breach is a
  broken contract or a bug.
- WARN reports and lets the run go on: ranges the sources do not enforce, values inside event properties
  (trackers send what they send), references across sources (the event stream and the database extraction
  are not one snapshot), and the row-count change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from transforms.silver.events import PASSIVE_EVENT_TYPES
from transforms.silver.touchpoints import CHANNELS
from transforms.table import SilverTable

Severity = Literal["ERROR", "WARN"]


@dataclass(frozen=True, kw_only=True)
class Check:
    severity: Severity = "ERROR"

    @property
    def name(self) -> str:
        raise NotImplementedError

    @property
    def description(self) -> str:
        raise NotImplementedError

    @property
    def columns(self) -> tuple[str, ...]:
        """The columns of the new rows the check reads."""
        return ()


@dataclass(frozen=True)
class Unique(Check):
    keys: tuple[str, ...]

    @property
    def name(self) -> str:
        return "_".join(self.keys) + "_unique"

    @property
    def columns(self) -> tuple[str, ...]:
        return self.keys

    @property
    def description(self) -> str:
        return f"one row per ({', '.join(self.keys)}) in the new rows"


@dataclass(frozen=True)
class NotNull(Check):
    column: str

    @property
    def name(self) -> str:
        return f"{self.column}_not_null"

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.column,)

    @property
    def description(self) -> str:
        return f"{self.column} is never null"


@dataclass(frozen=True)
class Accepted(Check):
    column: str
    values: tuple[str, ...]

    @property
    def name(self) -> str:
        return f"{self.column}_accepted"

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.column,)

    @property
    def description(self) -> str:
        return f"{self.column} is one of {', '.join(self.values)} (or null)"


@dataclass(frozen=True)
class Between(Check):
    """A value range; nulls are not judged (a NotNull says whether they may be)."""

    column: str
    min_value: float | None = None
    max_value: float | None = None
    strict_min: bool = False

    @property
    def name(self) -> str:
        return f"{self.column}_range"

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.column,)

    @property
    def description(self) -> str:
        low = "" if self.min_value is None else f"{self.min_value} {'<' if self.strict_min else '<='} "
        high = "" if self.max_value is None else f" <= {self.max_value}"
        return f"{low}{self.column}{high}"


@dataclass(frozen=True)
class Ordered(Check):
    """`later` is not before (or, strict, after) `earlier` wherever both are set."""

    earlier: str
    later: str
    strict: bool = False

    @property
    def name(self) -> str:
        return f"{self.later}_{'after' if self.strict else 'not_before'}_{self.earlier}"

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.earlier, self.later)

    @property
    def description(self) -> str:
        return f"{self.later} {'>' if self.strict else '>='} {self.earlier} where both are set"


@dataclass(frozen=True)
class References(Check):
    """Every non-null value is a `parent_column` value of the parent silver table, read from the lake."""

    column: str
    parent: str
    parent_column: str = "id"
    # (column of the new rows, partition column of the parent) when a row's parent is always in the
    # partition of that value (a touchpoint's session on its day): only those partitions are read.
    within: tuple[str, str] | None = None

    @property
    def name(self) -> str:
        return f"{self.column}_in_{self.parent.rsplit('/', 1)[-1]}"

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.column, self.within[0]) if self.within else (self.column,)

    @property
    def description(self) -> str:
        return f"every {self.column} is a {self.parent_column} of {self.parent}"


@dataclass(frozen=True)
class RowCountChange(Check):
    """The table's rows after this run over its rows before (the previous Delta version)."""

    min_ratio: float = 0.9
    max_ratio: float = 2.0
    severity: Severity = field(default="WARN", kw_only=True)

    @property
    def name(self) -> str:
        return "row_count_change"

    @property
    def description(self) -> str:
        return f"rows after / rows before the run is within [{self.min_ratio}, {self.max_ratio}]"


PRODUCTS = ("courses", "marketing", "documents")
CURRENCIES = ("USD", "EUR", "GBP")
EVENT_TYPES = (
    "page_view",
    "signup",
    "lesson_started",
    "video_heartbeat",
    "lesson_completed",
    "quiz_attempted",
    "content_generated",
    "content_scheduled",
    "document_requested",
    "document_generated",
    "document_exported",
    *PASSIVE_EVENT_TYPES,
)
SUBSCRIPTION_STATUSES = ("trialing", "active", "past_due", "canceled")
END_REASONS = ("canceled", "trial_expired", "payment_failed", "plan_change", "quantity_change")
INTERVALS = ("week", "month", "year")
DISCOUNT_DURATIONS = ("once", "repeating", "forever")
BILLING_REASONS = ("subscription_create", "subscription_cycle", "subscription_update", "manual")
CLOUD_SERVICES = ("compute", "video_cdn", "object_storage", "database", "gpu_inference")


def non_negative(*columns: str, severity: Severity = "WARN") -> tuple[Between, ...]:
    return tuple(Between(column, 0, severity=severity) for column in columns)


def positive(column: str, severity: Severity = "ERROR") -> Between:
    return Between(column, 0, strict_min=True, severity=severity)


def fraction(column: str, severity: Severity = "WARN") -> Between:
    return Between(column, 0, 1, severity=severity)


def converted(*amounts: str) -> tuple[Check, ...]:
    """Money beside its USD value: the rate is positive (bronze refuses others) but may be missing."""
    return (
        Accepted("currency", CURRENCIES),
        NotNull("fx_rate", severity="WARN"),
        positive("fx_rate"),
        *non_negative(*amounts),
    )


def versions(*checks: Check) -> tuple[Check, ...]:
    """A type 2 history: each version ends where the next one starts, later than it started."""
    span = Ordered("valid_from", "valid_to", strict=True)
    return (NotNull("is_current"), NotNull("is_deleted"), span, *checks)


# Event facts name operational rows the database extraction may not have delivered yet: WARN.
FROM_EVENTS: Severity = "WARN"

SUITES: dict[str, tuple[Check, ...]] = {
    "silver/events": (
        Accepted("event_type", EVENT_TYPES),
        Accepted("product", PRODUCTS),
        NotNull("occurred_at"),
        NotNull("event_date"),
        NotNull("is_active"),
    ),
    "silver/signups": (
        NotNull("occurred_at"),
        NotNull("event_date"),
        Accepted("product", PRODUCTS),
    ),
    "silver/identities": (
        NotNull("user_id"),
        NotNull("stitched_at"),
        References("user_id", "silver/users_history", severity=FROM_EVENTS),
    ),
    "silver/sessions": (
        NotNull("person_key"),
        NotNull("started_at"),
        NotNull("session_date"),
        Ordered("started_at", "ended_at"),
        Between("event_count", 1),
        Accepted("channel", CHANNELS),
        Accepted("product", PRODUCTS),
        References("user_id", "silver/users_history", severity=FROM_EVENTS),
    ),
    "silver/touchpoints": (
        NotNull("person_key"),
        NotNull("touch_date"),
        Accepted("channel", CHANNELS),
        Accepted("product", PRODUCTS),
        References("touchpoint_id", "silver/sessions", "session_id", within=("touch_date", "session_date")),
    ),
    "silver/users": (NotNull("country"), NotNull("created_at")),
    "silver/users_history": versions(),
    "silver/plans": (
        Accepted("product", PRODUCTS),
        Accepted("interval", INTERVALS),
        Accepted("currency", CURRENCIES),
        positive("interval_count"),
        *non_negative("unit_amount"),
    ),
    "silver/plans_history": versions(
        Accepted("interval", INTERVALS), Accepted("tier", ("basic", "pro")), positive("interval_count")
    ),
    "silver/subscriptions": (
        NotNull("user_id"),
        NotNull("plan_id"),
        NotNull("started_at"),
        Accepted("status", SUBSCRIPTION_STATUSES),
        positive("quantity"),
        References("plan_id", "silver/plans"),
        References("user_id", "silver/users_history"),
        Ordered("started_at", "ended_at", severity="WARN"),
    ),
    "silver/subscriptions_history": versions(
        Accepted("status", SUBSCRIPTION_STATUSES),
        Accepted("end_reason", END_REASONS),
        positive("quantity"),
        References("plan_id", "silver/plans"),
    ),
    "silver/subscription_discounts": (
        NotNull("subscription_id"),
        Accepted("duration", DISCOUNT_DURATIONS),
        References("subscription_id", "silver/subscriptions_history"),
        Between("percent_off", 0, 100, severity="WARN"),
        *non_negative("amount_off"),
    ),
    "silver/subscription_discounts_history": versions(Accepted("duration", DISCOUNT_DURATIONS)),
    "silver/fx_rates": (positive("rate_to_usd"),),
    "silver/ad_spend": (
        # Bronze refuses a negative amount; the channel is free text in the export.
        *non_negative("amount", severity="ERROR"),
        Accepted("channel", CHANNELS, severity="WARN"),
        NotNull("rate_to_usd", severity="WARN"),
    ),
    "silver/courses": (
        NotNull("title"),
        Accepted("completion_rule", ("completed", "passed", "completed_and_passed")),
    ),
    # A soft-deleted course leaves its lessons, quizzes and enrollments in place: WARN.
    "silver/lessons": (
        NotNull("course_id"),
        positive("position"),
        *non_negative("duration_seconds"),
        References("course_id", "silver/courses", severity="WARN"),
    ),
    "silver/quizzes": (
        NotNull("course_id"),
        Accepted("kind", ("lesson", "final")),
        fraction("mastery_score"),
        positive("question_count", severity="WARN"),
        References("course_id", "silver/courses", severity="WARN"),
    ),
    "silver/workspaces": (NotNull("owner_user_id"), positive("seats", severity="WARN")),
    "silver/document_templates": (NotNull("name"),),
    "silver/enrollments": (
        NotNull("user_id"),
        NotNull("course_id"),
        Accepted("status", ("active", "completed")),
        *non_negative("lessons_completed"),
        Ordered("enrolled_at", "completed_at", severity="WARN"),
        References("course_id", "silver/courses", severity="WARN"),
    ),
    "silver/invoices": (
        NotNull("user_id"),
        Accepted("status", ("open", "paid", "uncollectible")),
        Accepted("billing_reason", BILLING_REASONS),
        fraction("tax_rate"),
        *converted("subtotal", "discount_total", "tax", "total", "amount_paid", "amount_refunded"),
    ),
    "silver/invoice_lines": (
        NotNull("invoice_id"),
        Accepted("kind", ("subscription", "proration", "one_off")),
        Accepted("product", PRODUCTS),
        References("invoice_id", "silver/invoices"),
        *non_negative("service_days"),
        # A proration credit is a negative amount; a discount never is.
        *converted("discount_amount"),
    ),
    "silver/payments": (
        NotNull("invoice_id"),
        Accepted("status", ("succeeded", "failed")),
        References("invoice_id", "silver/invoices"),
        Between("attempt", 1, 4, severity="WARN"),
        *converted("amount", "fee"),
    ),
    "silver/refunds": (
        NotNull("payment_id"),
        References("payment_id", "silver/payments"),
        References("invoice_id", "silver/invoices"),
        *converted("amount", "tax_amount"),
    ),
    "silver/llm_prices": (
        NotNull("provider"),
        positive("price_per_1k_tokens"),
        NotNull("fx_rate", severity="WARN"),
    ),
    "silver/cloud_costs": (
        Accepted("service", CLOUD_SERVICES),
        Accepted("product", (*PRODUCTS, "shared")),
        *non_negative("amount", severity="ERROR"),
        NotNull("fx_rate", severity="WARN"),
    ),
    "silver/lesson_progress": (
        Accepted("action", ("started", "completed")),
        NotNull("event_date"),
        NotNull("lesson_id", severity=FROM_EVENTS),
        References("lesson_id", "silver/lessons", severity=FROM_EVENTS),
    ),
    "silver/quiz_attempts": (
        NotNull("event_date"),
        Accepted("quiz_kind", ("lesson", "final")),
        NotNull("quiz_id", severity=FROM_EVENTS),
        NotNull("score", severity=FROM_EVENTS),
        fraction("score"),
        fraction("mastery_score"),
    ),
    "silver/video_heartbeats": (
        NotNull("event_date"),
        NotNull("lesson_id", severity=FROM_EVENTS),
        NotNull("seconds", severity=FROM_EVENTS),
        *non_negative("seconds", "interval_index"),
    ),
    "silver/ai_generations": (
        NotNull("event_date"),
        Accepted("event_type", ("content_generated", "document_generated")),
        Accepted("product", ("marketing", "documents")),
        NotNull("model", severity=FROM_EVENTS),
        *non_negative("tokens", "latency_ms", "cost_usd"),
        fraction("brand_voice_score"),
    ),
    "silver/document_exports": (
        NotNull("event_date"),
        NotNull("document_id", severity=FROM_EVENTS),
        Accepted("format", ("pdf", "docx", "md"), severity=FROM_EVENTS),
    ),
}


def suite_for(table: SilverTable) -> tuple[Check, ...]:
    """The grain, the table's own checks and the row-count change, one check per name.

    A table's own check replaces a grain or row-count check of the same name (a RowCountChange with
    other bounds, say).
    """
    grain = (Unique(table.keys), *(NotNull(key) for key in table.keys)) if table.keys else ()
    by_name = {check.name: check for check in (*grain, *SUITES.get(table.name, ()))}
    by_name.setdefault(RowCountChange().name, RowCountChange())
    return tuple(by_name.values())


def parents(table: SilverTable) -> tuple[str, ...]:
    """The silver tables the references read: they must be built before this table is checked."""
    return tuple(dict.fromkeys(c.parent for c in suite_for(table) if isinstance(c, References)))
