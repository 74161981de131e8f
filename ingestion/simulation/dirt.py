"""From true events to the lines of each day's file, with the dirt real trackers produce.

- clock skew: a skewed device reports its events minutes to hours off (never before the window's
  first instant, never after the end of the day it is filed on);
- late events: delivered 1..7 days after the day they report, in that later day's file;
- duplicates: the same line re-sent, the same day or a few days later (at most 7 days after);
- malformed lines: truncated JSON and garbage;
- a new top-level field (`session_id`) on events that happened from a given day on;
- wrong types: `properties.tokens` as a string (still a valid line) and, on passive events only,
  `schema_version` "2" (the line is quarantined, so it never counts as the event).

Each line is filed by the instant it was received; a day's file is its lines in that order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from ingestion.simulation.clock import MS_DAY, MS_SECOND, day_ms, ordinal_of
from ingestion.simulation.config import PASSIVE, SimConfig
from ingestion.simulation.events import Event, envelope
from ingestion.simulation.rand import poisson
from ingestion.simulation.world import World

TOKEN_EVENTS = ("content_generated", "document_generated")
GARBAGE = (
    '{"event_id": "broken", "event_type": ',
    "not json at all",
    '{"event_id": "x1", "product": "courses",}',
)


@dataclass
class FileLines:
    """One day's file: its lines and what they are (for counts and the ground truth)."""

    lines: list[str] = field(default_factory=list)
    delivered: list[tuple[Event, int]] = field(default_factory=list)  # first copies: (event, reported ms)
    duplicates: list[tuple[Event, int]] = field(default_factory=list)  # re-sent copies
    malformed: list[str] = field(default_factory=list)
    quarantined: list[str] = field(default_factory=list)  # lines of true events the contract rejects
    late: int = 0
    skewed: int = 0
    tokens_as_string: int = 0


class Delivery:
    def __init__(self, config: SimConfig) -> None:
        self.dirt = config.dirt
        self.window_start = day_ms(config.start)
        first = self.dirt.new_field_after_days
        self.new_field_from = None if first is None else day_ms(config.start + timedelta(days=first))
        # arrival day ordinal → [(received ms, tie, line, event or None, reported ms, kind)]
        self.pending: dict[int, list[tuple]] = {}

    def file(self, world: World) -> FileLines:
        """Today's file: today's events received today, and earlier ones whose day of arrival is today."""
        rng = world.rng("dirt")
        dirt = self.dirt
        today = world.today.toordinal()
        day_end = world.today_ms + MS_DAY - 1
        received: list[tuple] = self.pending.pop(today, [])
        for event in world.events:
            reported = min(max(event.t + event.device.skew, self.window_start), day_end)
            schema: int | str = 1
            if event.type in PASSIVE and dirt.schema_v2_rate and rng.random() < dirt.schema_v2_rate:
                schema = "2"
            line = envelope(
                event,
                reported,
                session_field=self.new_field_from is not None and event.t >= self.new_field_from,
                tokens_as_string=event.type in TOKEN_EVENTS and rng.random() < dirt.tokens_as_string_rate,
                schema_version=schema,
            )
            kind = "quarantined" if schema != 1 else "event"
            arrival, at = today, event.t
            if dirt.late_rate and rng.random() < dirt.late_rate:
                arrival = max(today, ordinal_of(reported) + rng.randint(1, dirt.max_late_days))
                at = day_ms_of(arrival) + rng.randrange(MS_DAY)
                kind = "late" if kind == "event" else kind
            self._deliver(received, today, arrival, (at, event.id, line, event, reported, kind))
            if kind != "quarantined" and dirt.duplicate_rate and rng.random() < dirt.duplicate_rate:
                last_allowed = ordinal_of(reported) + dirt.max_late_days
                again = (
                    arrival
                    if rng.random() < 0.7
                    else max(arrival, min(arrival + rng.randint(1, 3), last_allowed))
                )
                if again == arrival:
                    again_at = min(at + rng.randint(1, 300) * MS_SECOND, day_ms_of(arrival) + MS_DAY - 1)
                else:
                    again_at = day_ms_of(again) + rng.randrange(MS_DAY)
                self._deliver(
                    received, today, again, (again_at, event.id + "~", line, event, reported, "duplicate")
                )
        count = len(received)
        mean = dirt.malformed_rate * count + (
            0.3 if dirt.malformed_rate else 0.0
        )  # a few a week at any scale
        for _ in range(poisson(rng, mean) if count else 0):
            if rng.random() < 0.6:
                source = received[rng.randrange(count)][2]
                line = source[: max(12, len(source) // 2)]
            else:
                line = rng.choice(GARBAGE)
            received.append(
                (world.today_ms + rng.randrange(MS_DAY), "~malformed", line, None, 0, "malformed")
            )
        received.sort(key=lambda entry: (entry[0], entry[1]))
        out = FileLines()
        for _, _, line, event, reported, kind in received:
            out.lines.append(line)
            if kind in ("event", "late"):
                out.delivered.append((event, reported))
                out.late += kind == "late"
                out.skewed += event.device.skew != 0
                out.tokens_as_string += '"tokens":"' in line
            elif kind == "duplicate":
                out.duplicates.append((event, reported))
            elif kind == "malformed":
                out.malformed.append(line)
            else:
                out.quarantined.append(line)
        return out

    def _deliver(self, received: list, today: int, arrival: int, entry: tuple) -> None:
        if arrival == today:
            received.append(entry)
        else:
            self.pending.setdefault(arrival, []).append(entry)

    @property
    def in_flight(self) -> int:
        """Lines waiting for a later day's file (not delivered if the window ends first)."""
        return sum(len(entries) for entries in self.pending.values())


def day_ms_of(ordinal: int) -> int:
    return day_ms(date.fromordinal(ordinal))
