"""Filter values reach a query only when the warehouse holds them; date ranges stay inside the data."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from dashboards.filters import Refused, Selection, choose, choose_range

CHANNELS = ("affiliate", "email", "paid_search")
FIRST, LAST = date(2026, 1, 28), date(2026, 2, 2)


def test_a_known_value_is_chosen_and_nothing_means_every_value() -> None:
    assert choose("email", CHANNELS, "channel") == "email"
    assert choose(None, CHANNELS, "channel") is None
    assert choose("", CHANNELS, "channel") is None


@pytest.mark.parametrize(
    "hostile",
    [
        "email'; drop table marketing.fct_channel_performance; --",
        "email' or '1'='1",
        "x" * 10_000,
        "Email",  # values are compared exactly: no case folding that could match something else
        "email ",
    ],
)
def test_anything_else_is_refused_with_a_short_message(hostile: str) -> None:
    with pytest.raises(Refused) as refused:
        choose(hostile, CHANNELS, "channel")
    message = str(refused.value)
    assert message.startswith("Unknown channel") and "showing every channel" in message
    assert len(message) < 200  # a 10,000-character value is not echoed back whole


@pytest.mark.parametrize("wrong", [12, ["email"], {"channel": "email"}, b"email"])
def test_a_value_that_is_not_text_is_refused(wrong: object) -> None:
    with pytest.raises(Refused, match="not a channel"):
        choose(wrong, CHANNELS, "channel")


def test_a_date_range_is_cut_to_the_data() -> None:
    assert choose_range((date(2026, 1, 30), date(2026, 2, 1)), FIRST, LAST) == (
        date(2026, 1, 30),
        date(2026, 2, 1),
    )
    assert choose_range((date(2025, 1, 1), date(2027, 1, 1)), FIRST, LAST) == (FIRST, LAST)
    assert choose_range(["2026-01-29", "2026-01-31"], FIRST, LAST) == (date(2026, 1, 29), date(2026, 1, 31))
    assert choose_range((datetime(2026, 1, 29, 13, 5),), FIRST, LAST) == (
        date(2026, 1, 29),
        date(2026, 1, 29),
    )


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ((date(2026, 2, 1), date(2026, 1, 29)), "starts .2026-02-01. after it ends .2026-01-29."),
        ((date(2020, 1, 1), date(2020, 2, 1)), "No data between"),
        (("2026-01-29'; drop table x; --", "2026-01-30"), "is not a day"),
        (("29/01/2026", "2026-01-30"), "is not a day"),
        (("x" * 10_000, "2026-01-30"), "is not a day"),
        ("2026-01-29", "needs a start and an end"),
        ((), "needs a start and an end"),
        ((FIRST, FIRST, LAST), "needs a start and an end"),
        ((12, 13), "is not a day"),
    ],
)
def test_a_bad_date_range_is_refused(raw: object, message: str) -> None:
    with pytest.raises(Refused, match=message) as refused:
        choose_range(raw, FIRST, LAST)
    assert len(str(refused.value)) < 200


def test_a_selection_filters_only_the_dimensions_a_mart_has() -> None:
    chosen = Selection(product="documents", channel="email", course="course_01", llm_model="gpt-4o")
    assert chosen.applied(("channel", "campaign", "attribution_model")) == {
        "channel": "email",
        "attribution_model": "last_touch",
    }
    assert chosen.applied(("product", "model")) == {"product": "documents", "model": "gpt-4o"}
    assert chosen.applied(("course_id", "is_open")) == {"course_id": "course_01"}
    assert Selection().applied(("product", "channel", "course_id")) == {}
