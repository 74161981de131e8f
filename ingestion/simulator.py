"""The business simulator: a deterministic world of the three products, written where real sources are.

The engine lives in `ingestion.simulation` (one module per part of the business). This module keeps the
public face: the business constants, `simulate()` for a small world held in memory (tests, ground
truth next to a pipeline run), and the command line:

    python -m ingestion.simulator --seed 7 --scale 1 --start 2025-01-01 --days 365 --landing data/landing \\
        [--postgres-dsn postgresql://...] [--ground-truth data/ground_truth] [--no-dirt]

The same seed, scale and start give the same bytes; a longer window repeats a shorter one and adds days.
Large worlds are streamed day by day (`ingestion.world_writer.produce`), never held in memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from ingestion.simulation.clock import iso, to_datetime
from ingestion.simulation.config import (
    ACQUISITION,
    ACTIVITY,
    CURRENCIES,
    INTERVAL_MONTHS,
    PAID_CAMPAIGNS,
    PASSIVE,
    PLAN_KEYS,
    PLANS,
    PRODUCTS,
    DirtConfig,
    SimConfig,
    scale_for_users,
)
from ingestion.simulation.dirt import FileLines
from ingestion.simulation.engine import Outputs, Summary, run
from ingestion.simulation.events import Event
from ingestion.simulation.rows import MemoryRows
from ingestion.simulation.truth import MemoryTruth
from ingestion.simulation.writer import MemoryFiles

__all__ = [
    "ACQUISITION",
    "ACTIVITY",
    "CURRENCIES",
    "INTERVAL_MONTHS",
    "PAID_CAMPAIGNS",
    "PASSIVE",
    "PLANS",
    "PRODUCTS",
    "DirtConfig",
    "Record",
    "SimConfig",
    "World",
    "simulate",
]


class Record(dict):
    """An operational row as of the window's end; columns read as attributes (timestamps as datetimes)."""

    def __getattr__(self, name: str) -> object:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


_TIMESTAMPS = {
    "created_at",
    "updated_at",
    "deleted_at",
    "trial_end",
    "started_at",
    "ended_at",
    "current_period_start",
    "current_period_end",
    "cancel_at",
    "canceled_at",
}


@dataclass
class World:
    """A small simulated world in memory: its files, rows as of the window's end and ground truth."""

    config: SimConfig
    summary: Summary | None = None
    files: dict[str, bytes] = field(default_factory=dict)
    rows: MemoryRows = field(default_factory=MemoryRows)
    truth: dict[str, list[dict]] = field(default_factory=dict)
    events: list[dict] = field(default_factory=list)  # true events delivered, one per event_id
    duplicates: list[dict] = field(default_factory=list)  # re-sent copies, as real trackers do
    malformed_lines: dict[date, list[str]] = field(default_factory=dict)  # every line the contract rejects

    @property
    def seed(self) -> int:
        return self.config.seed

    @property
    def start(self) -> date:
        return self.config.start

    @property
    def days(self) -> int:
        return self.config.days

    @property
    def end(self) -> date:
        return self.config.end

    def table(self, name: str) -> list[Record]:
        return [
            Record({k: to_datetime(v) if k in _TIMESTAMPS else v for k, v in row.items()})
            for row in self.rows.rows(name)
        ]

    @property
    def users(self) -> list[Record]:
        return self.table("users")

    @property
    def subscriptions(self) -> list[Record]:
        """The subscriptions rows, oldest first."""
        return sorted(self.table("subscriptions"), key=lambda r: (r.started_at, r.id))

    @property
    def plans(self) -> list[dict]:
        return [dict(zip(PLAN_KEYS, plan, strict=True)) for plan in PLANS]

    def _export(self, folder: str) -> list[dict]:
        rows = []
        for name in sorted(n for n in self.files if n.startswith(f"exports/{folder}/")):
            header, *lines = self.files[name].decode().splitlines()
            keys = header.split(",")
            rows += [dict(zip(keys, line.split(","), strict=True)) for line in lines]
        return rows

    @property
    def ad_spend(self) -> list[dict]:
        return [
            r | {"date": date.fromisoformat(r["date"]), "amount": float(r["amount"])}
            for r in self._export("ad_spend")
        ]

    @property
    def fx_rates(self) -> list[dict]:
        return [
            r | {"date": date.fromisoformat(r["date"]), "rate_to_usd": float(r["rate_to_usd"])}
            for r in self._export("fx_rates")
        ]


def _public(event: Event, reported: int) -> dict:
    """An event as its line says (occurred_at is what the device reported), with the channel beside it."""
    record = {
        "event_id": event.id,
        "event_type": event.type,
        "product": event.product,
        "occurred_at": iso(reported, event.device.offset),
        "user_id": event.user_id,
        "anonymous_id": event.anon,
        "context": event.context,
        "properties": event.props,
        "_instant": to_datetime(reported),
    }
    if event.channel is not None:
        record["_channel"] = event.channel
    return record


def simulate(
    seed: int = 7,
    users: int = 300,
    start: date = date(2026, 1, 24),
    days: int = 14,
    *,
    scale: float | None = None,
    dirt: bool | DirtConfig = True,
) -> World:
    """A world small enough for memory: `users` sets the scale (the users it has when the window opens)
    unless `scale` is given."""
    dirt_config = dirt if isinstance(dirt, DirtConfig) else DirtConfig() if dirt else DirtConfig.none()
    config = SimConfig(seed, scale if scale is not None else scale_for_users(users), start, days, dirt_config)
    world = World(config)
    files, truth = MemoryFiles(), MemoryTruth()

    def collect(day: date, file: FileLines) -> None:
        world.events += [_public(event, reported) for event, reported in file.delivered]
        world.duplicates += [_public(event, reported) for event, reported in file.duplicates]
        rejected = file.malformed + file.quarantined
        if rejected:
            world.malformed_lines[day] = rejected

    world.summary = run(config, Outputs(files, world.rows, truth, on_file=collect))
    world.files = files.files
    world.truth = truth.tables
    return world


def main(argv: list[str] | None = None) -> int:
    from ingestion.simulation.cli import main as cli

    return cli(argv)


if __name__ == "__main__":
    raise SystemExit(main())
