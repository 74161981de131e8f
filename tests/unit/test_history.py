from __future__ import annotations

from datetime import UTC, datetime, timedelta

import ibis
import pyarrow as pa

from transforms.silver.history import TABLES, history, plans_history, users_history

T0 = datetime(2026, 1, 1, tzinfo=UTC)
TS = pa.timestamp("us", tz="UTC")


def _at(day: int) -> datetime:
    return T0 + timedelta(days=day)


def _bronze(rows: list[dict]) -> ibis.Table:
    """Bronze rows of a subscriptions-like table; `ingested` defaults to the update day."""
    return ibis.memtable(
        pa.table(
            {
                "id": pa.array([r["id"] for r in rows], pa.string()),
                "status": pa.array([r.get("status") for r in rows], pa.string()),
                "note": pa.array([r.get("note", "") for r in rows], pa.string()),
                "updated_at": pa.array([_at(r["updated"]) for r in rows], TS),
                "deleted_at": pa.array([_at(r["deleted"]) if "deleted" in r else None for r in rows], TS),
                "_batch_id": pa.array([r["batch"] for r in rows], pa.string()),
                "_source": pa.array(["postgres:subscriptions"] * len(rows), pa.string()),
                "_ingested_at": pa.array([_at(r.get("ingested", r["updated"])) for r in rows], TS),
                "_deleted": pa.array([r.get("tombstone") for r in rows], pa.bool_()),
            }
        )
    )


def _versions(bronze: ibis.Table) -> list[tuple]:
    """(id, status, valid_from, valid_to, is_current, is_deleted, _batch_id) by id and valid_from."""
    rows = ibis.duckdb.connect().to_pyarrow(history(bronze, ("status",))).to_pylist()
    fields = ("id", "status", "valid_from", "valid_to", "is_current", "is_deleted", "_batch_id")
    return [tuple(r[f] for f in fields) for r in sorted(rows, key=lambda r: (r["id"], r["valid_from"]))]


def test_unchanged_tracked_columns_collapse_and_versions_chain() -> None:
    bronze = _bronze(
        [
            {"id": "s1", "status": "trialing", "updated": 1, "batch": "b1"},
            {"id": "s1", "status": "trialing", "note": "e-mail changed", "updated": 2, "batch": "b2"},
            {"id": "s1", "status": "active", "updated": 5, "batch": "b3"},
            {"id": "s1", "status": "past_due", "updated": 9, "batch": "b4"},
        ]
    )
    assert _versions(bronze) == [
        ("s1", "trialing", _at(1), _at(5), False, False, "b1"),
        ("s1", "active", _at(5), _at(9), False, False, "b3"),
        ("s1", "past_due", _at(9), None, True, False, "b4"),
    ]


def test_a_value_that_returns_is_a_new_version() -> None:
    bronze = _bronze(
        [
            {"id": "s1", "status": "active", "updated": 1, "batch": "b1"},
            {"id": "s1", "status": None, "updated": 2, "batch": "b2"},
            {"id": "s1", "status": None, "updated": 3, "batch": "b3"},
            {"id": "s1", "status": "active", "updated": 4, "batch": "b4"},
        ]
    )
    assert [(v[1], v[2], v[3]) for v in _versions(bronze)] == [
        ("active", _at(1), _at(2)),
        (None, _at(2), _at(4)),
        ("active", _at(4), None),
    ]


def test_replayed_extractions_add_no_versions() -> None:
    once = [
        {"id": "s1", "status": "trialing", "updated": 1, "batch": "b1"},
        {"id": "s1", "status": "active", "updated": 5, "batch": "b2"},
    ]
    replays = [
        {"id": "s1", "status": "trialing", "updated": 1, "ingested": 6, "batch": "resync"},
        {"id": "s1", "status": "active", "updated": 5, "ingested": 6, "batch": "resync"},
        {"id": "s1", "status": "active", "updated": 5, "ingested": 7, "batch": "replay"},
    ]
    assert _versions(_bronze(once + replays)) == _versions(_bronze(once))


def test_a_soft_delete_is_the_final_current_version() -> None:
    bronze = _bronze(
        [
            {"id": "u1", "status": "active", "updated": 1, "batch": "b1"},
            {"id": "u1", "status": "active", "updated": 4, "deleted": 4, "batch": "b2"},
        ]
    )
    assert _versions(bronze) == [
        ("u1", "active", _at(1), _at(4), False, False, "b1"),
        ("u1", "active", _at(4), None, True, True, "b2"),
    ]


def test_a_tombstone_starts_when_the_deletion_was_seen() -> None:
    # A tombstone repeats the last version's values and updated_at; a null _deleted is a live row.
    bronze = _bronze(
        [
            {"id": "d1", "status": "generated", "updated": 1, "batch": "b1", "tombstone": None},
            {"id": "d1", "status": "exported", "updated": 3, "batch": "b2", "tombstone": False},
            {"id": "d1", "status": "exported", "updated": 3, "ingested": 8, "batch": "r", "tombstone": True},
        ]
    )
    assert _versions(bronze) == [
        ("d1", "generated", _at(1), _at(3), False, False, "b1"),
        ("d1", "exported", _at(3), _at(8), False, False, "b2"),
        ("d1", "exported", _at(8), None, True, True, "r"),
    ]


def test_a_tombstone_seen_by_a_clock_behind_the_source_keeps_one_version_per_time() -> None:
    bronze = _bronze(
        [
            {"id": "d1", "status": "generated", "updated": 1, "batch": "b1"},
            {"id": "d1", "status": "exported", "updated": 5, "ingested": 3, "batch": "b2"},
            {"id": "d1", "status": "exported", "updated": 5, "ingested": 4, "batch": "r", "tombstone": True},
        ]
    )
    assert _versions(bronze) == [
        ("d1", "generated", _at(1), _at(5), False, False, "b1"),
        ("d1", "exported", _at(5), None, True, True, "r"),
    ]


def test_an_id_built_alone_equals_its_rows_in_the_full_build() -> None:
    rows = [
        {"id": "a", "status": "trialing", "updated": 1, "batch": "b1"},
        {"id": "b", "status": "active", "updated": 1, "batch": "b1"},
        {"id": "a", "status": "active", "updated": 2, "batch": "b2"},
        {"id": "b", "status": "active", "updated": 3, "deleted": 3, "batch": "b3"},
        {"id": "b", "status": "active", "updated": 3, "ingested": 9, "batch": "r", "tombstone": True},
        {"id": "c", "status": "active", "updated": 2, "batch": "b2"},
    ]
    full = _versions(_bronze(rows))
    for key in ("a", "b", "c"):
        alone = _versions(_bronze([r for r in rows if r["id"] == key]))
        assert alone == [v for v in full if v[0] == key]
        assert alone


def test_users_history_drops_email_and_plans_history_is_in_major_units() -> None:
    users = ibis.memtable(
        pa.table(
            {
                "id": ["u1", "u1"],
                "email": ["a@example.com", "b@example.com"],
                "country": ["DE", "DE"],
                "created_at": pa.array([_at(0)] * 2, TS),
                "updated_at": pa.array([_at(1), _at(2)], TS),
                "deleted_at": pa.array([None, None], TS),
                "signup_product": ["courses", "courses"],
                "marketing_opt_in": [True, True],
                "_batch_id": ["b1", "b2"],
                "_source": ["postgres:users"] * 2,
                "_ingested_at": pa.array([_at(1), _at(2)], TS),
                "_deleted": [False, False],
            }
        )
    )
    rows = ibis.duckdb.connect().to_pyarrow(users_history(users)).to_pylist()
    assert len(rows) == 1  # an e-mail change is not a version
    assert "email" not in rows[0]
    assert (rows[0]["valid_from"], rows[0]["is_current"]) == (_at(1), True)

    plans = ibis.memtable(
        pa.table(
            {
                "id": ["p1"],
                "product": ["courses"],
                "name": ["Pro"],
                "tier": ["pro"],
                "interval": ["month"],
                "interval_count": [1],
                "unit_amount": [2900],
                "currency": ["EUR"],
                "created_at": pa.array([_at(0)], TS),
                "updated_at": pa.array([_at(0)], TS),
                "deleted_at": pa.array([None], TS),
                "_batch_id": ["b1"],
                "_source": ["postgres:plans"],
                "_ingested_at": pa.array([_at(0)], TS),
            }
        )
    )
    plan = ibis.duckdb.connect().to_pyarrow(plans_history(plans)).to_pylist()[0]
    assert (plan["unit_amount"], plan["currency"]) == (29.0, "EUR")


def test_history_tables_are_versioned_by_id_and_valid_from() -> None:
    assert {t.name for t in TABLES} == {
        "silver/users_history",
        "silver/plans_history",
        "silver/subscriptions_history",
        "silver/subscription_discounts_history",
    }
    for table in TABLES:
        assert table.keys == ("id", "valid_from")
        assert table.filters == {table.inputs[0]: "id"}
