from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from ingestion.events import parse_lines, parse_texts

GOOD = {
    "event_id": "e1",
    "event_type": "lesson_completed",
    "product": "courses",
    "occurred_at": "2026-01-31T23:30:00.000-05:00",
    "user_id": "user_1",
    "anonymous_id": None,
    "context": {"device": "mobile"},
    "properties": {"lesson_id": "l1"},
    "schema_version": 1,
}


def _row(record: dict) -> dict:
    rows, quarantined = parse_lines([json.dumps(record)])
    assert quarantined.num_rows == 0, quarantined.to_pylist()
    return rows.to_pylist()[0]


def _reason(line: str) -> str:
    rows, quarantined = parse_lines([line])
    assert rows.num_rows == 0
    return quarantined.to_pylist()[0]["reason"]


def test_occurred_at_is_converted_to_utc_and_dated_in_utc() -> None:
    row = _row(GOOD)
    assert row["occurred_at"] == datetime(2026, 2, 1, 4, 30, tzinfo=UTC)
    assert row["event_date"] == date(2026, 2, 1)
    assert row["extra"] is None


def test_unknown_top_level_fields_are_kept_not_dropped() -> None:
    row = _row(GOOD | {"experiment": "b", "session": {"id": 7}})
    assert json.loads(row["extra"]) == {"experiment": "b", "session": {"id": 7}}
    assert json.loads(row["properties"]) == {"lesson_id": "l1"}
    assert json.loads(row["context"]) == {"device": "mobile"}


def test_escaped_strings_are_decoded() -> None:
    row = _row(GOOD | {"event_id": 'quote"and\\backslash', "user_id": "ü-ser"})
    assert row["event_id"] == 'quote"and\\backslash'
    assert row["user_id"] == "ü-ser"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"occurred_at": "2026-01-31T10:00:00"}, "occurred_at has no time zone"),
        ({"occurred_at": "yesterday"}, "occurred_at is not ISO 8601"),
        ({"product": "crm"}, 'unknown product "crm"'),
        ({"event_id": 42}, "event_id missing or not a string"),
        ({"user_id": None}, "neither user_id nor anonymous_id"),
        ({"properties": [1, 2]}, "properties is not an object"),
        ({"schema_version": "2"}, "schema_version is not an integer"),
        ({"schema_version": 2.5}, "schema_version is not an integer"),
        ({"user_id": 17}, "user_id is not a string"),
        ({"context": "mobile"}, "context is not an object"),
        ({"event_type": ""}, "event_type missing or not a string"),
    ],
)
def test_contract_breaks_are_rejected_with_their_reason(change: dict, reason: str) -> None:
    assert reason in _reason(json.dumps(GOOD | change))


def test_missing_required_field_is_rejected() -> None:
    record = {k: v for k, v in GOOD.items() if k != "occurred_at"}
    assert _reason(json.dumps(record)) == "occurred_at missing or not a string"


def test_files_keep_good_lines_and_quarantine_bad_ones_with_line_numbers() -> None:
    first = [json.dumps(GOOD), "{not json", "", json.dumps(GOOD | {"event_id": "e2"}), "[1]"]
    second = ["\ufeff" + json.dumps(GOOD | {"event_id": "e3"}), "  ", json.dumps(GOOD | {"event_id": "e4"})]
    texts = ["\n".join(first).encode(), ("\r\n".join(second) + "\r\n").encode() + b"\xff\n"]
    rows, quarantined = parse_texts(texts)
    got = sorted((r["_batch"], r["_line"], r["event_id"]) for r in rows.to_pylist())
    assert got == [(0, 1, "e1"), (0, 4, "e2"), (1, 3, "e4")]
    bad = sorted((q["_batch"], q["_line"], q["reason"], q["raw"]) for q in quarantined.to_pylist())
    assert bad == [
        (0, 2, "malformed JSON", "{not json"),
        (0, 5, "not a JSON object", "[1]"),
        (1, 1, "malformed JSON", "\ufeff" + json.dumps(GOOD | {"event_id": "e3"})),
        (1, 4, "malformed JSON", "\ufffd"),
    ]
