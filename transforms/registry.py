"""Every silver table, in an order where each comes after the silver tables it reads.

Each domain module declares its tables (`TABLES`) beside the pure functions that build them.
"""

from __future__ import annotations

from graphlib import TopologicalSorter

from transforms.silver import (
    ai_usage,
    billing,
    catalog,
    costs,
    events,
    finance,
    history,
    learning,
    operational,
    sessions,
    touchpoints,
)
from transforms.table import SilverTable

_DECLARED = (
    *events.TABLES,
    *sessions.TABLES,
    *touchpoints.TABLES,
    *operational.TABLES,
    *history.TABLES,
    *catalog.TABLES,
    *finance.TABLES,
    *billing.TABLES,
    *costs.TABLES,
    *learning.TABLES,
    *ai_usage.TABLES,
)

BY_NAME = {table.name: table for table in _DECLARED}


def _in_dependency_order(tables: tuple[SilverTable, ...]) -> tuple[SilverTable, ...]:
    graph = {t.name: {name for name in t.inputs if name in BY_NAME} for t in tables}
    return tuple(BY_NAME[name] for name in TopologicalSorter(graph).static_order())


SILVER_TABLES = _in_dependency_order(_DECLARED)
