from __future__ import annotations

import gzip
import json
from datetime import UTC, date, datetime

import pytest

from ingestion.events import Rejected, parse_event, parse_file
from ingestion.landing import LandedFile

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


def test_occurred_at_is_converted_to_utc_and_dated_in_utc() -> None:
    row = parse_event(json.dumps(GOOD))
    assert row["occurred_at"] == datetime(2026, 2, 1, 4, 30, tzinfo=UTC)
    assert row["event_date"] == date(2026, 2, 1)
    assert row["extra"] is None


def test_unknown_top_level_fields_are_kept_not_dropped() -> None:
    row = parse_event(json.dumps(GOOD | {"experiment": "b"}))
    assert json.loads(row["extra"]) == {"experiment": "b"}


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"occurred_at": "2026-01-31T10:00:00"}, "occurred_at has no time zone"),
        ({"occurred_at": "yesterday"}, "occurred_at is not ISO 8601"),
        ({"product": "crm"}, "unknown product 'crm'"),
        ({"event_id": 42}, "event_id missing or not a string"),
        ({"user_id": None}, "neither user_id nor anonymous_id"),
        ({"properties": [1, 2]}, "properties is not an object"),
        ({"schema_version": "2"}, "schema_version is not an integer"),
    ],
)
def test_contract_breaks_are_rejected_with_their_reason(change: dict, reason: str) -> None:
    with pytest.raises(Rejected) as rejected:
        parse_event(json.dumps(GOOD | change))
    assert reason in rejected.value.reason


def test_a_file_keeps_good_lines_and_quarantines_bad_ones_with_line_numbers() -> None:
    lines = [json.dumps(GOOD), "{not json", "", json.dumps(GOOD | {"event_id": "e2"}), "[1]"]
    landed = LandedFile("events/x.ndjson.gz", gzip.compress("\n".join(lines).encode()))
    rows, quarantined = parse_file(landed)
    assert rows.column("event_id").to_pylist() == ["e1", "e2"]
    assert rows.column("_line").to_pylist() == [1, 4]
    assert [(q["_line"], q["reason"].split(":")[0]) for q in quarantined] == [
        (2, "malformed JSON"),
        (5, "not a JSON object"),
    ]
    assert quarantined[0]["raw"] == "{not json"
