from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import ibis
import pyarrow as pa

from transforms.silver.catalog import TABLES, lessons, quizzes, subscription_discounts, workspaces

T1, T2 = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 5, tzinfo=UTC)
TS = pa.timestamp("us", tz="UTC")


def _bronze(columns: dict[str, pa.Array | list], updated: list[datetime], **lineage: list) -> ibis.Table:
    n = len(updated)
    return ibis.memtable(
        pa.table(
            {
                **columns,
                "created_at": pa.array([T1] * n, TS),
                "updated_at": pa.array(updated, TS),
                "deleted_at": pa.array(lineage.get("deleted_at", [None] * n), TS),
                "_batch_id": [f"b{i}" for i in range(n)],
                "_source": ["postgres:x"] * n,
                "_ingested_at": pa.array(updated, TS),
                "_deleted": pa.array(lineage.get("_deleted", [False] * n), pa.bool_()),
            }
        )
    )


def _run(expr: ibis.Table) -> list[dict]:
    return sorted(ibis.duckdb.connect().to_pyarrow(expr).to_pylist(), key=lambda r: r["id"])


def test_a_quiz_without_mastery_score_needs_the_default() -> None:
    bronze = _bronze(
        {
            "id": ["q1", "q2", "q1"],
            "course_id": ["c1", "c1", "c1"],
            "lesson_id": ["l1", None, "l1"],
            "kind": ["lesson", "final", "lesson"],
            "mastery_score": pa.array([Decimal("0.60"), None, Decimal("0.75")], pa.decimal128(4, 2)),
            "question_count": [5, 20, 5],
        },
        [T1, T1, T2],
    )
    rows = _run(quizzes(bronze))
    assert [(r["id"], r["mastery_score"], r["_batch_id"]) for r in rows] == [
        ("q1", 0.75, "b2"),
        ("q2", 0.8, "b1"),
    ]
    assert isinstance(rows[0]["mastery_score"], float)


def test_lessons_keep_position_and_requirement_and_drop_deleted_ones() -> None:
    bronze = _bronze(
        {
            "id": ["l1", "l2", "l3", "l3"],
            "course_id": ["c1"] * 4,
            "position": [1, 2, 3, 3],
            "title": ["Intro", "Prompts", "Extra", "Extra"],
            "duration_seconds": [300, 600, 120, 120],
            "is_required": [True, True, False, False],
        },
        [T1, T1, T1, T2],
        _deleted=[False, None, False, True],
    )
    rows = _run(lessons(bronze))
    assert [(r["id"], r["position"], r["is_required"]) for r in rows] == [("l1", 1, True), ("l2", 2, True)]


def test_discounts_are_in_major_units_and_soft_deleted_ones_are_gone() -> None:
    bronze = _bronze(
        {
            "id": ["d1", "d2", "d3", "d3"],
            "subscription_id": ["s1", "s2", "s3", "s3"],
            "user_id": ["u1", "u2", "u3", "u3"],
            "coupon_code": ["LAUNCH20", "TENOFF", "GONE", "GONE"],
            "percent_off": pa.array(
                [Decimal("20.00"), None, Decimal("5.00"), Decimal("5.00")], pa.decimal128(5, 2)
            ),
            "amount_off": pa.array([None, 1050, None, None], pa.int64()),
            "currency": ["USD", "GBP", None, None],
            "duration": ["repeating", "forever", "once", "once"],
            "duration_in_months": pa.array([3, None, None, None], pa.int32()),
            "starts_at": pa.array([T1] * 4, TS),
            "ends_at": pa.array([None] * 4, TS),
        },
        [T1, T1, T1, T2],
        deleted_at=[None, None, None, T2],
    )
    rows = _run(subscription_discounts(bronze))
    assert [
        (r["id"], r["percent_off"], r["amount_off"], r["currency"], r["duration_in_months"]) for r in rows
    ] == [
        ("d1", 20.0, None, "USD", 3),
        ("d2", None, 10.5, "GBP", None),
    ]


def test_workspaces_leave_their_names_in_bronze() -> None:
    bronze = _bronze(
        {
            "id": ["w1"],
            "owner_user_id": ["u1"],
            "name": ["Jane Doe's workspace"],
            "brand_voice": ["playful"],
            "seats": pa.array([3], pa.int32()),
        },
        [T1],
    )
    rows = _run(workspaces(bronze))
    assert rows == [
        {
            "id": "w1",
            "owner_user_id": "u1",
            "brand_voice": "playful",
            "seats": 3,
            "created_at": T1,
            "updated_at": T1,
            "_batch_id": "b0",
        }
    ]


def test_catalog_tables_are_one_row_per_id_rebuilt_by_id() -> None:
    assert [t.name for t in TABLES] == [
        "silver/courses",
        "silver/lessons",
        "silver/quizzes",
        "silver/workspaces",
        "silver/document_templates",
        "silver/subscription_discounts",
    ]
    for table in TABLES:
        assert table.keys == ("id",)
        assert table.inputs == (table.name.replace("silver/", "bronze/pg_"),)
        assert table.filters == {table.inputs[0]: "id"}
