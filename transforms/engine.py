"""Runs a silver transform: lake tables in, an Ibis expression on the chosen backend, a lake table out."""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import pyarrow as pa

from lakehouse.duckdb_delta import load_delta
from lakehouse.lake import Commit, DeltaRsLake
from transforms.registry import SilverTable


@dataclass
class DuckDBEngine:
    """Ibis on an in-process DuckDB; lake tables are scanned lazily by DuckDB's Delta extension."""

    lake: DeltaRsLake

    def build(self, table: SilverTable) -> pa.Table:
        con = ibis.duckdb.connect()
        try:
            load_delta(con.con, self.lake.storage_options)
            inputs = []
            for number, name in enumerate(table.inputs):
                alias = f"input_{number}"
                con.con.execute(f"CREATE VIEW {alias} AS SELECT * FROM delta_scan('{self.lake.uri(name)}')")
                inputs.append(con.table(alias))
            return con.to_pyarrow(table.build(*inputs))
        finally:
            con.disconnect()

    def run(self, table: SilverTable) -> Commit:
        result = self.build(table)
        return self.lake.overwrite(table.name, result, partition_by=list(table.partition_by) or None)
