"""Learning: enrollments and completion by cohort, time to complete, lesson drop-off, quiz pass rates,
active users and the retention of weekly signup cohorts."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards import charts
from dashboards import components as ui
from dashboards.filters import Selection
from dashboards.queries import Planned, ask, span, values
from lakehouse.metrics_catalog import Catalog

TITLE = "Learning"
# The learning page is about the course platform's learners; "All products" counts users platform-wide.
DEFAULT = Selection(product="courses")
# Weeks after signup shown in the retention heat map: the first quarter, where retention is decided.
RETENTION_WEEKS = 12

COMPLETION = [
    "cohort_enrollments",
    "completions_within_90_days",
    "completion_rate_90d",
    "time_to_complete_p50",
    "time_to_complete_p75",
]
ACTIVE = ["dau", "wau", "mau", "stickiness"]
DROPOFF = ["lesson_learners_reached", "lesson_reach_rate", "lesson_drop_rate"]


def setup(catalog: Catalog) -> list[Planned]:
    return [
        span(catalog, "span_cohorts", "cohort_enrollments"),
        span(catalog, "span_active", "dau"),
        values(catalog, "courses", "completion_rate_90d", "course_id"),
        values(catalog, "products", "dau", "product"),
    ]


def plan(catalog: Catalog, selection: Selection) -> list[Planned]:
    return [
        ask(catalog, "enrollments", ["enrollments", "engaged_time"], selection, grain="month"),
        ask(catalog, "completion", COMPLETION, selection, group_by=["is_open"]),
        ask(catalog, "quiz", ["quiz_attempts", "quiz_pass_rate"], selection, grain="month"),
        ask(
            catalog,
            "quiz_by_kind",
            ["quiz_attempts", "quiz_pass_rate"],
            selection,
            grain="month",
            group_by=["quiz_kind"],
        ),
        ask(catalog, "active", ACTIVE, selection),
        # A snapshot over the whole history: every course's lessons, the chosen course picked when drawn.
        ask(
            catalog,
            "dropoff",
            DROPOFF,
            selection,
            group_by=["course_id", "lesson_position"],
            ignore=["course_id"],
        ),
        ask(
            catalog, "retention", "cohort_retention", selection, group_by=["week_number", "is_complete_week"]
        ),
    ]


def filters(
    catalog: Catalog, found: dict[str, pd.DataFrame], setup_plan: list[Planned], notices: ui.Notices
) -> Selection:
    start, end = ui.dates(notices, found, setup_plan)
    course = ui.pick(
        notices, "Course", ui.known(found["courses"], "course_id"), key="course", every="All courses"
    )
    product = ui.pick(
        notices,
        "Product (active users)",
        ui.known(found["products"], "product"),
        key="product",
        every="All products",
        default=DEFAULT.product,
    )
    return Selection(start=start, end=end, course=course, product=product)


def draw(page: ui.Page) -> None:
    course = page.selection.course or "all courses"
    product = page.selection.product or "all products"
    completion = page.data["completion"]
    cohort, _ = page.latest("completion")
    still_open = "cohort still open: provisional" if cohort["is_open"].fillna(False).any() else None
    st.caption(
        f"Enrollments, completion and quizzes: {course}. Active users: {product}. Tiles show the latest "
        "whole month (active users: the latest day) in the date range against the one before it."
    )
    page.tiles(
        [
            ui.Tile("enrollments", "enrollments"),
            ui.Tile("completion_rate_90d", "completion", note=still_open),
            ui.Tile("time_to_complete_p50", "completion", note=still_open),
            ui.Tile("quiz_pass_rate", "quiz"),
            ui.Tile("dau", "active"),
            ui.Tile("wau", "active"),
            ui.Tile("mau", "active"),
            ui.Tile("stickiness", "active"),
        ]
    )
    st.subheader("Enrollments and completion by monthly cohort")
    cohorts = ui.month_label(completion)[["period", *COMPLETION, "is_open"]]
    left, right = st.columns(2)
    with left:
        ui.chart(
            "Enrollments and completions within 90 days",
            cohorts,
            charts.over_time(
                cohorts,
                "period",
                "month",
                [page.metric("cohort_enrollments"), page.metric("completions_within_90_days")],
                kind="bar",
                y_title="Enrollments",
            ),
            key="learning_cohorts",
            note="Cohorts younger than 90 days (is_open) are still completing: their rate is provisional.",
        )
    with right:
        ui.chart(
            "Time to complete (days)",
            cohorts,
            charts.over_time(
                cohorts,
                "period",
                "month",
                [page.metric("time_to_complete_p50"), page.metric("time_to_complete_p75")],
                y_title="Days",
            ),
            key="learning_time_to_complete",
        )
    draw_dropoff(page)
    left, right = st.columns(2)
    with left:
        quiz = ui.month_label(page.data["quiz_by_kind"])[
            ["period", "quiz_kind", "quiz_attempts", "quiz_pass_rate"]
        ]
        ui.chart(
            "Quiz pass rate by quiz kind",
            quiz,
            charts.by_group_over_time(quiz, "period", "month", page.metric("quiz_pass_rate"), "quiz_kind"),
            key="learning_quiz_pass_rate",
        )
    with right:
        active = ui.day_column(page.data["active"])[["period", *ACTIVE]]
        ui.chart(
            f"Daily, weekly and monthly active users ({product})",
            active,
            charts.over_time(
                active, "period", "day", [page.metric(m) for m in ("dau", "wau", "mau")], y_title="Users"
            ),
            key="learning_active_users",
        )
    retention = page.data["retention"]
    retention = retention[retention["week_number"] <= RETENTION_WEEKS].assign(
        period=pd.to_datetime(retention["period"]).dt.strftime("%Y-%m-%d")
    )[["period", "week_number", "cohort_retention", "is_complete_week"]]
    ui.chart(
        "Retention of weekly signup cohorts",
        retention,
        charts.heat_map(
            retention,
            "week_number",
            "period",
            page.metric("cohort_retention"),
            x_title="Weeks after signup",
            y_title="Signup week",
        ),
        key="learning_cohort_retention",
        note=f"Share of each signup week's users active k weeks later, k = 0 to {RETENTION_WEEKS}; "
        "is_complete_week is false where the data does not yet cover the whole week.",
    )


def draw_dropoff(page: ui.Page) -> None:
    dropoff = page.data["dropoff"]
    courses = sorted(dropoff["course_id"].dropna().unique())
    if not courses:
        st.subheader("Lesson drop-off")
        st.caption("No lesson activity yet.")
        return
    course = page.selection.course if page.selection.course in courses else courses[0]
    st.subheader(f"Lesson drop-off — {course}")
    if page.selection.course is None:
        st.caption("Choose a course in the sidebar to see another one's lessons.")
    lessons = dropoff[dropoff["course_id"] == course].sort_values("lesson_position")[
        ["lesson_position", *DROPOFF]
    ]
    left, right = st.columns(2)
    with left:
        ui.chart(
            "Learners reaching each lesson",
            lessons,
            charts.compared_by(lessons, "lesson_position", [page.metric("lesson_reach_rate")]),
            key="learning_lesson_reach",
            note="Share of the learners who started the course with any event on the lesson (whole history).",
        )
    with right:
        ui.chart(
            "Drop-off after each lesson",
            lessons,
            charts.compared_by(lessons, "lesson_position", [page.metric("lesson_drop_rate")]),
            key="learning_lesson_dropoff",
            note="1 − learners reaching the next lesson / learners reaching this one; none after the last.",
        )


if __name__ == "__main__":
    ui.run_page(TITLE, setup, filters, plan, draw)
