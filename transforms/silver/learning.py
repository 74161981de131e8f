"""Learning facts: lesson progress, quiz attempts and video heartbeats from events; enrollments.

Event facts take the course structure (lesson order, required lessons, mastery scores) from the current
operational rows, not from the event: a tracker's `position` may be absent or stale, and a quiz's
mastery score lives only in the database.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from transforms.silver import properties as props
from transforms.silver.operational import current_rows
from transforms.table import Incremental, Lookup, SilverTable

LESSON_ACTIONS = {"lesson_started": "started", "lesson_completed": "completed"}
# The pass mark of a quiz whose mastery score is not set (METRICS: quiz pass rate).
DEFAULT_MASTERY = 0.8
# Heartbeats come every 10 s of video: engaged time counts distinct 10-second intervals (METRICS).
HEARTBEAT_SECONDS = 10


def _lessons(bronze: ir.Table) -> ir.Table:
    lessons = current_rows(bronze)
    return lessons.select(
        lesson_key=lessons.id,
        lesson_course_id=lessons.course_id,
        lesson_position=lessons.position.cast("int64"),
        is_required=lessons.is_required,
    )


def lesson_progress(events: ir.Table, bronze_lessons: ir.Table) -> ir.Table:
    """One row per lesson started or completed, placed in the course's order by the lessons table."""
    steps = events.filter(events.event_type.isin(tuple(LESSON_ACTIONS)))
    steps = steps.mutate(
        lesson_id=props.string(steps.properties, "lesson_id"),
        event_course_id=props.string(steps.properties, "course_id"),
    )
    lessons = _lessons(bronze_lessons)
    joined = steps.left_join(lessons, steps.lesson_id == lessons.lesson_key)
    return joined.select(
        event_id=steps.event_id,
        user_id=steps.user_id,
        # A lesson belongs to one course: the lessons table wins over what the tracker sent.
        course_id=ibis.coalesce(lessons.lesson_course_id, steps.event_course_id),
        lesson_id=steps.lesson_id,
        lesson_position=lessons.lesson_position,
        is_required=lessons.is_required,
        action=ibis.cases(*((steps.event_type == kind, action) for kind, action in LESSON_ACTIONS.items())),
        occurred_at=steps.occurred_at,
        event_date=steps.event_date,
    )


def quiz_attempts(events: ir.Table, bronze_quizzes: ir.Table) -> ir.Table:
    """One row per attempt; it passes when its score reaches the quiz's mastery score."""
    attempts = events.filter(events.event_type == "quiz_attempted")
    attempts = attempts.mutate(
        quiz_id=props.string(attempts.properties, "quiz_id"),
        event_course_id=props.string(attempts.properties, "course_id"),
        score=props.floating(attempts.properties, "score"),
    )
    current = current_rows(bronze_quizzes)
    quizzes = current.select(
        quiz_key=current.id,
        quiz_course_id=current.course_id,
        quiz_lesson_id=current.lesson_id,
        quiz_kind=current.kind,
        # numeric(4,2) arrives as decimal128; float64 compares with the float score on every engine.
        mastery_score=current.mastery_score.cast("float64"),
    )
    joined = attempts.left_join(quizzes, attempts.quiz_id == quizzes.quiz_key)
    mastery = quizzes.mastery_score.fill_null(DEFAULT_MASTERY)
    return joined.select(
        event_id=attempts.event_id,
        user_id=attempts.user_id,
        course_id=ibis.coalesce(quizzes.quiz_course_id, attempts.event_course_id),
        quiz_id=attempts.quiz_id,
        quiz_kind=quizzes.quiz_kind,
        lesson_id=quizzes.quiz_lesson_id,
        score=attempts.score,
        mastery_score=mastery,
        passed=attempts.score >= mastery,
        occurred_at=attempts.occurred_at,
        event_date=attempts.event_date,
    )


def video_heartbeats(events: ir.Table) -> ir.Table:
    beats = events.filter(events.event_type == "video_heartbeat")
    seconds = props.integer(beats.properties, "seconds")
    return beats.select(
        event_id=beats.event_id,
        user_id=beats.user_id,
        course_id=props.string(beats.properties, "course_id"),
        lesson_id=props.string(beats.properties, "lesson_id"),
        seconds=seconds,
        interval_index=(seconds // HEARTBEAT_SECONDS).cast("int64"),
        occurred_at=beats.occurred_at,
        event_date=beats.event_date,
    )


def enrollments(bronze_enrollments: ir.Table, bronze_courses: ir.Table) -> ir.Table:
    """Current enrollments with the rule their course is completed by."""
    current = current_rows(bronze_enrollments)
    courses = current_rows(bronze_courses)
    rules = courses.select(course_key=courses.id, completion_rule=courses.completion_rule)
    joined = current.left_join(rules, current.course_id == rules.course_key)
    return joined.select(
        id=current.id,
        user_id=current.user_id,
        course_id=current.course_id,
        enrolled_at=current.enrolled_at,
        status=current.status,
        lessons_completed=current.lessons_completed.cast("int64"),
        final_passed=current.final_passed,
        completed_at=current.completed_at,
        last_activity_at=current.last_activity_at,
        completion_rule=rules.completion_rule,
        updated_at=current.updated_at,
        _batch_id=current._batch_id,
    )


def _by_event_date(**lookups: Lookup) -> Incremental:
    """A fact depends only on its own event and on lookups read whole: the events silver/events gained
    are built alone and appended. A changed lookup row (a lesson moved in its course) rebuilds the days
    holding events that refer to it, together with the days of the new events."""
    return Incremental(
        "event_date",
        driver="silver/events",
        lookups={f"bronze/pg_{name}": lookup for name, lookup in lookups.items()},
        appends=True,
    )


TABLES = (
    SilverTable(
        "silver/lesson_progress",
        ("silver/events", "bronze/pg_lessons"),
        lesson_progress,
        partition_by=("event_date",),
        description="Lessons started and completed, with the lesson's position in its course's order.",
        keys=("event_id",),
        incremental=_by_event_date(lessons=Lookup("id", "lesson_id")),
    ),
    SilverTable(
        "silver/quiz_attempts",
        ("silver/events", "bronze/pg_quizzes"),
        quiz_attempts,
        partition_by=("event_date",),
        description="Quiz attempts with the quiz's mastery score (0.8 when unset) and whether each passed.",
        keys=("event_id",),
        incremental=_by_event_date(quizzes=Lookup("id", "quiz_id")),
    ),
    SilverTable(
        "silver/video_heartbeats",
        ("silver/events",),
        video_heartbeats,
        partition_by=("event_date",),
        description="Video heartbeats with their 10-second interval (engaged time = 10 s × distinct ones).",
        keys=("event_id",),
        incremental=_by_event_date(),
    ),
    SilverTable(
        "silver/enrollments",
        ("bronze/pg_enrollments", "bronze/pg_courses"),
        enrollments,
        description="Current enrollments with their course's completion rule.",
        keys=("id",),
        # Every extracted version of a changed enrollment is re-read; courses are a lookup read whole.
        incremental=Incremental(
            "id",
            driver="bronze/pg_enrollments",
            filters={"bronze/pg_enrollments": "id"},
            lookups={"bronze/pg_courses": Lookup("id", "course_id")},
        ),
    ),
)
