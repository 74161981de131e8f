"""The lake interface on Spark: the DeltaRsLake methods the transforms use, implemented with delta-spark.

Tables are the same Delta tables: one written here is read by delta-rs and DuckDB's Delta extension, and
the other way round. Writes take a pyarrow Table (as DeltaRsLake's do) or a Spark DataFrame, which is
written by the executors without passing through the driver. `read` returns a pyarrow Table like
DeltaRsLake's; `dataframe` is the lazy Spark DataFrame the Spark engine reads its inputs with.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from lakehouse.lake import PROCESSED_KEY, Commit, in_predicate

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession


@dataclass
class DeltaSparkLake:
    root: str
    spark: SparkSession

    def uri(self, table: str) -> str:
        return f"{self.root}/{table}"

    def _delta(self, table: str):
        from delta.tables import DeltaTable

        return DeltaTable.forPath(self.spark, self.uri(table))

    def exists(self, table: str) -> bool:
        from delta.tables import DeltaTable

        return DeltaTable.isDeltaTable(self.spark, self.uri(table))

    def version(self, table: str) -> int | None:
        return self._last_commit(table)[0] if self.exists(table) else None

    def dataframe(
        self, table: str, version: int | None = None, columns: list[str] | None = None
    ) -> DataFrame:
        reader = self.spark.read.format("delta")
        if version is not None:
            reader = reader.option("versionAsOf", version)
        frame = reader.load(self.uri(table))
        return frame.select(*columns) if columns else frame

    def read(self, table: str, version: int | None = None, columns: list[str] | None = None) -> pa.Table:
        return to_arrow(self.dataframe(table, version, columns))

    def history(self, table: str, limit: int | None = None) -> list[dict[str, Any]]:
        if not self.exists(table):
            return []
        history = self._delta(table).history(limit) if limit else self._delta(table).history()
        return [row.asDict(recursive=True) for row in history.collect()]

    def append(
        self,
        table: str,
        data: pa.Table | DataFrame,
        *,
        app_id: str | None = None,
        partition_by: list[str] | None = None,
        processed: Mapping[str, int | None] | None = None,
    ) -> Commit:
        """Append; with an app_id, at most once: Delta itself skips an application transaction it has.

        The app id is recorded as version 1, as DeltaRsLake records it, so the two see each other's.
        """
        before = self.version(table)
        options = {"mergeSchema": "true"} | _user_metadata(processed)
        if app_id is not None:
            options |= {"txnAppId": app_id, "txnVersion": "1"}
        self._write(table, data, "append", partition_by, options)
        after, metrics = self._last_commit(table)
        if after == before:  # an application transaction already in the log: nothing was written
            return Commit(table, after, 0, skipped=True)
        rows = data.num_rows if isinstance(data, pa.Table) else int(metrics.get("numOutputRows", 0))
        return Commit(table, after, rows, app_ids=(app_id,) if app_id else ())

    def overwrite(
        self,
        table: str,
        data: pa.Table | DataFrame,
        *,
        partition_by: list[str] | None = None,
        processed: Mapping[str, int | None] | None = None,
    ) -> Commit:
        """Replace the whole table; `processed` records the input versions it was built from."""
        options = {"overwriteSchema": "true"} | _user_metadata(processed)
        self._write(table, data, "overwrite", partition_by, options)
        version, metrics = self._last_commit(table)
        # A DataFrame is counted by the commit itself instead of computing it twice.
        rows = data.num_rows if isinstance(data, pa.Table) else int(metrics.get("numOutputRows", 0))
        return Commit(table, version, rows)

    def replace(
        self,
        table: str,
        data: pa.Table | DataFrame,
        column: str,
        values: Iterable[Any],
        *,
        partition_by: list[str] | None = None,
        processed: Mapping[str, int | None] | None = None,
    ) -> Commit:
        """Replace every row whose `column` is one of `values` by `data`, in one commit (replaceWhere)."""
        options = {"replaceWhere": in_predicate(column, values)} | _user_metadata(processed)
        self._write(table, data, "overwrite", partition_by, options)
        version, metrics = self._last_commit(table)
        rows = data.num_rows if isinstance(data, pa.Table) else int(metrics.get("numOutputRows", 0))
        return Commit(table, version, rows)

    def merge(
        self,
        table: str,
        data: pa.Table | DataFrame,
        keys: list[str],
        *,
        scope: tuple[str, Iterable[Any]] | None = None,
        within: Iterable[str] = (),
        processed: Mapping[str, int | None] | None = None,
    ) -> Commit:
        """Upsert by keys; with a scope `(column, values)` target rows in it the source lacks are deleted.
        `within`: partition columns a key's value never changes, matched too (DeltaRsLake.merge)."""
        if not self.exists(table):
            return self.overwrite(table, data, processed=processed)
        predicate = " AND ".join(f"target.`{k}` = source.`{k}`" for k in [*keys, *within])
        merger = (
            self._delta(table)
            .alias("target")
            .merge(self._frame(data).alias("source"), predicate)
            .whenMatchedUpdateAll()
            .whenNotMatchedInsertAll()
        )
        if scope is not None:
            column, values = scope
            merger = merger.whenNotMatchedBySourceDelete(in_predicate(f"target.`{column}`", values))
        with self._commit_metadata(processed):
            merger.execute()
        version, metrics = self._last_commit(table)
        rows = data.num_rows if isinstance(data, pa.Table) else int(metrics.get("numSourceRows", 0))
        return Commit(table, version, rows)

    @contextmanager
    def _commit_metadata(self, processed: Mapping[str, int | None] | None) -> Iterator[None]:
        # MERGE takes no writer options: the session's commit metadata applies to the next commit.
        setting = "spark.databricks.delta.commitInfo.userMetadata"
        if processed is None:
            yield
            return
        self.spark.conf.set(setting, _user_metadata(processed)["userMetadata"])
        try:
            yield
        finally:
            self.spark.conf.unset(setting)

    def _frame(self, data: pa.Table | DataFrame) -> DataFrame:
        return self.spark.createDataFrame(data) if isinstance(data, pa.Table) else data

    def _write(
        self,
        table: str,
        data: pa.Table | DataFrame,
        mode: str,
        partition_by: list[str] | None,
        options: dict[str, str],
    ) -> None:
        writer = self._frame(data).write.format("delta").mode(mode).options(**options)
        if partition_by:
            writer = writer.partitionBy(*partition_by)
        writer.save(self.uri(table))

    def _last_commit(self, table: str) -> tuple[int, dict[str, str]]:
        """The table's latest version and the metrics its commit recorded (one read of the log)."""
        row = self._delta(table).history(1).select("version", "operationMetrics").first()
        return int(row[0]), dict(row[1] or {})


def _user_metadata(processed: Mapping[str, int | None] | None) -> dict[str, str]:
    """The input versions as Delta's userMetadata, where DeltaRsLake.processed finds them too."""
    if processed is None:
        return {}
    return {"userMetadata": json.dumps({PROCESSED_KEY: json.dumps(dict(processed), sort_keys=True)})}


def to_arrow(frame: DataFrame) -> pa.Table:
    """A Spark DataFrame collected as a pyarrow Table; timestamps are UTC instants, as delta-rs reads them."""
    table = frame.toArrow()
    fields = [
        field.with_type(pa.timestamp("us", tz="UTC")) if pa.types.is_timestamp(field.type) else field
        for field in table.schema
    ]
    return table.cast(pa.schema(fields))


__all__ = ["DeltaSparkLake", "to_arrow"]
