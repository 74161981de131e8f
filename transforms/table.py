"""What a silver table is: its inputs, the pure function that builds it, and how it is kept current.

A silver table is built by a pure function over Ibis tables (one per input, in order). Tables with an
`Incremental` spec are rebuilt only for the scope values (dates, ids, persons) that changed since their
last run: the engine restricts the inputs to those values, runs the same function, and replaces those
values in the table (partitions by overwrite, other scopes by MERGE). The function must therefore be
*local in its scope*: run on inputs restricted to some scope values, it returns exactly the rows a full
build returns for those values. A full rebuild and any sequence of incremental runs give the same table.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import ibis.expr.types as ir


@dataclass(frozen=True)
class Lookup:
    """How a change in a lookup input (read whole, such as FX rates) reaches the rows built from it.

    The rows whose `column` holds one of the lookup's changed `key` values are rebuilt; with `onwards`
    (as-of lookups: a rate or price applies from its day until the next one), every row whose `column`
    is at or after the earliest changed value.
    """

    key: str
    column: str
    onwards: bool = False


@dataclass(frozen=True)
class Incremental:
    """How to find and rebuild only what changed.

    column:   the output column whose values scope the work (e.g. `event_date`, `id`, `person_key`).
    driver:   the lake table whose new rows (files added since this table's last run) say what changed;
              defaults to the first input.
    filters:  input name -> that input's column holding scope values; each listed input is restricted
              with `isin(values)`, unlisted inputs (lookups such as FX rates) are read whole. Defaults to
              `{driver: column}`.
    changed:  optional `(new_driver_rows, *inputs) -> table with one column` giving the scope values a
              change touches, when that is more than the driver's own column (identity stitching touches
              the user and every anonymous id it links). Default: the distinct values of the driver's
              filter column in its new rows.
    restrict: optional `(values: list, *inputs) -> tuple of inputs` for a restriction a column filter
              cannot express; replaces `filters`.
    lookups:  input name -> `Lookup`, for the inputs read whole. When a lookup changes, the rows built
              from its changed values are rebuilt too; a lookup that changes without a declared `Lookup`
              makes the run a full build (always correct, never cheap).
    appends:  the table only grows: the function runs on the driver's new rows alone, and the rows it
              gives whose keys the table already holds (in the partitions of the scope values, the
              scope column being the partition column) are left out, so the rows built first stay
              (events: the first copy received wins). Written by append, the new rows built with
              the lookups as they are. A run in which a changed lookup value reaches rows the table
              holds rebuilds instead, as a table that does not append: the scope values of the new
              rows and of those rows, partitions replaced.
    since:    output columns ordering a scope value's rows (a person's sessions by start): a run then
              rebuilds each value's rows only from a point on (transforms/window.py). `changed` is
              called with the new rows as a `window.Scope` (for literal bounds) and, after the inputs,
              the table as built last; it returns the scope column and these columns, the
              point of each value (null: all its rows); `restrict` gets a `window.Scope`. The table
              has one partition column, and a run replaces the partitions holding the window's rows.
    reach:    optional, with `since`: `(points: window.Scope, built) -> table like changed's`, the rows
              already built that the points reach, as points of their own (a person's sessions that a
              new event can join); run on the points `changed` gave, with their bounds as literals.
    """

    column: str
    driver: str | None = None
    filters: Mapping[str, str] = field(default_factory=dict)
    changed: Callable[..., ir.Table] | None = None
    restrict: Callable[..., tuple[ir.Table, ...]] | None = None
    lookups: Mapping[str, Lookup] = field(default_factory=dict)
    appends: bool = False
    since: tuple[str, ...] = ()
    reach: Callable[..., ir.Table] | None = None


@dataclass(frozen=True)
class SilverTable:
    name: str
    inputs: tuple[str, ...]
    build: Callable[..., ir.Table]
    partition_by: tuple[str, ...] = ()
    description: str = ""
    keys: tuple[str, ...] = ()  # the grain: one row per combination (checked, and the MERGE keys)
    incremental: Incremental | None = None

    @property
    def driver(self) -> str | None:
        if self.incremental is None:
            return None
        return self.incremental.driver or self.inputs[0]

    @property
    def lookups(self) -> tuple[str, ...]:
        """The inputs read whole: neither the driver nor restricted to the scope."""
        if self.incremental is None or self.incremental.restrict is not None:
            return ()
        return tuple(name for name in self.inputs if name != self.driver and name not in self.filters)

    @property
    def filters(self) -> Mapping[str, str]:
        if self.incremental is None:
            return {}
        return self.incremental.filters or {self.driver: self.incremental.column}
