"""Deciding what a silver run rebuilds: everything, nothing, or the scope values that changed.

A derived table records, in the commit that writes it, the versions of the lake tables it was built
from. The next run reads the data files its driver table gained since the recorded version (from the
Delta log, so compaction, which changes no data, is not a change) and rebuilds only the scope values
those rows touch. Anything that makes the recorded state unusable (first build, a rebuild asked for,
an expired log) falls back to a full build, which is always correct.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import pyarrow as pa

from lakehouse.lake import DeltaRsLake
from transforms.table import SilverTable

Mode = Literal["full", "incremental", "unchanged"]


@dataclass(frozen=True)
class Plan:
    mode: Mode
    processed: dict[str, int | None]  # input (and driver) versions this run covers, recorded on commit
    reason: str
    new_rows: pa.Table | None = None  # the driver's rows added since the last run (None: no change)
    lookup_changes: dict[str, list[Any]] = field(default_factory=dict)  # lookup -> its changed key values


def driver_version(lake: DeltaRsLake, table: SilverTable, inputs: dict[str, int | None]) -> int | None:
    """The driver's version this run may cover.

    A driver that is not itself an input (bronze events driving a table built from silver events) is
    covered only up to the version the input built from it has recorded, so a run never claims rows
    its inputs do not hold yet.
    """
    driver = table.driver
    if driver in inputs:
        return inputs[driver]
    recorded = [lake.processed(name) or {} for name in table.inputs if lake.exists(name)]
    versions = [r[driver] for r in recorded if r.get(driver) is not None]
    return min(versions) if versions else None


def plan(lake: DeltaRsLake, table: SilverTable, *, full: bool = False) -> Plan:
    inputs = {name: lake.version(name) for name in table.inputs}
    if table.incremental is None:
        return Plan("full", inputs, "not incremental: rebuilt in full")
    driver = table.driver
    processed = inputs | {driver: driver_version(lake, table, inputs)}
    if full:
        return Plan("full", processed, "full rebuild asked for")
    previous = lake.processed(table.name) if lake.exists(table.name) else None
    if previous is None or previous.get(driver) is None:
        return Plan("full", processed, "first build")
    if set(table.inputs) - set(previous):
        return Plan("full", processed, "inputs changed since the last build")
    if lake.partition_columns(table.name) != list(table.partition_by):
        return Plan("full", processed, "partitioning changed since the last build")
    since, until = previous[driver], processed[driver]
    if until is None or until < since:
        return Plan("full", processed, f"{driver} is older than the last build (recreated?)")
    # An input rebuilt in full (a transform changed, a rebuild asked for) may differ anywhere.
    for name in table.inputs:
        was = previous.get(name)
        if name not in table.lookups and was is not None and lake.rewritten_since(name, was):
            return Plan("full", processed, f"{name} was rebuilt in full since version {was}")
    reasons = []
    new_rows = None
    if until > since:
        new_rows = _added_rows(lake, driver, since, until, _driver_columns(lake, table))
        if new_rows is None:
            return Plan("full", processed, f"{driver}'s changes since version {since} are gone")
        reasons.append(f"{driver} versions {since + 1}..{until}")
    lookup_changes = {}
    for name in table.lookups:
        was, now = previous.get(name, -2), processed[name]
        if was == now:
            continue
        lookup = table.incremental.lookups.get(name)
        if lookup is None or was == -2 or now is None:
            return Plan("full", processed, f"lookup {name} changed (version {was} to {now})")
        changed = _changed_rows(lake, name, -1 if was is None else was, now, lookup.key)
        if changed is None:
            return Plan("full", processed, f"lookup {name}'s changes since version {was} are gone")
        keys = sorted(v for v in changed if v is not None)
        if not keys:  # rewritten, but no row is new or different
            continue
        lookup_changes[name] = keys
        reasons.append(f"lookup {name} versions {(was if was is not None else -1) + 1}..{now}")
    if new_rows is None and not lookup_changes:
        return Plan("unchanged", previous, f"{driver} unchanged since version {since}")
    return Plan("incremental", processed, "; ".join(reasons), new_rows, lookup_changes)


def _changed_rows(lake: DeltaRsLake, table: str, since: int, until: int, key: str) -> set[Any] | None:
    """The key values of the rows that are new or different: rows of the files added since `since`
    that are not in the files removed (a table rewritten by replace or MERGE copies unchanged rows)."""
    changes = lake.changed_files(table, since, until)
    if changes is None:
        return None
    columns = lake.schema(table).names
    try:
        added, removed = (lake.read_files(table, files, columns) for files in changes)
    except (FileNotFoundError, pa.ArrowInvalid):  # vacuumed, or written before a schema change
        return None
    before = {tuple(row.values()) for row in removed.to_pylist()}
    position = columns.index(key)
    return {row[position] for row in map(tuple, (r.values() for r in added.to_pylist())) if row not in before}


def _added_rows(lake: DeltaRsLake, table: str, since: int, until: int, columns: list[str]) -> pa.Table | None:
    changes = lake.changed_files(table, since, until)
    if changes is None:
        return None
    files, removed = changes
    if columns and set(columns) <= set(lake.partition_columns(table)):
        # Only partition columns are asked for (the days that received events): the log has their
        # values, one row per file, and no data file needs opening. A partition whose files were
        # removed changed too (a rewrite may leave it empty).
        files = files + removed
        schema = lake.schema(table)
        return pa.table(
            {
                name: pa.array([f.partition_values[name] for f in files]).cast(schema.field(name).type)
                for name in columns
            }
        )
    try:
        return lake.read_files(table, files, columns)
    except FileNotFoundError:  # vacuumed since it was added
        return None


def _driver_columns(lake: DeltaRsLake, table: SilverTable) -> list[str]:
    if table.incremental is not None and table.incremental.changed is None and not table.incremental.appends:
        return [table.filters.get(table.driver, table.incremental.column)]
    return lake.schema(table.driver).names
