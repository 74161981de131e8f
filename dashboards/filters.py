"""What a viewer may filter on, checked before it reaches a query: pure functions, no Streamlit.

A filter value arrives from a widget, from the URL or from session state; whatever its route, it is used
only when it is one of the values the warehouse holds (read with the catalogue's `values_query`), and
even then it reaches the SQL only as a bound parameter. A date range is kept inside the data's days.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

# Longest text shown back in a message about a refused value: a 10,000-character value is not echoed.
_SHOWN = 40


@dataclass(frozen=True)
class Selection:
    """The filters of a page; None keeps every value (or, for dates, every day)."""

    start: date | None = None
    end: date | None = None
    product: str | None = None
    channel: str | None = None
    campaign: str | None = None
    course: str | None = None
    llm_model: str | None = None
    attribution_model: str = "last_touch"

    def applied(self, dimensions: Sequence[str]) -> dict[str, str]:
        """Catalogue filters for a mart with these dimensions: the chosen values its dimensions take."""
        chosen = {DIMENSIONS[name]: getattr(self, name) for name in DIMENSIONS}
        return {dim: value for dim, value in chosen.items() if value is not None and dim in dimensions}


# Selection field -> the dimension it filters in the marts' semantic models.
DIMENSIONS = {
    "product": "product",
    "channel": "channel",
    "campaign": "campaign",
    "course": "course_id",
    "llm_model": "model",
    "attribution_model": "attribution_model",
}


class Refused(ValueError):
    """A filter value that is not used; the message says why and what happens instead."""


def choose(raw: object, known: Sequence[str], what: str) -> str | None:
    """`raw` when it is one of `known`; None (every value) when it is empty; Refused otherwise."""
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str):
        raise Refused(f"The {what} filter got a {type(raw).__name__}, not a {what}: showing every {what}.")
    if raw not in known:
        raise Refused(f"Unknown {what} {shown(raw)}: showing every {what}. Choose one from the list.")
    return raw


def choose_range(raw: object, first: date, last: date) -> tuple[date, date]:
    """Two days within [first, last], start before end; Refused for anything else.

    A range reaching beyond the data is cut to it rather than refused: the viewer asked for at least
    every day there is.
    """
    if not isinstance(raw, Sequence) or isinstance(raw, str) or len(raw) not in (1, 2):
        raise Refused("The date range needs a start and an end day: showing every day.")
    days = [_as_day(value) for value in raw]
    start, end = days[0], days[-1]
    if start > end:
        raise Refused(
            f"The date range starts ({start}) after it ends ({end}): showing every day. "
            "Pick the earlier day first."
        )
    if end < first or start > last:
        raise Refused(f"No data between {start} and {end}; the data covers {first} to {last}.")
    return max(start, first), min(end, last)


def _as_day(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and len(value) <= len("2026-01-01"):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise Refused(f"{shown(value)} is not a day (YYYY-MM-DD): showing every day.")


def shown(raw: object) -> str:
    """A refused value as a message may repeat it: quoted, cut short."""
    text = str(raw)
    return repr(text if len(text) <= _SHOWN else text[:_SHOWN] + "…")
