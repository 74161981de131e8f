"""What the business sells: plans, courses with ordered lessons and quizzes, document templates, models.

The catalogue depends on the seed only (not on the scale): a new course is published every 30 days.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from ingestion.simulation.clock import MS_DAY, MS_HOUR, day_ms
from ingestion.simulation.config import INTERVAL_MONTHS, MODELS, PLAN_KEYS, PLANS, WARMUP_DAYS
from ingestion.simulation.rand import stream


@dataclass(frozen=True)
class Plan:
    id: str
    product: str
    name: str
    interval: str
    interval_count: int
    unit_amount: int
    currency: str
    tier: str

    @property
    def months(self) -> float:
        """Length of one billing cycle in months (a week is 12/52 of a month)."""
        return INTERVAL_MONTHS[self.interval] * self.interval_count

    def monthly(self, quantity: int = 1) -> float:
        """Recurring amount per month in minor units."""
        return self.unit_amount * quantity / self.months


PLAN_LIST = tuple(Plan(*p) for p in PLANS)
PLANS_BY_ID = {p.id: p for p in PLAN_LIST}


def plan_rows(created_ms: int) -> list[dict]:
    return [
        dict(zip(PLAN_KEYS, p, strict=True))
        | {"created_at": created_ms, "updated_at": created_ms, "deleted_at": None}
        for p in PLANS
    ]


def plans_for(product: str, currency: str) -> list[Plan]:
    """The plans a customer paying in `currency` can choose; USD where the currency has none."""
    own = [p for p in PLAN_LIST if p.product == product and p.currency == currency]
    return own or [p for p in PLAN_LIST if p.product == product and p.currency == "USD"]


CATEGORIES = ("prompt engineering", "machine learning", "data analysis", "AI for marketing", "automation")
TOPICS = (
    "Prompting Foundations",
    "Building with LLM APIs",
    "Retrieval-Augmented Generation",
    "AI Copywriting",
    "Data Analysis with AI",
    "Automating Workflows",
    "Evaluating Models",
    "AI Product Management",
    "Fine-tuning in Practice",
    "AI Ethics at Work",
    "Image Generation for Brands",
    "Agents and Tools",
)
RULES = ("completed", "completed", "passed", "completed_and_passed")
INITIAL_COURSES = 10
NEW_COURSE_EVERY_DAYS = 30


@dataclass
class Lesson:
    id: str
    course_id: str
    position: int
    title: str
    duration: int  # seconds of video
    required: bool
    quiz: Quiz | None = None


@dataclass
class Quiz:
    id: str
    course_id: str
    lesson_id: str | None
    kind: str  # lesson or final
    mastery: float
    questions: int


@dataclass
class Course:
    id: str
    title: str
    category: str
    rule: str
    published_ms: int
    lessons: list[Lesson] = field(default_factory=list)
    final: Quiz | None = None
    popularity: float = 1.0

    @property
    def required(self) -> int:
        return sum(lesson.required for lesson in self.lessons)


def make_course(seed: int, number: int, published_ms: int) -> Course:
    rng = stream(seed, "course", number)
    course_id = f"course_{number:02d}"
    title = TOPICS[number % len(TOPICS)] + ("" if number < len(TOPICS) else f" {number // len(TOPICS) + 1}")
    course = Course(
        course_id,
        title,
        rng.choice(CATEGORIES),
        rng.choice(RULES),
        published_ms,
        popularity=rng.uniform(0.3, 2.0),
    )
    for position in range(1, rng.randint(5, 12) + 1):
        lesson_id = f"{course_id}_l{position:02d}"
        lesson = Lesson(
            lesson_id,
            course_id,
            position,
            f"{title}: part {position}",
            rng.randrange(60, 240, 10),
            rng.random() < 0.9 or position == 1,
        )
        if rng.random() < 0.35:
            lesson.quiz = Quiz(
                f"{lesson_id}_quiz",
                course_id,
                lesson_id,
                "lesson",
                rng.choice((0.7, 0.8, 0.8)),
                rng.randint(3, 8),
            )
        course.lessons.append(lesson)
    if course.rule != "completed":
        course.final = Quiz(f"{course_id}_final", course_id, None, "final", rng.choice((0.7, 0.75, 0.8)), 20)
    return course


class Catalog:
    """Courses published so far; `publish_due` adds the ones whose day has come."""

    def __init__(self, seed: int, start: date) -> None:
        self.seed = seed
        self.start = start
        self.courses: list[Course] = []
        self.cumulative: list[float] = []

    def course_day(self, number: int) -> date:
        if number < INITIAL_COURSES:
            return self.start - timedelta(days=WARMUP_DAYS - 1 + (INITIAL_COURSES - number) * 20)
        return self.start + timedelta(days=21 + NEW_COURSE_EVERY_DAYS * (number - INITIAL_COURSES))

    def publish_due(self, day: date) -> list[Course]:
        """Courses published on or before `day` not yet in the catalogue (in number order)."""
        new = []
        while self.course_day(len(self.courses)) <= day:
            number = len(self.courses)
            published = day_ms(self.course_day(number)) + 15 * MS_HOUR
            course = make_course(self.seed, number, published)
            self.courses.append(course)
            total = (self.cumulative[-1] if self.cumulative else 0.0) + course.popularity
            self.cumulative.append(total)
            new.append(course)
        return new


def course_rows(course: Course) -> list[tuple[str, dict]]:
    """All rows of a course, as of its publication (created a week before)."""
    created = course.published_ms - 7 * MS_DAY
    stamp = {"created_at": created, "updated_at": course.published_ms, "deleted_at": None}
    rows: list[tuple[str, dict]] = [
        (
            "courses",
            {
                "id": course.id,
                "title": course.title,
                "category": course.category,
                "completion_rule": course.rule,
                "published_at": course.published_ms,
            }
            | stamp,
        )
    ]
    for lesson in course.lessons:
        rows.append(
            (
                "lessons",
                {
                    "id": lesson.id,
                    "course_id": course.id,
                    "position": lesson.position,
                    "title": lesson.title,
                    "duration_seconds": lesson.duration,
                    "is_required": lesson.required,
                }
                | stamp,
            )
        )
    quizzes = [lesson.quiz for lesson in course.lessons if lesson.quiz] + (
        [course.final] if course.final else []
    )
    for quiz in quizzes:
        rows.append(
            (
                "quizzes",
                {
                    "id": quiz.id,
                    "course_id": course.id,
                    "lesson_id": quiz.lesson_id,
                    "kind": quiz.kind,
                    "mastery_score": quiz.mastery,
                    "question_count": quiz.questions,
                }
                | stamp,
            )
        )
    return rows


TEMPLATES = (
    ("tpl_contract", "Service contract", "legal"),
    ("tpl_nda", "Non-disclosure agreement", "legal"),
    ("tpl_invoice", "Invoice", "finance"),
    ("tpl_proposal", "Business proposal", "sales"),
    ("tpl_resume", "Résumé", "career"),
    ("tpl_cover_letter", "Cover letter", "career"),
    ("tpl_report", "Quarterly report", "finance"),
    ("tpl_policy", "Privacy policy", "legal"),
    ("tpl_press", "Press release", "marketing"),
    ("tpl_sop", "Standard operating procedure", "operations"),
)
TEMPLATE_WEIGHTS = (8, 6, 5, 7, 9, 5, 3, 2, 2, 3)


def template_rows(created_ms: int) -> list[dict]:
    return [
        {
            "id": t,
            "name": n,
            "category": c,
            "created_at": created_ms,
            "updated_at": created_ms,
            "deleted_at": None,
        }
        for t, n, c in TEMPLATES
    ]


class LlmPrices:
    """USD per 1k tokens per model and day: each model's price is cut now and then (seeded schedule)."""

    def __init__(self, seed: int, first_day: date) -> None:
        self.first_day = first_day
        self.cuts: dict[str, list[tuple[date, float]]] = {}
        for model, (_, price, _) in MODELS.items():
            rng = stream(seed, "llm_price_cuts", model)
            day, cuts = first_day, [(first_day, price)]
            for _ in range(40):  # about forty years of price cuts
                day += timedelta(days=rng.randint(120, 420))
                price = round(price * rng.uniform(0.55, 0.9), 7)
                cuts.append((day, price))
            self.cuts[model] = cuts

    def price(self, model: str, day: date) -> float:
        current = self.cuts[model][0][1]
        for since, price in self.cuts[model]:
            if since > day:
                break
            current = price
        return current
