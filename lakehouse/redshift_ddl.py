"""The Redshift DDL that makes silver an external schema over the lake's Delta tables.

Redshift Spectrum reads each silver table through its symlink manifests (lakehouse/spectrum.py): an
external table per silver table, in an external schema backed by an AWS Glue Data Catalog database,
with the Parquet SerDe, `SymlinkTextInputFormat` and the manifest folder as its location. Columns and
their Redshift types come from each table's Delta schema; partition columns become `PARTITIONED BY`
columns (they are not stored in the Parquet files) and every partition of the current snapshot is
registered with `ALTER TABLE ... ADD IF NOT EXISTS PARTITION`, pointing at its manifest folder.

Run `python -m lakehouse.redshift_ddl` and feed the output to any Redshift client in autocommit mode
(external tables cannot be created or altered inside a transaction). `docs/redshift.md` explains when.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass

from lakehouse.lake import DeltaRsLake
from lakehouse.settings import ENV_PREFIX, Settings, SettingsError, load_settings
from lakehouse.spectrum import MANIFEST_DIR, read_snapshot

SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
INPUT_FORMAT = "org.apache.hadoop.hive.ql.io.SymlinkTextInputFormat"
OUTPUT_FORMAT = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"
# An ALTER TABLE on a Glue catalog table adds at most 100 partitions.
PARTITIONS_PER_STATEMENT = 100
# The longest VARCHAR Redshift has; Spectrum truncates longer strings to the declared length.
STRING = "VARCHAR(65535)"
# Delta primitive type -> the Redshift type an external table declares for it (CREATE EXTERNAL TABLE
# accepts SMALLINT, INTEGER, BIGINT, DECIMAL, REAL, DOUBLE PRECISION, BOOLEAN, CHAR, VARCHAR, DATE,
# TIMESTAMP). Delta's `timestamp` is stored adjusted to UTC, so the values are UTC times.
TYPES = {
    "string": STRING,
    "long": "BIGINT",
    "integer": "INTEGER",
    "short": "SMALLINT",
    "byte": "SMALLINT",
    "float": "REAL",
    "double": "DOUBLE PRECISION",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "timestamp_ntz": "TIMESTAMP",
}
_DECIMAL = re.compile(r"decimal\((\d+),\s*(\d+)\)")


class DDLError(ValueError):
    """The DDL cannot be generated as asked; the message names the setting or table and the fix."""


@dataclass(frozen=True)
class ExternalTable:
    name: str  # the table's name in the external schema
    columns: tuple[tuple[str, str], ...]  # (column, Redshift type), partition columns left out
    partition_columns: tuple[tuple[str, str], ...]
    location: str  # the manifest folder
    partitions: tuple[tuple[tuple[tuple[str, str], ...], str], ...]  # (values, manifest folder)
    null_partitions: int  # partitions with a null value, which Redshift cannot register


def redshift_type(delta_type: object, column: str, table: str) -> str:
    if isinstance(delta_type, str):
        if delta_type in TYPES:
            return TYPES[delta_type]
        decimal = _DECIMAL.fullmatch(delta_type)
        if decimal:
            return f"DECIMAL({decimal[1]},{decimal[2]})"
    shown = delta_type if isinstance(delta_type, str) else json.dumps(delta_type)
    raise DDLError(
        f"{table}.{column} has Delta type {shown}, which a Redshift external table over Parquet cannot "
        "declare here; give the column a primitive type in its silver transform (e.g. a JSON string)"
    )


def external_table(lake: DeltaRsLake, table: str, location_root: str) -> ExternalTable:
    """The external table of one lake table, its data at location_root/<table> (an s3:// URI)."""
    snapshot = read_snapshot(lake, table)
    fields = json.loads(snapshot.schema)["fields"]
    types = {field["name"]: redshift_type(field["type"], field["name"], table) for field in fields}
    location = f"{location_root}/{table}/{MANIFEST_DIR}/"
    partitioned = bool(snapshot.partition_columns)
    registrable = [p for p in snapshot.files if partitioned and all(value for _, value in p.values)]
    return ExternalTable(
        name=table.rsplit("/", 1)[-1],
        columns=tuple((name, kind) for name, kind in types.items() if name not in snapshot.partition_columns),
        partition_columns=tuple((name, types[name]) for name in snapshot.partition_columns),
        location=location,
        partitions=tuple(sorted((p.values, f"{location}{p.path}/") for p in registrable)),
        null_partitions=len(snapshot.files) - len(registrable) if partitioned else 0,
    )


def identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def schema_statement(schema: str, catalog_database: str, iam_role: str) -> str:
    role = "default" if iam_role == "default" else literal(iam_role)
    return (
        f"CREATE EXTERNAL SCHEMA IF NOT EXISTS {identifier(schema)}\n"
        f"FROM DATA CATALOG\n"
        f"DATABASE {literal(catalog_database)}\n"
        f"IAM_ROLE {role}\n"
        f"CREATE EXTERNAL DATABASE IF NOT EXISTS;"
    )


def table_statements(schema: str, table: ExternalTable) -> str:
    name = f"{identifier(schema)}.{identifier(table.name)}"
    columns = ",\n".join(f"    {identifier(column)} {kind}" for column, kind in table.columns)
    lines = [f"DROP TABLE IF EXISTS {name};", f"CREATE EXTERNAL TABLE {name} (", columns, ")"]
    if table.partition_columns:
        keys = ", ".join(f"{identifier(column)} {kind}" for column, kind in table.partition_columns)
        lines.append(f"PARTITIONED BY ({keys})")
    lines += [
        f"ROW FORMAT SERDE {literal(SERDE)}",
        f"STORED AS INPUTFORMAT {literal(INPUT_FORMAT)}",
        f"OUTPUTFORMAT {literal(OUTPUT_FORMAT)}",
        f"LOCATION {literal(table.location)};",
    ]
    return "\n".join(lines)


def partition_statements(schema: str, table: ExternalTable) -> list[str]:
    name = f"{identifier(schema)}.{identifier(table.name)}"
    statements = []
    for start in range(0, len(table.partitions), PARTITIONS_PER_STATEMENT):
        clauses = [
            "PARTITION ("
            + ", ".join(f"{identifier(column)}={literal(value)}" for column, value in values)
            + f") LOCATION {literal(folder)}"
            for values, folder in table.partitions[start : start + PARTITIONS_PER_STATEMENT]
        ]
        statements.append(f"ALTER TABLE {name} ADD IF NOT EXISTS\n" + "\n".join(clauses) + ";")
    if table.null_partitions:
        statements.append(
            f"-- {name}: {table.null_partitions} partition(s) with a null value are not registered: Redshift "
            "cannot name a null partition, so those rows are not visible there."
        )
    return statements


def render(
    schema: str,
    catalog_database: str,
    iam_role: str,
    tables: Iterable[ExternalTable],
    *,
    tables_and_schema: bool = True,
    partitions: bool = True,
) -> str:
    """The script: the external schema, each table (dropped and created again), its partitions."""
    parts = []
    if tables_and_schema:
        parts.append(
            "-- Silver as a Redshift Spectrum external schema over the lake's Delta tables, read through\n"
            "-- their symlink manifests. Generated by `python -m lakehouse.redshift_ddl`; run it in\n"
            "-- autocommit mode (external tables cannot change inside a transaction).\n"
            + schema_statement(schema, catalog_database, iam_role)
        )
    for table in tables:
        if tables_and_schema:
            parts.append(table_statements(schema, table))
        if partitions:
            parts.extend(partition_statements(schema, table))
    return "\n\n".join(parts) + "\n"


def silver_tables(lake: DeltaRsLake, location_root: str) -> list[ExternalTable]:
    """Every silver table of the registry, in name order; one not yet built is an error."""
    from transforms.registry import SILVER_TABLES

    missing = [t.name for t in SILVER_TABLES if not lake.exists(t.name)]
    if missing:
        raise DDLError(
            f"{', '.join(missing)} not in the lake at {lake.root}: build silver first "
            "(the Dagster job build_silver)"
        )
    return [external_table(lake, name, location_root) for name in sorted(t.name for t in SILVER_TABLES)]


def _location_root(settings: Settings, given: str | None) -> str:
    root = (given or settings.lake_uri).rstrip("/")
    if not root.startswith("s3://"):
        raise DDLError(
            f"Redshift reads the lake from S3, but the lake is at {root}: set {ENV_PREFIX}LAKE_ROOT to its "
            "s3://bucket/prefix (or pass --location with the S3 URI the lake is published at)"
        )
    return root


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m lakehouse.redshift_ddl",
        description="Print the Redshift DDL of silver's external schema over the configured lake.",
    )
    parser.add_argument("--location", help="S3 URI of the lake root as Redshift reads it (default: the lake)")
    parser.add_argument("--iam-role", help=f"IAM role ARN (default: {ENV_PREFIX}REDSHIFT_IAM_ROLE)")
    which = parser.add_mutually_exclusive_group()
    which.add_argument(
        "--partitions-only", action="store_true", help="only register the partitions (after silver runs)"
    )
    which.add_argument("--no-partitions", action="store_true", help="the schema and tables, no partitions")
    arguments = parser.parse_args(argv)
    try:
        settings = load_settings()
        iam_role = arguments.iam_role or settings.redshift_iam_role
        if iam_role is None and not arguments.partitions_only:
            raise DDLError(
                f"the external schema needs an IAM role: set {ENV_PREFIX}REDSHIFT_IAM_ROLE to the ARN of the "
                "role Redshift reads the lake with (arn:aws:iam::<account>:role/<name>), or pass --iam-role"
            )
        lake = DeltaRsLake(settings.lake_uri, settings.storage_options())
        tables = silver_tables(lake, _location_root(settings, arguments.location))
    except (SettingsError, DDLError) as error:
        print(error, file=sys.stderr)
        return 2
    script = render(
        settings.silver_schema,
        settings.redshift_catalog_database,
        iam_role or "",
        tables,
        tables_and_schema=not arguments.partitions_only,
        partitions=not arguments.no_partitions,
    )
    sys.stdout.write(script)
    return 0


if __name__ == "__main__":
    sys.exit(main())
