"""Product events as the simulator makes them, and their envelope as the trackers send it."""

from __future__ import annotations

import json

from ingestion.simulation.clock import iso


class Event:
    """One true event. `t` is when it happened (UTC ms); the device's clock may report another time."""

    __slots__ = (
        "id",
        "type",
        "product",
        "t",
        "user_id",
        "anon",
        "context",
        "props",
        "session",
        "device",
        "channel",
    )

    def __init__(
        self,
        id: str,
        type: str,
        product: str,
        t: int,
        user_id: str | None,
        anon: str | None,
        context: dict,
        props: dict,
        session: str | None,
        device: Device,
    ) -> None:
        self.id = id
        self.type = type
        self.product = product
        self.t = t
        self.user_id = user_id
        self.anon = anon
        self.context = context
        self.props = props
        self.session = session
        self.device = device
        self.channel: str | None = None  # page views: the acquisition channel (for the ground truth)


class Device:
    """A browser or phone: its UTC offset (minutes) and how far its clock is off (ms, 0 for most)."""

    __slots__ = ("kind", "offset", "skew", "context")

    def __init__(self, kind: str, offset: int, skew: int) -> None:
        self.kind = kind
        self.offset = offset
        self.skew = skew
        self.context = {"device": kind}


_dumps = json.JSONEncoder(separators=(",", ":")).encode


def envelope(
    event: Event,
    occurred_ms: int,
    *,
    session_field: bool = False,
    tokens_as_string: bool = False,
    schema_version: int | str = 1,
) -> str:
    """The NDJSON line of an event (docs/data_contracts.md), with the given reported time and dirt."""
    props = event.props
    if tokens_as_string and "tokens" in props:
        props = props | {"tokens": str(props["tokens"])}
    record = {
        "event_id": event.id,
        "event_type": event.type,
        "product": event.product,
        "occurred_at": iso(occurred_ms, event.device.offset),
        "user_id": event.user_id,
        "anonymous_id": event.anon,
        "context": event.context,
        "properties": props,
        "schema_version": schema_version,
    }
    if session_field:
        record["session_id"] = event.session
    return _dumps(record)
