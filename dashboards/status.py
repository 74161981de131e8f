"""How fresh and how checked the data behind a tile is: pure functions over the published meta tables.

The platform writes `meta.build_info` (one row per publication) and `meta.mart_status` (one row per mart:
the latest day of its data and the counts of the checks on it and on everything upstream of it).
A warehouse published before `meta.mart_status` existed still shows its numbers, with the check status
marked unknown rather than passed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pandas as pd

from dashboards import formatting as fmt

BUILD_INFO_SQL = """
select built_at, as_of_date
from meta.build_info
order by built_at desc
limit 1
"""

MART_STATUS_SQL = """
select relation, as_of_date, built_at, checks_passed, checks_warned, checks_failed, checks_not_run,
       failing, status
from meta.mart_status
order by relation
"""

DEFAULT_STALE_HOURS = 36

# status -> (badge colour, Material icon, words on the tile)
_BADGES = {
    "passed": ("green", ":material/check_circle:", "checks passed"),
    "warning": ("orange", ":material/warning:", "checks warned"),
    "failed": ("red", ":material/error:", "checks failed"),
    "not_checked": ("gray", ":material/help:", "not checked"),
    "unknown": ("gray", ":material/help:", "check status unknown"),
}


@dataclass(frozen=True)
class MartStatus:
    """The freshness and checks of one mart, as a tile shows them."""

    relation: str
    as_of: date | None
    built_at: datetime | None
    status: str  # passed, warning, failed, not_checked or unknown
    failing: tuple[str, ...] = ()
    checks_passed: int | None = None
    checks_not_run: int | None = None
    stale: bool = False

    def badges(self) -> str:
        """Markdown badges: the check status, and `stale` beside it when the build is old."""
        colour, icon, words = _BADGES[self.status]
        shown = f":{colour}-badge[{icon} {words}]"
        if self.stale:
            shown += f" :red-badge[:material/schedule: stale, built {fmt.timestamp_utc(self.built_at)}]"
        return shown

    def caption(self) -> str:
        """The mart's data day and the checks that failed or warned, by name."""
        parts = [f"data to {fmt.day(self.as_of)}"]
        if self.failing:
            parts.append("failing: " + ", ".join(self.failing))
        if self.checks_not_run:
            parts.append(f"{self.checks_not_run} checks not run")
        return " · ".join(parts)


@dataclass(frozen=True)
class Freshness:
    """The published build and the status of each of its marts."""

    built_at: datetime | None
    as_of: date | None
    stale: bool
    marts: Mapping[str, MartStatus]

    def of(self, relation: str) -> MartStatus:
        """The mart's status; a mart the warehouse reports nothing on has an unknown check status."""
        if relation in self.marts:
            return self.marts[relation]
        return MartStatus(relation, self.as_of, self.built_at, "unknown", stale=self.stale)


def freshness(
    build_info: pd.DataFrame, mart_status: pd.DataFrame | None, now: datetime, stale_hours: float
) -> Freshness:
    """Freshness of every mart from the meta tables; `mart_status` is None when the warehouse lacks it."""
    built_at = _timestamp(_cell(build_info, "built_at"))
    as_of = _day(_cell(build_info, "as_of_date"))
    limit = timedelta(hours=stale_hours)
    marts: dict[str, MartStatus] = {}
    for row in (mart_status if mart_status is not None else pd.DataFrame()).to_dict("records"):
        mart_built = _timestamp(_plain(row["built_at"])) or built_at
        status = row["status"] if row["status"] in _BADGES else "unknown"
        marts[row["relation"]] = MartStatus(
            relation=row["relation"],
            as_of=_day(_plain(row["as_of_date"])),
            built_at=mart_built,
            status=status,
            failing=tuple(name.strip() for name in (_plain(row["failing"]) or "").split(",") if name.strip()),
            checks_passed=_plain(row["checks_passed"]),
            checks_not_run=_plain(row["checks_not_run"]),
            stale=_is_stale(mart_built, now, limit),
        )
    return Freshness(built_at, as_of, _is_stale(built_at, now, limit), marts)


def _is_stale(built_at: datetime | None, now: datetime, limit: timedelta) -> bool:
    # A build of unknown age cannot be vouched for as fresh.
    return built_at is None or now - built_at > limit


def _cell(frame: pd.DataFrame, column: str) -> object | None:
    if frame.empty:
        return None
    return _plain(frame.iloc[0][column])


def _day(value: object | None) -> date | None:
    return value.date() if isinstance(value, datetime) else value  # type: ignore[return-value]


def _timestamp(value: object | None) -> datetime | None:
    return value if isinstance(value, datetime) or value is None else None


def _plain(value: object) -> object | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value
