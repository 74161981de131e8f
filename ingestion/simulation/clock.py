"""Time as integer milliseconds since the Unix epoch (UTC): cheap to add, compare and format."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta

MS_SECOND = 1000
MS_MINUTE = 60 * MS_SECOND
MS_HOUR = 60 * MS_MINUTE
MS_DAY = 24 * MS_HOUR
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def day_ms(day: date) -> int:
    """The instant a UTC day starts."""
    return (day.toordinal() - _EPOCH_ORDINAL) * MS_DAY


def day_of(ms: int) -> date:
    return date.fromordinal(ms // MS_DAY + _EPOCH_ORDINAL)


def ordinal_of(ms: int) -> int:
    """The proleptic Gregorian ordinal of the instant's UTC day (date.toordinal)."""
    return ms // MS_DAY + _EPOCH_ORDINAL


def to_datetime(ms: int | None) -> datetime | None:
    return None if ms is None else _EPOCH + timedelta(milliseconds=ms)


_DAY_TEXT: dict[int, str] = {}


def _day_text(days: int) -> str:
    text = _DAY_TEXT.get(days)
    if text is None:
        text = _DAY_TEXT[days] = date.fromordinal(days + _EPOCH_ORDINAL).isoformat()
    return text


def iso(ms: int, offset_minutes: int = 0) -> str:
    """ISO 8601 with milliseconds and the offset, e.g. 2026-01-28T10:11:12.345+01:00."""
    local = ms + offset_minutes * MS_MINUTE
    days, rest = divmod(local, MS_DAY)
    seconds, millis = divmod(rest, 1000)
    minutes, second = divmod(seconds, 60)
    hour, minute = divmod(minutes, 60)
    if offset_minutes == 0:
        zone = "+00:00"
    else:
        sign = "+" if offset_minutes > 0 else "-"
        zone = "%s%02d:%02d" % (sign, *divmod(abs(offset_minutes), 60))  # noqa: UP031
    return "%sT%02d:%02d:%02d.%03d%s" % (_day_text(days), hour, minute, second, millis, zone)  # noqa: UP031


def sql_ts(ms: int | None) -> str | None:
    """A timestamptz literal PostgreSQL's COPY reads: 2026-01-28 10:11:12.345+00."""
    if ms is None:
        return None
    return iso(ms).replace("T", " ").removesuffix(":00")


def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def is_month_end(day: date) -> bool:
    return (day + timedelta(days=1)).day == 1


def add_months(ms: int, months: int, anchor_day: int) -> int:
    """The same time of day `months` later, on the anchor day or the month's last day (billing cycles)."""
    moment = to_datetime(ms)
    assert moment is not None
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(anchor_day, calendar.monthrange(year, month)[1])
    target = moment.replace(year=year, month=month, day=day)
    return (target - _EPOCH) // timedelta(milliseconds=1)
