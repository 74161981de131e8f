"""Incremental runs that rebuild each scope value's rows only from a point on (`Incremental.since`).

A person's sessions before the earliest one a change can reach stay as they are: the run rebuilds, per
scope value, the rows at or after a point (a tuple of the `since` columns, compared in order, as the
rows are ordered), and keeps the rest. The table is partitioned, so that the write replaces only the
partitions holding rows of the window: their kept rows and the rebuilt ones, in one commit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute as pc

from transforms.table import SilverTable


@dataclass(frozen=True)
class Scope:
    """Rows as an Ibis table and as Arrow, for the bounds a query needs as literals: the scope values of
    a windowed run with the point of each (null: every row of the value), or the driver's new rows."""

    table: ir.Table
    rows: pa.Table

    def earliest(self) -> Any | None:
        """The earliest point's first column: every rebuilt row is at or after it (None: unbounded)."""
        return self.least(self.rows.column_names[1])

    def least(self, column: str, *, nulls: bool = True) -> Any | None:
        """The least value of a column, as a literal for a bound that prunes partitions and files
        (None when there are no rows, or when a value is null and `nulls` counts them as unbounded)."""
        values = self.rows.column(column)
        if (nulls and values.null_count) or values.null_count == len(values):
            return None
        return pc.min(values).as_py()


def window_points(
    table: SilverTable,
    new: Scope,
    inputs: list[ir.Table],
    built: ir.Table,
    memtable: Callable[[pa.Table], ir.Table],
    execute: Callable[[ir.Table], pa.Table],
) -> pa.Table:
    """The scope values of a windowed run, each with the point its rows are rebuilt from: the earliest
    of those `changed` gives, then of those `reach` adds (rows already built that the points reach)."""
    spec = table.incremental
    points = execute(earliest_per_value(spec.changed(new, *inputs, built)))
    if spec.reach is None or not points.num_rows:
        return points
    scope = Scope(memtable(points), points)
    reached = spec.reach(scope, built).cast(scope.table.schema())
    return execute(earliest_per_value(ibis.union(scope.table, reached)))


def at_or_after(columns: list[ir.Value], points: list[ir.Value]) -> ir.BooleanValue:
    """(columns) >= (points) in lexicographic order; a null point is before everything."""
    head, point = columns[0], points[0]
    if len(columns) == 1:
        after = head >= point
    else:
        after = (head > point) | ((head == point) & at_or_after(columns[1:], points[1:]))
    return point.isnull() | after


def earliest_per_value(candidates: ir.Table) -> ir.Table:
    """The earliest point of each scope value (the first column), a null point first."""
    value, *since = candidates.columns
    first = ibis.row_number().over(
        group_by=candidates[value], order_by=[ibis.asc(candidates[c], nulls_first=True) for c in since]
    )
    return candidates.mutate(_first=first).filter(lambda t: t._first == 0).drop("_first")


def in_window(table: SilverTable, scope: Scope, built: ir.Table) -> ir.Table:
    """The rows of `built` that a windowed run replaces: of a scope value, those at or after its point."""
    spec = table.incremental
    earliest = scope.earliest()
    if earliest is not None:  # a literal: files whose rows all start earlier are skipped by their stats
        built = built.filter(built[spec.since[0]] >= earliest)
    points = scope.table.rename({f"_since_{name}": name for name in spec.since})
    joined = built.inner_join(points, spec.column)
    inside = at_or_after([joined[name] for name in spec.since], [joined[f"_since_{n}"] for n in spec.since])
    return joined.filter(inside).select(*built.columns)


def kept_rows(table: SilverTable, built: ir.Table, partitions: list[Any], window: ir.Table) -> ir.Table:
    """The rows of those partitions that stay: every one outside the window."""
    column = partition_column(table)
    keys = list(table.keys)
    in_partitions = built.filter(built[column].isin(partitions)) if partitions else built.limit(0)
    return in_partitions.anti_join(window.select(*keys), keys)


def partition_column(table: SilverTable) -> str:
    if len(table.partition_by) != 1:
        raise ValueError(f"{table.name}: a windowed incremental table needs one partition column")
    return table.partition_by[0]
