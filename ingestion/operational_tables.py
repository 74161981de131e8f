"""The operational PostgreSQL tables the business simulator fills and the pipeline extracts.

Every table has a text primary key `id`, an `updated_at timestamptz` that moves on every change (the
extraction watermark) and a nullable `deleted_at` for soft deletes. Money is in minor units (bigint) of
the row's `currency`. `OPERATIONAL_TABLES` is in load order: a table only references tables before it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    name: str
    sql_type: str
    not_null: bool = False
    check: str = ""
    references: str = ""  # "table (column)"

    def ddl(self) -> str:
        parts = [self.name, self.sql_type]
        if self.name == "id":
            parts.append("primary key")
        elif self.not_null:
            parts.append("not null")
        if self.references:
            parts.append(f"references {self.references}")
        if self.check:
            parts.append(f"check ({self.check})")
        return " ".join(parts)


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    description: str

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def ddl(self) -> str:
        body = ",\n    ".join(c.ddl() for c in self.columns)
        return f"create table if not exists {self.name} (\n    {body}\n);"

    def add_missing_columns(self) -> list[str]:
        """Statements that bring a table created by an older simulator up to this schema."""
        return [
            f"alter table {self.name} add column if not exists {c.name} {c.sql_type}"
            for c in self.columns
            if c.name != "id"
        ]


def _c(name: str, sql_type: str, not_null: bool = False, check: str = "", references: str = "") -> Column:
    return Column(name, sql_type, not_null, check, references)


ID = _c("id", "text")
CREATED = _c("created_at", "timestamptz", True)
UPDATED = _c("updated_at", "timestamptz", True)
DELETED = _c("deleted_at", "timestamptz")

TABLES = (
    Table(
        "users",
        (
            ID,
            _c("email", "text", True),
            _c("country", "text", True),
            CREATED,
            UPDATED,
            DELETED,
            _c("signup_product", "text"),
            _c("marketing_opt_in", "boolean"),
        ),
        "People who signed up. Email changes and marketing opt-outs move updated_at; an account "
        "deletion sets deleted_at (the row stays, its email is replaced).",
    ),
    Table(
        "plans",
        (
            ID,
            _c("product", "text", True),
            _c("name", "text", True),
            _c("interval", "text", True, "interval in ('week', 'month', 'year')"),
            _c("interval_count", "integer", True, "interval_count > 0"),
            _c("unit_amount", "bigint", True),
            _c("currency", "char(3)", True),
            UPDATED,
            _c("tier", "text"),
            _c("created_at", "timestamptz"),
            DELETED,
        ),
        "Price plans: one row per product, tier, billing interval and currency; never change price.",
    ),
    Table(
        "subscriptions",
        (
            ID,
            _c("user_id", "text", True, references="users (id)"),
            _c("plan_id", "text", True, references="plans (id)"),
            _c("quantity", "integer", True, "quantity > 0"),
            _c("status", "text", True),
            _c("trial_end", "timestamptz"),
            _c("started_at", "timestamptz", True),
            _c("ended_at", "timestamptz"),
            UPDATED,
            DELETED,
            _c("created_at", "timestamptz"),
            _c("current_period_start", "timestamptz"),
            _c("current_period_end", "timestamptz"),
            _c("cancel_at", "timestamptz"),
            _c("canceled_at", "timestamptz"),
            _c("end_reason", "text"),
            _c("replaces_subscription_id", "text"),
        ),
        "One row per plan and quantity a customer holds for a while; at most one running row per "
        "customer and product. status: trialing, active, past_due (a payment failed, service goes on), "
        "canceled (ended). A plan or quantity change ends the running row (ended_at = the change, "
        "end_reason 'plan_change' or 'quantity_change') and starts a new row at the same instant "
        "(replaces_subscription_id = the old row); other end reasons: canceled (cancel_at reached, or "
        "at once), trial_expired, payment_failed. cancel_at is a scheduled end at the cycle's end.",
    ),
    Table(
        "subscription_discounts",
        (
            ID,
            _c("subscription_id", "text", True, references="subscriptions (id)"),
            _c("user_id", "text", True),
            _c("coupon_code", "text", True),
            _c("percent_off", "numeric(5,2)"),
            _c("amount_off", "bigint"),
            _c("currency", "char(3)"),
            _c("duration", "text", True, "duration in ('once', 'repeating', 'forever')"),
            _c("duration_in_months", "integer"),
            _c("starts_at", "timestamptz", True),
            _c("ends_at", "timestamptz"),
            CREATED,
            UPDATED,
            DELETED,
        ),
        "A coupon applied to one subscriptions row: percent_off or amount_off (per billing cycle, in "
        "the subscription's currency). A plan change copies it to the new row.",
    ),
    Table(
        "courses",
        (
            ID,
            _c("title", "text", True),
            _c("category", "text", True),
            _c(
                "completion_rule",
                "text",
                True,
                "completion_rule in ('completed', 'passed', 'completed_and_passed')",
            ),
            _c("published_at", "timestamptz"),
            CREATED,
            UPDATED,
            DELETED,
        ),
        "Courses; a course is open for enrollment from published_at.",
    ),
    Table(
        "lessons",
        (
            ID,
            _c("course_id", "text", True, references="courses (id)"),
            _c("position", "integer", True, "position > 0"),
            _c("title", "text", True),
            _c("duration_seconds", "integer", True),
            _c("is_required", "boolean", True),
            CREATED,
            UPDATED,
            DELETED,
        ),
        "Ordered lessons of each course (position 1, 2, ...).",
    ),
    Table(
        "quizzes",
        (
            ID,
            _c("course_id", "text", True, references="courses (id)"),
            _c("lesson_id", "text"),
            _c("kind", "text", True, "kind in ('lesson', 'final')"),
            _c("mastery_score", "numeric(4,2)", True),
            _c("question_count", "integer", True),
            CREATED,
            UPDATED,
            DELETED,
        ),
        "Quizzes: a knowledge check after a lesson, or a course's final assessment; an attempt passes "
        "when its score (0..1) is at least mastery_score.",
    ),
    Table(
        "enrollments",
        (
            ID,
            _c("user_id", "text", True),
            _c("course_id", "text", True, references="courses (id)"),
            _c("enrolled_at", "timestamptz", True),
            _c("status", "text", True, "status in ('active', 'completed')"),
            _c("lessons_completed", "integer", True),
            _c("final_passed", "boolean", True),
            _c("completed_at", "timestamptz"),
            _c("last_activity_at", "timestamptz"),
            CREATED,
            UPDATED,
            DELETED,
        ),
        "A learner in a course; completed_at is when the course's completion rule was first met.",
    ),
    Table(
        "workspaces",
        (
            ID,
            _c("owner_user_id", "text", True),
            _c("name", "text", True),
            _c("brand_voice", "text", True),
            _c("seats", "integer", True),
            CREATED,
            UPDATED,
            DELETED,
        ),
        "Marketing SaaS workspaces; seats follow the owner's subscription quantity.",
    ),
    Table(
        "contents",
        (
            ID,
            _c("workspace_id", "text", True),
            _c("user_id", "text", True),
            _c("content_type", "text", True),
            _c("model", "text", True),
            _c("status", "text", True, "status in ('draft', 'scheduled', 'published')"),
            _c("scheduled_for", "timestamptz"),
            _c("published_at", "timestamptz"),
            CREATED,
            UPDATED,
            DELETED,
        ),
        "Marketing content pieces generated in a workspace: draft, then scheduled, then published.",
    ),
    Table(
        "document_templates",
        (ID, _c("name", "text", True), _c("category", "text", True), CREATED, UPDATED, DELETED),
        "Templates of the document generator.",
    ),
    Table(
        "documents",
        (
            ID,
            _c("user_id", "text", True),
            _c("template_id", "text", True),
            _c("status", "text", True, "status in ('generated', 'failed')"),
            _c("model", "text", True),
            _c("tokens", "integer", True),
            _c("export_count", "integer", True),
            CREATED,
            UPDATED,
            DELETED,
        ),
        "Documents requested from the generator; users delete some (deleted_at).",
    ),
    Table(
        "invoices",
        (
            ID,
            _c("user_id", "text", True),
            _c("subscription_id", "text"),
            _c("number", "text", True),
            _c("currency", "char(3)", True),
            _c("status", "text", True, "status in ('open', 'paid', 'uncollectible')"),
            _c("billing_reason", "text", True),
            _c("period_start", "timestamptz"),
            _c("period_end", "timestamptz"),
            _c("subtotal", "bigint", True),
            _c("discount_total", "bigint", True),
            _c("tax_rate", "numeric(6,4)", True),
            _c("tax", "bigint", True),
            _c("total", "bigint", True),
            _c("amount_paid", "bigint", True),
            _c("amount_refunded", "bigint", True),
            _c("paid_at", "timestamptz"),
            CREATED,
            UPDATED,
            DELETED,
        ),
        "Invoices: subtotal = Σ line amounts, total = subtotal − discount_total + tax (tax_rate × the "
        "discounted subtotal, rounded). billing_reason: subscription_create, subscription_cycle, "
        "subscription_update (an upgrade: proration credit plus the new cycle), manual (one-off).",
    ),
    Table(
        "invoice_lines",
        (
            ID,
            _c("invoice_id", "text", True, references="invoices (id)"),
            _c("subscription_id", "text"),
            _c("plan_id", "text"),
            _c("product", "text", True),
            _c("kind", "text", True, "kind in ('subscription', 'proration', 'one_off')"),
            _c("description", "text", True),
            _c("quantity", "integer", True),
            _c("unit_amount", "bigint", True),
            _c("amount", "bigint", True),
            _c("discount_amount", "bigint", True),
            _c("currency", "char(3)", True),
            _c("period_start", "timestamptz"),
            _c("period_end", "timestamptz"),
            CREATED,
            UPDATED,
            DELETED,
        ),
        "Invoice lines; net revenue = amount − discount_amount (tax is on the invoice). A proration "
        "credit has a negative amount. one_off lines have no service period.",
    ),
    Table(
        "payments",
        (
            ID,
            _c("invoice_id", "text", True, references="invoices (id)"),
            _c("user_id", "text", True),
            _c("amount", "bigint", True),
            _c("currency", "char(3)", True),
            _c("status", "text", True, "status in ('succeeded', 'failed')"),
            _c("failure_code", "text"),
            _c("attempt", "integer", True),
            _c("fee", "bigint", True),
            CREATED,
            UPDATED,
            DELETED,
        ),
        "Payment attempts on invoices; a failed attempt is retried 3 days later, at most 4 attempts.",
    ),
    Table(
        "refunds",
        (
            ID,
            _c("payment_id", "text", True, references="payments (id)"),
            _c("invoice_id", "text", True),
            _c("invoice_line_id", "text", True),
            _c("user_id", "text", True),
            _c("amount", "bigint", True),
            _c("tax_amount", "bigint", True),
            _c("currency", "char(3)", True),
            _c("reason", "text", True),
            CREATED,
            UPDATED,
            DELETED,
        ),
        "Refunds of a payment, against one invoice line; amount is the cash returned (tax included), "
        "amount − tax_amount the revenue it reverses.",
    ),
)

BY_NAME = {table.name: table for table in TABLES}
OPERATIONAL_TABLES: tuple[str, ...] = tuple(table.name for table in TABLES)
