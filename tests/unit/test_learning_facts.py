from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from tests.unit.silver_frames import silver_events
from transforms.engine import _SparkCompiler
from transforms.silver.learning import enrollments, lesson_progress, quiz_attempts, video_heartbeats

TS = pa.timestamp("us", tz="UTC")
T1, T2 = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 5, tzinfo=UTC)
D1, D2 = date(2026, 3, 10), date(2026, 3, 11)
NINE = time(9, tzinfo=UTC)


def _events(rows: list[tuple[str, str, date, dict]]) -> ir.Table:
    return silver_events(rows, lambda _: "courses")


def _bronze(columns: dict[str, list], updated: list[datetime], deleted: list[datetime | None] | None = None):
    """An operational bronze table: the given columns, one row per extracted version, plus lineage."""
    count = len(updated)
    return ibis.memtable(
        pa.table(
            {
                **columns,
                "created_at": pa.array([T1] * count, TS),
                "updated_at": pa.array(updated, TS),
                "deleted_at": pa.array(deleted or [None] * count, TS),
                "_batch_id": [f"b{i}" for i in range(count)],
                "_source": ["postgres"] * count,
                "_ingested_at": pa.array(updated, TS),
                "_deleted": pa.array([None] * count, pa.bool_()),
            }
        )
    )


def _rows(expr: ir.Table, key: str = "event_id") -> list[dict]:
    return ibis.duckdb.connect().to_pyarrow(expr.order_by(key)).to_pylist()


LESSONS = _bronze(
    {
        "id": ["L1", "L2", "L2", "L3"],
        "course_id": ["c1", "c1", "c1", "c1"],
        "position": pa.array([1, 2, 3, 2], pa.int32()),
        "title": ["intro", "extra", "extra", "core"],
        "duration_seconds": pa.array([300, 200, 200, 400], pa.int32()),
        "is_required": [True, True, False, True],
    },
    # L2 was lesson 2, then moved to the end and made optional when L3 was inserted before it.
    updated=[T1, T1, T2, T2],
)

QUIZZES = _bronze(
    {
        "id": ["q1", "q2"],
        "course_id": ["c1", "c1"],
        "lesson_id": ["L1", None],
        "kind": ["lesson", "final"],
        "mastery_score": pa.array([Decimal("0.70"), None], pa.decimal128(4, 2)),
        "question_count": pa.array([5, 20], pa.int32()),
    },
    updated=[T1, T1],
)

EVENTS = _events(
    [
        ("e1", "lesson_started", D1, {"course_id": "c1", "lesson_id": "L2", "position": 2}),
        ("e2", "lesson_completed", D1, {"lesson_id": "L3"}),
        ("e3", "lesson_started", D2, {"course_id": "c9", "lesson_id": "Lx", "position": 1}),
        ("a1", "quiz_attempted", D1, {"quiz_id": "q1", "course_id": "c1", "score": 0.7}),
        ("a2", "quiz_attempted", D1, {"quiz_id": "q1", "course_id": "c1", "score": 0.69}),
        ("a3", "quiz_attempted", D2, {"quiz_id": "q2", "course_id": "c1", "score": 0.8}),
        ("a4", "quiz_attempted", D2, {"quiz_id": "q2", "course_id": "c1", "score": "0.79"}),
        ("a5", "quiz_attempted", D2, {"quiz_id": "q9", "course_id": "c7", "score": 0.9}),
        ("h1", "video_heartbeat", D1, {"course_id": "c1", "lesson_id": "L1", "seconds": 10}),
        ("h2", "video_heartbeat", D1, {"course_id": "c1", "lesson_id": "L1", "seconds": "20"}),
        ("h3", "video_heartbeat", D1, {"course_id": "c1", "lesson_id": "L1", "seconds": 25}),
        ("h4", "video_heartbeat", D2, {"course_id": "c1", "lesson_id": "L1", "seconds": 30}),
        ("p1", "page_view", D1, {"path": "/"}),
    ]
)


def test_lesson_positions_follow_the_current_course_order_not_the_event() -> None:
    rows = _rows(lesson_progress(EVENTS, LESSONS))
    got = [(r["event_id"], r["course_id"], r["lesson_position"], r["is_required"], r["action"]) for r in rows]
    assert got == [
        ("e1", "c1", 3, False, "started"),  # the event said position 2: the course order now puts it 3rd
        ("e2", "c1", 2, True, "completed"),  # no course_id or position in the event: both from the lesson
        ("e3", "c9", None, None, "started"),  # an unknown lesson keeps its event, without a position
    ]
    assert [r["event_date"] for r in rows] == [D1, D1, D2]


def test_quiz_passes_at_exactly_mastery_and_defaults_mastery_to_0_8() -> None:
    rows = _rows(quiz_attempts(EVENTS, QUIZZES))
    got = [(r["event_id"], r["quiz_kind"], r["score"], r["mastery_score"], r["passed"]) for r in rows]
    assert got == [
        ("a1", "lesson", 0.7, 0.7, True),  # 0.7 >= numeric 0.70
        ("a2", "lesson", 0.69, 0.7, False),
        ("a3", "final", 0.8, 0.8, True),  # mastery unset: 0.8
        ("a4", "final", 0.79, 0.8, False),  # the score sent as a string
        ("a5", None, 0.9, 0.8, True),  # a quiz missing from the database: default mastery
    ]
    assert [(r["course_id"], r["lesson_id"]) for r in rows] == [
        ("c1", "L1"),
        ("c1", "L1"),
        ("c1", None),
        ("c1", None),
        ("c7", None),
    ]


def test_heartbeat_intervals_give_engaged_seconds() -> None:
    beats = video_heartbeats(EVENTS)
    rows = _rows(beats)
    assert [(r["event_id"], r["seconds"], r["interval_index"]) for r in rows] == [
        ("h1", 10, 1),
        ("h2", 20, 2),  # seconds sent as a string
        ("h3", 25, 2),  # same 10-second interval as h2: not counted twice
        ("h4", 30, 3),
    ]
    engaged = beats.group_by("user_id", "lesson_id").aggregate(
        engaged_seconds=10 * beats.interval_index.nunique()
    )
    assert _rows(engaged, "lesson_id")[0]["engaged_seconds"] == 30


def test_enrollments_are_current_rows_with_their_course_rule() -> None:
    courses = _bronze(
        {
            "id": ["c1", "c2"],
            "title": ["AI 101", "Prompting"],
            "category": ["ai", "ai"],
            "completion_rule": ["completed_and_passed", "passed"],
            "published_at": pa.array([T1, T1], TS),
        },
        updated=[T1, T1],
    )
    bronze = _bronze(
        {
            "id": ["en1", "en1", "en2", "en3"],
            "user_id": ["u1", "u1", "u2", "u3"],
            "course_id": ["c1", "c1", "c2", "c9"],
            "enrolled_at": pa.array([T1] * 4, TS),
            "status": ["active", "completed", "active", "active"],
            "lessons_completed": pa.array([1, 3, 0, 2], pa.int32()),
            "final_passed": [False, True, False, False],
            "completed_at": pa.array([None, T2, None, None], TS),
            "last_activity_at": pa.array([T1, T2, T1, T1], TS),
        },
        updated=[T1, T2, T2, T1],
        deleted=[None, None, T2, None],
    )
    rows = _rows(enrollments(bronze, courses), "id")
    got = [
        (r["id"], r["status"], r["lessons_completed"], r["completed_at"], r["completion_rule"]) for r in rows
    ]
    assert got == [
        ("en1", "completed", 3, T2, "completed_and_passed"),  # the latest version
        ("en3", "active", 2, None, None),  # en2 was deleted; c9 is not a known course
    ]


def test_event_facts_are_local_to_their_day() -> None:
    one_day = EVENTS.filter(EVENTS.event_date == D1)
    builds = [
        (lambda e: lesson_progress(e, LESSONS), 2),
        (lambda e: quiz_attempts(e, QUIZZES), 2),
        (video_heartbeats, 3),
    ]
    for build, rows_on_d1 in builds:
        full = build(EVENTS)
        incremental = _rows(build(one_day))
        assert incremental == _rows(full.filter(full.event_date == D1))
        assert len(incremental) == rows_on_d1


def test_compile_for_spark_without_python_udfs() -> None:
    ibis.pyspark  # noqa: B018 (loading the backend registers the options its compiler reads)
    events = ibis.table(EVENTS.schema(), name="events")
    compiler = _SparkCompiler()
    for expr in (
        lesson_progress(events, ibis.table(LESSONS.schema(), name="lessons")),
        quiz_attempts(events, ibis.table(QUIZZES.schema(), name="quizzes")),
        video_heartbeats(events),
    ):
        assert "unwrap_json" not in compiler.to_sqlglot(expr).sql(dialect=compiler.dialect).lower()
