"""Current state of the catalogue and product tables the marts join to: one row per live id, typed."""

from __future__ import annotations

from collections.abc import Callable

import ibis.expr.types as ir

from transforms.silver.operational import current_rows
from transforms.table import Incremental, SilverTable

DEFAULT_MASTERY_SCORE = 0.8


def major_units(bronze: ir.Table, *amounts: str) -> ir.Table:
    """Money in major units of a trimmed currency code (bronze holds bigint minor units, char(3))."""
    return bronze.mutate(
        currency=bronze.currency.strip(), **{a: bronze[a].cast("float64") / 100 for a in amounts}
    )


def courses(bronze: ir.Table) -> ir.Table:
    return current_rows(bronze).select(
        "id", "title", "category", "completion_rule", "published_at", "created_at", "updated_at", "_batch_id"
    )


def lessons(bronze: ir.Table) -> ir.Table:
    current = current_rows(bronze)
    return current.select(
        "id",
        "course_id",
        "title",
        position=current.position.cast("int64"),
        duration_seconds=current.duration_seconds.cast("int64"),
        is_required=current.is_required.cast("boolean"),
        created_at="created_at",
        updated_at="updated_at",
        _batch_id="_batch_id",
    )


def quizzes(bronze: ir.Table) -> ir.Table:
    current = current_rows(bronze)
    return current.select(
        "id",
        "course_id",
        "lesson_id",
        "kind",
        mastery_score=current.mastery_score.cast("float64").fill_null(DEFAULT_MASTERY_SCORE),
        question_count=current.question_count.cast("int64"),
        created_at="created_at",
        updated_at="updated_at",
        _batch_id="_batch_id",
    )


def workspaces(bronze: ir.Table) -> ir.Table:
    # The name is free text a customer types (often a person's or company's name): it stays in bronze.
    current = current_rows(bronze)
    return current.select(
        "id",
        "owner_user_id",
        "brand_voice",
        seats=current.seats.cast("int64"),
        created_at="created_at",
        updated_at="updated_at",
        _batch_id="_batch_id",
    )


def document_templates(bronze: ir.Table) -> ir.Table:
    return current_rows(bronze).select("id", "name", "category", "created_at", "updated_at", "_batch_id")


def subscription_discounts(bronze: ir.Table) -> ir.Table:
    current = major_units(current_rows(bronze), "amount_off")
    return current.select(
        "id",
        "subscription_id",
        "user_id",
        "coupon_code",
        "amount_off",
        "currency",
        "duration",
        "starts_at",
        "ends_at",
        percent_off=current.percent_off.cast("float64"),
        duration_in_months=current.duration_in_months.cast("int64"),
        created_at="created_at",
        updated_at="updated_at",
        _batch_id="_batch_id",
    )


def _current_table(table: str, build: Callable[[ir.Table], ir.Table], description: str) -> SilverTable:
    source = f"bronze/pg_{table}"
    return SilverTable(
        f"silver/{table}",
        (source,),
        build,
        description=description,
        keys=("id",),
        # Every extracted version of a changed id is re-read, so its current row is rebuilt from all of them.
        incremental=Incremental("id", driver=source, filters={source: "id"}),
    )


TABLES = (
    _current_table("courses", courses, "Current courses with their completion rule."),
    _current_table("lessons", lessons, "Current lessons of each course: position and whether required."),
    _current_table(
        "quizzes",
        quizzes,
        f"Current quizzes; a missing mastery_score is {DEFAULT_MASTERY_SCORE}.",
    ),
    _current_table("workspaces", workspaces, "Current marketing workspaces with their seats (no names)."),
    _current_table("document_templates", document_templates, "Current templates of the document generator."),
    _current_table(
        "subscription_discounts",
        subscription_discounts,
        "Current discounts, amount_off in major units.",
    ),
)
