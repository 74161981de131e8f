"""Runs a silver transform: lake tables in, an Ibis expression on the chosen backend, a lake table out.

Both engines run the same pure function from the registry. DuckDBEngine scans the lake with DuckDB's
Delta extension in process; SparkEngine reads the inputs as Delta DataFrames on the configured Spark
master, compiles the expression with Ibis's PySpark backend, and writes the result from the executors.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import ibis
import ibis.expr.operations as ops
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute as pc
import sqlglot.expressions as sge
from ibis.backends.sql.compilers.pyspark import PySparkCompiler

from lakehouse.duckdb_delta import load_delta
from lakehouse.lake import Commit, DeltaRsLake
from transforms.incremental import Mode, Plan, plan
from transforms.table import SilverTable
from transforms.window import Scope, in_window, kept_rows, partition_column
from transforms.window import window_points as points_of

if TYPE_CHECKING:
    from ibis.backends import BaseBackend
    from pyspark.sql import DataFrame

    from lakehouse.lake_spark import DeltaSparkLake
    from lakehouse.settings import Settings


_views = itertools.count()


@dataclass(frozen=True)
class SilverRun:
    """What one run of a silver table did: the commit, the rows it wrote, and why."""

    table: str
    mode: Mode
    reason: str
    commit: Commit | None
    written: pa.Table | None  # the rows this run wrote (the whole table on a full build)
    scope_values: int = 0  # how many scope values an incremental run rebuilt

    @property
    def version(self) -> int | None:
        return self.commit.version if self.commit else None


@dataclass
class DuckDBEngine:
    """Ibis on an in-process DuckDB; lake tables are scanned lazily by DuckDB's Delta extension.

    One connection serves every table the engine builds: loading the Delta extension costs about 0.4 s,
    more than building a small table. Each input is a view of its table pinned at the version the run
    planned with, kept (with its schema) until the table moves on: a version never changes, so it is
    described once, and a question asked of pinned views (which scope values a change touches) has one
    answer, computed once for every table that asks it.
    """

    lake: DeltaRsLake
    _con: BaseBackend | None = field(default=None, init=False, repr=False)
    _views: dict[str, tuple[int, ir.Table]] = field(default_factory=dict, init=False, repr=False)
    _answers: OrderedDict[ops.Node, pa.Table] = field(default_factory=OrderedDict, init=False, repr=False)
    _memtables: OrderedDict[int, tuple[pa.Table, ir.Table]] = field(
        default_factory=OrderedDict, init=False, repr=False
    )

    def build(self, table: SilverTable) -> pa.Table:
        inputs = [self._view(name, self.lake.version(name)) for name in table.inputs]
        return self.connection().to_pyarrow(table.build(*inputs))

    def connection(self) -> BaseBackend:
        if self._con is None:
            con = ibis.duckdb.connect()
            load_delta(con.con, self.lake.storage_options)
            # A Delta data file is never changed in place, so its Parquet footer can be kept: a table that
            # several queries scan (silver/events: hundreds of files) is then opened once.
            con.con.execute("SET parquet_metadata_cache = true")
            self._con = con
        return self._con

    def close(self) -> None:
        if self._con is not None:
            self._con.disconnect()
            self._con = None
            self._views.clear()
            self._answers.clear()
            self._memtables.clear()

    def _view(self, name: str, version: int) -> ir.Table:
        """The lake table `name` at `version`, as an Ibis table over a view of the connection."""
        kept = self._views.get(name)
        if kept is not None and kept[0] == version:
            return kept[1]
        con = self.connection()
        view = f"lakehouse_input_{next(_views)}"
        uri = self.lake.uri(name).replace("'", "''")
        con.con.execute(f"CREATE VIEW {view} AS SELECT * FROM delta_scan('{uri}', version={int(version)})")
        if kept is not None:
            con.con.execute(f"DROP VIEW IF EXISTS {kept[1].get_name()}")
        self._views[name] = (version, con.table(view))
        return self._views[name][1]

    def _answer(self, expr: ir.Table) -> pa.Table:
        """The result of a query over pinned views, kept for the next table asking the same."""
        return _kept(self._answers, expr.op(), lambda: self.connection().to_pyarrow(expr))

    def _memtable(self, data: pa.Table) -> ir.Table:
        # The driver's new rows are one Arrow table for every table they drive (the lake keeps the read):
        # one memtable for them makes the questions asked of them equal, so they are answered once.
        if id(data) not in self._memtables:
            self._memtables[id(data)] = (data, ibis.memtable(data))
        self._memtables.move_to_end(id(data))
        memtable = self._memtables[id(data)][1]
        held = sum(rows.nbytes for rows, _ in self._memtables.values())
        while held > MEMTABLES_KEPT_BYTES and len(self._memtables) > 1:
            rows, forgotten = self._memtables.popitem(last=False)[1]
            held -= rows.nbytes
            for op in [op for op in self._answers if forgotten.op() in op.find(ops.InMemoryTable)]:
                del self._answers[op]
        return memtable

    def run(self, table: SilverTable, *, full: bool = False) -> SilverRun:
        """Build the table, or only the scope values its driver's new rows touch (transforms/table.py)."""
        todo = plan(self.lake, table, full=full)
        partition_by = list(table.partition_by) or None
        if todo.mode == "unchanged":
            return SilverRun(table.name, "unchanged", todo.reason, None, None)
        con = self.connection()
        inputs = [self._view(name, todo.processed[name]) for name in table.inputs]
        if todo.mode == "full":
            result = con.to_pyarrow(table.build(*inputs))
            commit = self.lake.overwrite(
                table.name, result, partition_by=partition_by, processed=todo.processed
            )
            return SilverRun(table.name, "full", todo.reason, commit, result)
        if table.incremental.since:
            return self._run_window(table, todo, inputs)

        def built() -> ir.Table:
            return self._view(table.name, self.lake.version(table.name))

        if appending(table, todo, built, self._answer):
            result = con.to_pyarrow(unseen(table, todo, inputs, built(), self._memtable))
            commit = self.lake.append(table.name, result, partition_by=partition_by, processed=todo.processed)
            days = len(scope_of(todo, table))
            return SilverRun(table.name, "incremental", todo.reason, commit, result, days)
        values = touched_values(table, todo, inputs, built, self._memtable, self._answer)
        if values:
            partitions = {name: self.lake.partition_columns(name) for name in table.inputs}
            result = con.to_pyarrow(table.build(*restrict(table, values, inputs, partitions=partitions)))
        else:  # nothing in scope (only rows without scope values): record progress only
            result = self.lake.schema(table.name).empty_table()
        commit = _write_scope(self.lake, table, todo, values, result, partition_by)
        return SilverRun(table.name, "incremental", todo.reason, commit, result, len(values))

    def _run_window(self, table: SilverTable, todo: Plan, inputs: list[ir.Table]) -> SilverRun:
        """Rebuild each scope value's rows from its point on; replace the partitions they are in."""
        con = self.connection()
        built = self._view(table.name, self.lake.version(table.name))
        column = partition_column(table)
        rows = window_points(table, todo, inputs, built, self._memtable, con.to_pyarrow)
        partitions: list[Any] = []
        data = self.lake.schema(table.name).empty_table()
        if rows.num_rows:
            scope = Scope(self._memtable(rows), rows)
            result = con.to_pyarrow(table.build(*table.incremental.restrict(scope, *inputs)))
            # The window's keys are read once: they give the partitions and the rows that stay.
            window = con.to_pyarrow(in_window(table, scope, built).select(*table.keys, column))
            partitions = sorted(
                set(_distinct(pa.table([pc.unique(window[column])], names=[column])))
                | set(_distinct(pa.table([pc.unique(result[column])], names=[column])))
            )
            kept = con.to_pyarrow(kept_rows(table, built, partitions, ibis.memtable(window)))
            data = pa.concat_tables([kept, result.select(kept.schema.names).cast(kept.schema)])
        commit = self.lake.replace(
            table.name,
            data,
            column,
            partitions,
            partition_by=list(table.partition_by),
            processed=todo.processed,
        )
        return SilverRun(table.name, "incremental", todo.reason, commit, data, rows.num_rows)


# What DuckDBEngine keeps between tables: enough answers for one run of every table (each a column of
# scope values), and the new rows they were asked of up to a bound (an answer goes with its rows).
ANSWERS_KEPT = 32
MEMTABLES_KEPT_BYTES = 256 * 2**20


def _kept(kept: OrderedDict, key: Any, compute: Callable[[], Any]) -> Any:
    if key not in kept:
        kept[key] = compute()
        if len(kept) > ANSWERS_KEPT:
            kept.popitem(last=False)
    kept.move_to_end(key)
    return kept[key]


def _touched_by_lookups(table: SilverTable, changes: dict[str, list[Any]], built: ir.Table) -> list[ir.Table]:
    """The scope values of the rows already built from a lookup's changed values."""
    touched = []
    for name, keys in changes.items():
        lookup = table.incremental.lookups[name]
        column = built[lookup.column]
        matches = column >= min(keys) if lookup.onwards else column.isin(keys)
        touched.append(built.filter(matches).select(table.incremental.column))
    return touched


def _union(tables: list[ir.Table]) -> ir.Table:
    # Scope values come from tables of different types (a date column of bronze, of silver): one name,
    # the first one's type.
    first = tables[0]
    column = first.columns[0]
    aligned = [t.select(t[t.columns[0]].cast(first[column].type()).name(column)) for t in tables]
    return ibis.union(*aligned, distinct=True) if len(aligned) > 1 else aligned[0].distinct()


def _distinct(column_table: pa.Table) -> list[Any]:
    return [value for value in column_table.column(0).to_pylist() if value is not None]


class _SparkCompiler(PySparkCompiler):
    """Ibis's PySpark compiler, with JSON extraction in Spark's own functions.

    Ibis 12 compiles `json[key].str` on PySpark to `get_json_object` (which already unquotes a string and
    loses its JSON type) followed by a Python UDF that parses the result again: it fails on every string
    value and would need Python on the executors. Here a JSON value stays JSON text, read with Spark's
    VARIANT functions, so `.str` means what it means on DuckDB: the string, or NULL for any other type.
    """

    # Ibis turns SIMPLE_OPS into visit_ methods of every subclass, over the ones defined here.
    SIMPLE_OPS = {
        op: name for op, name in PySparkCompiler.SIMPLE_OPS.items() if op is not ops.UnwrapJSONString
    }

    def visit_JSONGetItem(self, op, *, arg, index):
        fmt = "$[%s]" if op.index.dtype.is_integer() else "$.%s"
        item = self.f.try_variant_get(self.f.try_parse_json(arg), self.f.format_string(fmt, index))
        return self.f.to_json(item)

    def visit_UnwrapJSONString(self, op, *, arg):
        variant = self.f.try_parse_json(arg)
        return self.if_(
            self.f.schema_of_variant(variant).eq(sge.convert("STRING")),
            self.f.try_variant_get(variant, sge.convert("$"), sge.convert("string")),
            sge.Null(),
        )


@dataclass
class SparkEngine:
    """Ibis on Spark (PySpark backend); lake tables are Delta DataFrames, results written by the executors.

    Incremental runs are planned from the Delta log exactly as on DuckDB (`log` reads it with delta-rs);
    the scope values are computed on Spark and the rebuilt rows written with replaceWhere or MERGE.
    """

    lake: DeltaSparkLake
    log: DeltaRsLake

    @classmethod
    def from_settings(cls, settings: Settings, extra: dict[str, str] | None = None) -> SparkEngine:
        """The engine on the configured master and lake (starts or reuses this process's SparkSession)."""
        from lakehouse.lake_spark import DeltaSparkLake
        from lakehouse.spark import spark_session

        session = spark_session(settings, app_name="lakehouse-silver", extra=extra)
        log = DeltaRsLake(settings.lake_uri, settings.storage_options())
        return cls(DeltaSparkLake(settings.lake_uri, session), log)

    @contextmanager
    def _inputs(self, table: SilverTable) -> Iterator[tuple[BaseBackend, list[ir.Table]]]:
        spark = self.lake.spark
        con = ibis.pyspark.connect(spark)
        con.compiler = _SparkCompiler()
        views = []
        try:
            inputs = []
            for name in table.inputs:
                view = f"lakehouse_input_{next(_views)}"
                self.lake.dataframe(name).createOrReplaceTempView(view)
                views.append(view)
                inputs.append(con.table(view))
            yield con, inputs
        finally:
            for view in views:
                spark.catalog.dropTempView(view)

    def dataframe(self, table: SilverTable) -> DataFrame:
        """The silver table as a lazy Spark DataFrame: nothing runs until it is written or collected."""
        with self._inputs(table) as (con, inputs):
            # Spark resolves the views into the plan here, so they can be dropped before it runs.
            return self.lake.spark.sql(con.compile(table.build(*inputs)))

    def build(self, table: SilverTable) -> pa.Table:
        from lakehouse.lake_spark import to_arrow

        return to_arrow(self.dataframe(table))

    def run(self, table: SilverTable, *, full: bool = False) -> SilverRun:
        """Build the table on the cluster, or only the scope values its driver's new rows touch."""
        todo = plan(self.log, table, full=full)
        partition_by = list(table.partition_by) or None
        if todo.mode == "unchanged":
            return SilverRun(table.name, "unchanged", todo.reason, None, None)
        if todo.mode == "full":
            commit = self.lake.overwrite(
                table.name, self.dataframe(table), partition_by=partition_by, processed=todo.processed
            )
            return SilverRun(table.name, "full", todo.reason, commit, None)
        views: list[str] = []
        spec = table.incremental

        def memtable(data: pa.Table) -> ir.Table:
            # Spark's own Arrow conversion: Ibis's memtable goes through pandas, which turns a null
            # string of a chunked column into a float NaN when Spark's Arrow path refuses the frame.
            view = f"lakehouse_rows_{next(_views)}"
            self.lake.spark.createDataFrame(data.combine_chunks()).createOrReplaceTempView(view)
            views.append(view)
            return con.table(view)

        with self._inputs(table) as (con, inputs):
            try:
                with self._inputs(replace(table, inputs=(table.name,))) as (_, (built,)):
                    appends = appending(table, todo, lambda: built, con.to_pyarrow)
                    if appends:
                        frame = self.lake.spark.sql(
                            con.compile(unseen(table, todo, inputs, built, memtable))
                        ).cache()
                    elif spec.since:
                        points = window_points(table, todo, inputs, built, memtable, con.to_pyarrow)
                        partitions, frame = self._window(con, table, points, inputs, built, memtable)
                    else:
                        values = touched_values(table, todo, inputs, lambda: built, memtable, con.to_pyarrow)
                if not spec.since and not appends:
                    restricted = restrict(table, values, inputs, memtable)
                    frame = self.lake.spark.sql(con.compile(table.build(*restricted)))
            finally:
                for view in views:
                    self.lake.spark.catalog.dropTempView(view)
        if appends:
            commit = self.lake.append(table.name, frame, partition_by=partition_by, processed=todo.processed)
            return SilverRun(table.name, "incremental", todo.reason, commit, None, len(scope_of(todo, table)))
        if spec.since:
            commit = self.lake.replace(
                table.name, frame, partition_column(table), partitions, processed=todo.processed
            )
            return SilverRun(table.name, "incremental", todo.reason, commit, None, points.num_rows)
        commit = _write_scope(self.lake, table, todo, values, frame, partition_by)
        return SilverRun(table.name, "incremental", todo.reason, commit, None, len(values))

    def _window(
        self,
        con: BaseBackend,
        table: SilverTable,
        points: pa.Table,
        inputs: list[ir.Table],
        built: ir.Table,
        memtable: Callable[[pa.Table], ir.Table],
    ) -> tuple[list[Any], DataFrame | None]:
        """The partitions a windowed run replaces and their rows: kept ones and rebuilt ones."""
        spark = self.lake.spark
        if not points.num_rows:
            return [], spark.createDataFrame([], self.lake.dataframe(table.name).schema)
        column = partition_column(table)
        scope = Scope(memtable(points), points)
        result = spark.sql(con.compile(table.build(*table.incremental.restrict(scope, *inputs)))).cache()
        window = in_window(table, scope, built)
        partitions = sorted(
            set(_distinct(con.to_pyarrow(window.select(column).distinct())))
            | {row[0] for row in result.select(column).distinct().collect() if row[0] is not None}
        )
        kept = spark.sql(con.compile(kept_rows(table, built, partitions, window)))
        return partitions, kept.unionByName(result.select(*kept.columns))


def touched_values(
    table: SilverTable,
    todo: Plan,
    inputs: list[ir.Table],
    built: Callable[[], ir.Table],
    memtable: Callable[[pa.Table], ir.Table],
    execute: Callable[[ir.Table], pa.Table],
) -> list[Any]:
    """The scope values to rebuild: those the driver's new rows touch and those built from changed
    lookup values (`built()` is the table as it stands)."""
    spec = table.incremental
    if spec.changed is None and not todo.lookup_changes:
        # The common case: the driver's own column says what changed; no query is needed for that.
        return scope_of(todo, table)
    touched: list[ir.Table] = []
    if todo.new_rows is not None:
        new_rows = memtable(todo.new_rows)
        if spec.changed is not None:
            touched.append(spec.changed(new_rows, *inputs))
        else:
            driver_column = table.filters.get(table.driver, spec.column)
            touched.append(new_rows.select(new_rows[driver_column].name(spec.column)))
    if todo.lookup_changes:
        touched += _touched_by_lookups(table, todo.lookup_changes, built())
    return _distinct(execute(_union(touched)))


def scope_of(todo: Plan, table: SilverTable) -> list[Any]:
    """The distinct scope values in the driver's new rows (its filter column), nulls left out."""
    column = table.filters.get(table.driver, table.incremental.column)
    return _distinct(pa.table([pc.unique(todo.new_rows[column])], names=[column]))


def appending(
    table: SilverTable, todo: Plan, built: Callable[[], ir.Table], execute: Callable[[ir.Table], pa.Table]
) -> bool:
    """Whether the run appends the rows built from the driver's new rows alone (with the lookups as they
    are now). An appending table rebuilds its scope values instead when a changed lookup value reaches
    rows it holds (a lesson moved in its course); one that reaches none (the prices of the new days)
    changes nothing built."""
    if not table.incremental.appends or todo.new_rows is None:
        return False
    if not todo.lookup_changes:
        return True
    return not _distinct(execute(_union(_touched_by_lookups(table, todo.lookup_changes, built()))))


def unseen(
    table: SilverTable,
    todo: Plan,
    inputs: list[ir.Table],
    built: ir.Table,
    memtable: Callable[[pa.Table], ir.Table],
) -> ir.Table:
    """The rows an appending table gains: built from the driver's new rows alone, without those whose
    keys the table holds already (looked up in the partitions of the new rows only). Only for a run
    that `appending` allows."""
    if table.incremental.changed is not None:
        raise ValueError(f"{table.name}: an appending table has no `changed`")
    arguments = list(inputs)
    arguments[table.inputs.index(table.driver)] = memtable(todo.new_rows)
    rows = table.build(*arguments)
    keys = list(table.keys)
    column = table.incremental.column
    # On a partition column the filter prunes the table to the new rows' partitions.
    held = built.filter(built[column].isin(scope_of(todo, table))).select(*keys)
    return rows.anti_join(held, keys)


def window_points(
    table: SilverTable,
    todo: Plan,
    inputs: list[ir.Table],
    built: ir.Table,
    memtable: Callable[[pa.Table], ir.Table],
    execute: Callable[[ir.Table], pa.Table],
) -> pa.Table:
    """The scope values of a windowed run, each with the point its rows are rebuilt from."""
    if todo.lookup_changes:
        raise ValueError(f"{table.name}: a windowed incremental table cannot have lookups")
    new = Scope(memtable(todo.new_rows), todo.new_rows)
    return points_of(table, new, inputs, built, memtable, execute)


# Above this many scope values, inputs are restricted by a semi-join on a table of them instead of an
# IN list of literals: thousands of literals make compiling slow and the filter a long chain of ORs.
LITERAL_SCOPE_LIMIT = 500


def restrict(
    table: SilverTable,
    values: list[Any],
    inputs: list[ir.Table],
    memtable: Callable[[pa.Table], ir.Table] = ibis.memtable,
    partitions: Mapping[str, Collection[str]] | None = None,
) -> list[ir.Table]:
    """The inputs restricted to the scope values (lookups stay whole).

    A few values are literals (so a partition filter prunes files); many are a column of an in-memory
    table, which `isin` turns into a semi-join. Either works with `column.isin(scope)` in a transform's
    own restrict function. Given `partitions` (input -> its partition columns), literals are kept for
    partition columns only: elsewhere they prune nothing, and Ibis takes about half a millisecond to
    compile each one.
    """
    few = len(values) <= LITERAL_SCOPE_LIMIT
    column: list[ir.Column] = []

    def scope(name: str | None, filtered: str | None) -> list[Any] | ir.Column:
        if few and (partitions is None or filtered in partitions.get(name, ())):
            return values
        if not column:
            column.append(memtable(pa.table({"scope_value": values})).scope_value)
        return column[0]

    if table.incremental.restrict is not None:
        return list(table.incremental.restrict(scope(None, None), *inputs))
    return [
        t.filter(t[table.filters[name]].isin(scope(name, table.filters[name])))
        if name in table.filters
        else t
        for name, t in zip(table.inputs, inputs, strict=True)
    ]


def _write_scope(lake, table: SilverTable, todo: Plan, values: list[Any], data, partition_by) -> Commit:
    """Replace the scope values' rows: whole partitions by overwrite, other scopes by MERGE."""
    column = table.incremental.column
    if column in table.partition_by:
        return lake.replace(
            table.name, data, column, values, partition_by=partition_by, processed=todo.processed
        )
    return lake.merge(
        table.name,
        data,
        list(table.keys),
        scope=(column, values),
        within=table.partition_by,
        processed=todo.processed,
    )
