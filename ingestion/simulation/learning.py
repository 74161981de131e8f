"""The course platform: enrollments, lessons watched in order (a heartbeat every 10 s of video),
quizzes with a mastery score, and completion by each course's rule."""

from __future__ import annotations

import bisect
import random

from ingestion.simulation.catalog import Course, Quiz
from ingestion.simulation.clock import MS_SECOND
from ingestion.simulation.people import User
from ingestion.simulation.rand import hex_id
from ingestion.simulation.world import World

HEARTBEAT = 10 * MS_SECOND


class Enrollment:
    TABLE = "enrollments"
    __slots__ = (
        "id",
        "user",
        "course",
        "enrolled_at",
        "position",
        "completed",
        "final_passed",
        "completed_at",
    )
    __slots__ += ("last_activity_at", "updated_at", "skill", "skips_optional", "tests_out")

    def __init__(self, id: str, user: User, course: Course, at: int, rng: random.Random) -> None:
        self.id = id
        self.user = user
        self.course = course
        self.enrolled_at = at
        self.position = 0  # index of the next lesson to watch
        self.completed: set[int] = set()  # positions of completed lessons
        self.final_passed = False
        self.completed_at: int | None = None
        self.last_activity_at: int | None = None
        self.updated_at = at
        self.skill = rng.uniform(0.55, 0.95)
        self.skips_optional = rng.random() < 0.5
        self.tests_out = course.final is not None and rng.random() < 0.1

    @property
    def required_completed(self) -> int:
        return sum(
            1 for lesson in self.course.lessons if lesson.required and lesson.position in self.completed
        )

    def rule_met(self) -> bool:
        all_required = self.required_completed == self.course.required
        rule = self.course.rule
        if rule == "completed":
            return all_required
        if rule == "passed":
            return self.final_passed
        return all_required and self.final_passed

    def row(self) -> dict:
        return {
            "id": self.id,
            "user_id": self.user.id,
            "course_id": self.course.id,
            "enrolled_at": self.enrolled_at,
            "status": "completed" if self.completed_at is not None else "active",
            "lessons_completed": len(self.completed),
            "final_passed": self.final_passed,
            "completed_at": self.completed_at,
            "last_activity_at": self.last_activity_at,
            "created_at": self.enrolled_at,
            "updated_at": self.updated_at,
            "deleted_at": None,
        }


def enroll(world: World, rng: random.Random, user: User, at: int) -> Enrollment:
    catalog = world.catalog
    course = catalog.courses[bisect.bisect_right(catalog.cumulative, rng.random() * catalog.cumulative[-1])]
    enrollment = Enrollment("enr_" + hex_id(rng, 14), user, course, at, rng)
    user.learner = enrollment
    world.rows.touch(enrollment)
    world.open_enrollments.append(enrollment)
    return enrollment


def session(world: World, rng: random.Random, user: User, t: int) -> None:
    """One learning session: the next lessons of the learner's course, from instant t (ends by midnight)."""
    enrollment = user.learner
    if enrollment is None or enrollment.completed_at is not None:
        enrollment = enroll(world, rng, user, t)
        t += rng.randint(5, 60) * MS_SECOND
    course = enrollment.course
    person = user.person
    day_end = world.today_ms + 86_400_000 - 1
    lessons = rng.choices((1, 2, 3), (80, 17, 3))[0]
    session_id = hex_id(rng, 16)

    def emit(kind: str, at: int, props: dict) -> None:
        world.event(rng, kind, "courses", at, user.id, person.anon, person.device, props, session_id)

    for _ in range(lessons):
        if t > day_end:
            break
        if enrollment.tests_out and not enrollment.final_passed:
            enrollment.tests_out = False
            t = _quiz(world, rng, enrollment, course.final, t, emit)  # type: ignore[arg-type]
            continue
        while enrollment.position < len(course.lessons):
            lesson = course.lessons[enrollment.position]
            if lesson.required or not enrollment.skips_optional:
                break
            enrollment.position += 1
        if enrollment.position >= len(course.lessons):
            if course.final is not None and not enrollment.final_passed:
                t = _quiz(world, rng, enrollment, course.final, t, emit)
            break
        lesson = course.lessons[enrollment.position]
        ids = {"course_id": course.id, "lesson_id": lesson.id}
        emit("lesson_started", t, ids | {"position": lesson.position})
        finishes = rng.random() < 0.82
        watched = lesson.duration * 1000 if finishes else int(lesson.duration * 1000 * rng.uniform(0.1, 0.85))
        beat = t + HEARTBEAT
        while beat <= t + watched and beat <= day_end:
            emit("video_heartbeat", beat, ids | {"seconds": (beat - t) // MS_SECOND})
            beat += HEARTBEAT
            world.usage["heartbeats"] += 1
        t += watched + rng.randint(1, 4) * MS_SECOND
        if t > day_end:
            break
        if finishes:
            emit("lesson_completed", t, ids)
            enrollment.completed.add(lesson.position)
            enrollment.position += 1
            _check(world, enrollment, t)
            if lesson.quiz is not None:
                t = _quiz(world, rng, enrollment, lesson.quiz, t + rng.randint(5, 40) * MS_SECOND, emit)
        t += rng.randint(10, 120) * MS_SECOND
    enrollment.last_activity_at = enrollment.updated_at = min(t, day_end)
    world.rows.touch(enrollment)


def _quiz(world: World, rng: random.Random, enrollment: Enrollment, quiz: Quiz, t: int, emit) -> int:
    day_end = world.today_ms + 86_400_000 - 1
    for _ in range(3):
        t += rng.randint(60, 600) * MS_SECOND
        if t > day_end:
            return t
        score = round(min(1.0, max(0.0, rng.gauss(enrollment.skill, 0.15))), 2)
        emit("quiz_attempted", t, {"quiz_id": quiz.id, "course_id": quiz.course_id, "score": score})
        if score >= quiz.mastery:
            if quiz.kind == "final":
                enrollment.final_passed = True
                _check(world, enrollment, t)
            return t
        enrollment.skill = min(0.98, enrollment.skill + 0.03)
        if rng.random() < 0.4:
            return t
    return t


def _check(world: World, enrollment: Enrollment, at: int) -> None:
    if enrollment.completed_at is None and enrollment.rule_met():
        enrollment.completed_at = at
        world.truth.completion(enrollment)
