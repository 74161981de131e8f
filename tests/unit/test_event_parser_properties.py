"""Property tests: whatever lands in a file, parsing never fails and every line is accounted for."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingestion.events import parse_texts

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)

GOOD = st.fixed_dictionaries(
    {
        "event_id": st.text(min_size=1, max_size=30).filter(lambda s: s.strip() == s and s),
        "event_type": st.sampled_from(["page_view", "signup", "lesson_completed", "content_generated"]),
        "product": st.sampled_from(["courses", "marketing", "documents"]),
        "occurred_at": st.tuples(
            st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1)),
            st.integers(min_value=-14 * 60, max_value=14 * 60),
        ).map(lambda t: t[0].replace(tzinfo=timezone(timedelta(minutes=t[1]))).isoformat()),
        "user_id": st.text(min_size=1, max_size=12),
    },
    optional={
        "context": st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=3),
        "properties": st.dictionaries(st.text(max_size=8), json_values, max_size=3),
        "schema_version": st.integers(min_value=1, max_value=5),
        "surprise_field": json_values,
    },
)

# a good record with one field replaced by anything at all, or dropped
MUTATED = st.tuples(
    GOOD,
    st.sampled_from(["event_id", "product", "occurred_at", "user_id", "context"]),
    json_values | st.just(...),
).map(lambda t: {k: v for k, v in (t[0] | {t[1]: t[2]}).items() if v is not ...})

LINE = st.one_of(
    GOOD.map(lambda r: ("good", json.dumps(r))),
    MUTATED.map(lambda r: ("any", json.dumps(r))),
    st.text(max_size=60).filter(lambda s: "\n" not in s and "\r" not in s).map(lambda s: ("any", s)),
    json_values.map(lambda v: ("any", json.dumps(v))),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files=st.lists(st.lists(LINE, max_size=25), min_size=1, max_size=3))
def test_every_line_becomes_a_row_or_a_quarantined_record_with_a_reason(files) -> None:
    texts = ["\n".join(line for _, line in lines).encode("utf-8", errors="surrogatepass") for lines in files]
    rows, quarantined = parse_texts(texts)
    for number, lines in enumerate(files):
        non_blank = {i + 1 for i, (_, line) in enumerate(lines) if line.strip(" \t\r\n")}
        row_lines = [r["_line"] for r in rows.to_pylist() if r["_batch"] == number]
        bad = [q for q in quarantined.to_pylist() if q["_batch"] == number]
        bad_lines = [q["_line"] for q in bad]
        # nothing lost, nothing counted twice
        assert sorted(row_lines + bad_lines) == sorted(non_blank)
        assert all(q["reason"] for q in bad)
        # a record that keeps the contract is never quarantined
        good = {i + 1 for i, (kind, _) in enumerate(lines) if kind == "good"}
        assert good <= set(row_lines)
    assert rows.column("occurred_at").null_count == 0
    assert rows.column("event_date").null_count == 0
