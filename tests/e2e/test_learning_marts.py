"""Learning and AI-product marts on the tiny seeded world, against the simulator's ground truth and its
own events (every figure here is recomputed in Python from the world, never read from the lake)."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta

import pytest

from ingestion import ground_truth
from tests.e2e.warehouse import query

pytestmark = pytest.mark.slow

DEFAULT_MASTERY = 0.8
# A device's clock may be off by up to 6 hours (data contract): facts carry the time the device reported.
MAX_CLOCK_SKEW = timedelta(hours=6)


def _naive(value: str | datetime | None) -> datetime | None:
    if value is None:
        return None
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(UTC).replace(tzinfo=None)


def _ms(value: int) -> datetime:
    return datetime(1970, 1, 1) + timedelta(milliseconds=value)


def _completion_from_events(world) -> dict[str, datetime | None]:
    """Each enrollment's completion by its course's rule, from the delivered events as they report time."""
    lessons = {row["id"]: row for row in world.table("lessons")}
    quizzes = {row["id"]: row for row in world.table("quizzes")}
    rules = {row["id"]: row["completion_rule"] for row in world.table("courses")}
    required = defaultdict(set)
    for lesson in lessons.values():
        if lesson["is_required"]:
            required[lesson["course_id"]].add(lesson["id"])

    windows = defaultdict(list)  # (user, course) -> enrollments in enrolment order
    for row in world.table("enrollments"):
        windows[(row["user_id"], row["course_id"])].append(row)
    for rows in windows.values():
        rows.sort(key=lambda r: (r["enrolled_at"], r["id"]))

    def enrollment_of(user: str, course: str, at: datetime) -> str | None:
        rows = windows.get((user, course), [])
        chosen = rows[0]["id"] if rows else None
        for row in rows[1:]:
            if at >= _ms(row["enrolled_at"]):
                chosen = row["id"]
        return chosen

    lesson_done: dict[str, dict[str, datetime]] = defaultdict(dict)
    final_passed: dict[str, datetime] = {}
    for event in world.events:
        props, at = event["properties"], _naive(event["_instant"])
        if event["event_type"] == "lesson_completed":
            lesson = lessons.get(props["lesson_id"])
            course = lesson["course_id"] if lesson else props["course_id"]
            enrollment = enrollment_of(event["user_id"], course, at)
            if enrollment is not None:
                done = lesson_done[enrollment]
                done[props["lesson_id"]] = min(at, done.get(props["lesson_id"], at))
        elif event["event_type"] == "quiz_attempted":
            quiz = quizzes.get(props["quiz_id"])
            if quiz is None or quiz["kind"] != "final":
                continue
            mastery = quiz["mastery_score"] if quiz["mastery_score"] is not None else DEFAULT_MASTERY
            enrollment = enrollment_of(event["user_id"], quiz["course_id"], at)
            if enrollment is not None and props.get("score") is not None and props["score"] >= mastery:
                final_passed[enrollment] = min(at, final_passed.get(enrollment, at))

    completed = {}
    for rows in windows.values():
        for row in rows:
            course, done = row["course_id"], lesson_done.get(row["id"], {})
            needed = required[course]
            lessons_at = max(done[lesson] for lesson in needed) if needed and needed <= done.keys() else None
            passed_at = final_passed.get(row["id"])
            rule = rules.get(course)
            if rule == "completed":
                completed[row["id"]] = lessons_at
            elif rule == "passed":
                completed[row["id"]] = passed_at
            elif rule == "completed_and_passed":
                completed[row["id"]] = max(lessons_at, passed_at) if lessons_at and passed_at else None
            else:
                completed[row["id"]] = None
    return completed


@pytest.fixture(scope="module")
def enrollments(built) -> dict[str, dict]:
    settings = built[0]
    columns = (
        "enrollment_id",
        "user_id",
        "course_id",
        "completion_rule",
        "enrolled_at",
        "completed_at",
        "source_completed_at",
        "is_completed",
        "days_to_complete",
        "is_open",
        "completed_within_90_days",
        "cohort_month",
    )
    rows = query(settings, f"select {', '.join(columns)} from learning.fct_enrollments")
    return {row[0]: dict(zip(columns, row, strict=True)) for row in rows}


def test_world_has_learning_to_check(world) -> None:
    # The session's world is 6 days of 80 users: a few enrollments, none completed or 90 days old yet,
    # so completions, 90-day flags and closed cohorts rest on the dbt unit tests here.
    truth = ground_truth.completion(world)
    assert truth
    assert {row["completion_rule"] for row in truth} >= {"completed", "passed", "completed_and_passed"}


def test_every_enrollment_has_one_row_matching_the_source(enrollments, world) -> None:
    truth = {row["enrollment_id"]: row for row in ground_truth.completion(world)}
    assert enrollments.keys() == truth.keys()
    for enrollment_id, expected in truth.items():
        row = enrollments[enrollment_id]
        assert (row["user_id"], row["course_id"], row["completion_rule"]) == (
            expected["user_id"],
            expected["course_id"],
            expected["completion_rule"],
        ), enrollment_id
        assert row["enrolled_at"] == _naive(expected["enrolled_at"]), enrollment_id
        assert row["cohort_month"] == row["enrolled_at"].date().replace(day=1)
        # the operational record of completion is the simulator's own
        assert row["source_completed_at"] == _naive(expected["completed_at"]), enrollment_id


def test_completion_recomputed_from_the_facts_matches_the_events(enrollments, world) -> None:
    expected = _completion_from_events(world)
    assert {k: v["completed_at"] for k, v in enrollments.items()} == expected


def test_completion_within_90_days_matches_ground_truth(enrollments, world) -> None:
    """Per enrollment: completed or not, within 90 days (null while younger than 90 days and not done),
    and days to complete up to the device clock skew the facts carry."""
    for expected in ground_truth.completion(world):
        row = enrollments[expected["enrollment_id"]]
        assert row["is_completed"] == (expected["completed_at"] is not None), expected
        assert row["completed_within_90_days"] == expected["completed_within_90_days"], expected
        assert row["is_open"] == (
            _naive(expected["enrolled_at"]) + timedelta(days=90)
            > datetime.combine(world.end + timedelta(days=1), datetime.min.time())
        )
        if expected["completed_at"] is not None:
            assert abs(row["completed_at"] - _naive(expected["completed_at"])) <= MAX_CLOCK_SKEW
            assert math.isclose(
                row["days_to_complete"],
                (row["completed_at"] - row["enrolled_at"]) / timedelta(days=1),
                abs_tol=1e-9,
            )
        else:
            assert row["days_to_complete"] is None


def test_course_completion_cohorts_add_up_from_ground_truth(built, world) -> None:
    settings = built[0]
    expected: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for row in ground_truth.completion(world):
        month = _naive(row["enrolled_at"]).date().replace(day=1)
        for course in (row["course_id"], "all"):
            expected[(month, course)][0] += 1
            expected[(month, course)][1] += row["completed_within_90_days"] is True
    rows = query(
        settings,
        "select cohort_month, course_id, enrollments, completed_within_90_days, completion_rate_90d, is_open "
        "from learning.fct_course_completion",
    )
    assert {(m, c): [n, w] for m, c, n, w, _, _ in rows} == expected
    for _, _, n, w, rate, is_open in rows:
        assert math.isclose(rate, w / n)
        assert is_open  # the world is days old: every cohort is younger than 90 days


def test_quiz_attempts_and_passes_match_the_events(built, world) -> None:
    settings = built[0]
    quizzes = {row["id"]: row for row in world.table("quizzes")}
    expected: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for event in world.events:
        if event["event_type"] != "quiz_attempted":
            continue
        quiz_id, score = event["properties"]["quiz_id"], event["properties"].get("score")
        quiz = quizzes.get(quiz_id)
        mastery = quiz["mastery_score"] if quiz and quiz["mastery_score"] is not None else DEFAULT_MASTERY
        key = (quiz_id, event["_instant"].date())
        expected[key][0] += 1
        expected[key][1] += score is not None and score >= mastery
    rows = query(
        settings,
        "select quiz_id, attempt_date, attempts, passed_attempts from learning.fct_quiz_attempts",
    )
    assert {(q, d): [a, p] for q, d, a, p in rows} == expected
    assert expected


def test_lesson_reach_matches_the_events(built, world) -> None:
    settings = built[0]
    lessons = {row["id"]: row for row in world.table("lessons")}
    quizzes = {row["id"]: row for row in world.table("quizzes")}
    reached, started = defaultdict(set), defaultdict(set)
    for event in world.events:
        props = event["properties"]
        if event["event_type"] in ("lesson_started", "lesson_completed", "video_heartbeat"):
            lesson_id = props["lesson_id"]
        elif event["event_type"] == "quiz_attempted":
            lesson_id = quizzes[props["quiz_id"]]["lesson_id"]
            started[quizzes[props["quiz_id"]]["course_id"]].add(event["user_id"])
        else:
            continue
        if lesson_id is not None:
            lesson = lessons[lesson_id]
            reached[(lesson["course_id"], lesson["position"])].add(event["user_id"])
            started[lesson["course_id"]].add(event["user_id"])
    rows = query(
        settings,
        "select course_id, lesson_position, learners_started, learners_reached, next_learners_reached, "
        "drop_rate from learning.fct_lesson_dropoff",
    )
    assert {(c, p) for c, p, *_ in rows} == {(r["course_id"], r["position"]) for r in lessons.values()}
    for course, position, learners_started, learners_reached, following, drop in rows:
        assert learners_started == len(started[course])
        assert learners_reached == len(reached[(course, position)])
        if following is not None and learners_reached:
            assert math.isclose(drop, 1 - following / learners_reached)
    assert any(reached_ for _, _, _, reached_, _, _ in rows)


def test_ai_generations_and_exports_match_the_events(built, world) -> None:
    settings = built[0]
    made = [e for e in world.events if e["event_type"] in ("content_generated", "document_generated")]
    generations = Counter((event["_instant"].date(), event["product"]) for event in made)
    successes = Counter(
        (event["_instant"].date(), event["product"]) for event in made if event["properties"]["success"]
    )
    rows = query(
        settings,
        "select usage_date, product, generations, successes from finance.fct_ai_usage where model = 'all'",
    )
    assert {(d, p): g for d, p, g, _ in rows} == generations
    assert {(d, p): s for d, p, _, s in rows if s} == +successes
    per_model = query(
        settings,
        "select usage_date, product, sum(generations) from finance.fct_ai_usage "
        "where model <> 'all' group by all",
    )
    assert {(d, p): g for d, p, g in per_model} == generations

    exports = Counter(
        (event["_instant"].date(), event["properties"]["format"])
        for event in world.events
        if event["event_type"] == "document_exported"
    )
    rows = query(settings, "select export_date, export_format, exports from finance.fct_document_exports")
    assert {(d, f): n for d, f, n in rows} == exports
