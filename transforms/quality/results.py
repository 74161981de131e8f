"""Where quality results are kept: GE's JSON report of each validation under `<data dir>/quality/`, and
one row per check per run in the lake table `quality/check_results`, which dashboards and the API read
(`latest` gives the current status of every check).
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from lakehouse.lake import DeltaRsLake
from lakehouse.settings import Settings
from transforms.quality.validate import Validation

CHECK_RESULTS = "quality/check_results"
SCHEMA = pa.schema(
    [
        ("table", pa.string()),
        ("check_name", pa.string()),
        ("severity", pa.string()),  # ERROR blocks what is downstream, WARN reports
        ("passed", pa.bool_()),
        ("observed_value", pa.string()),
        ("unexpected_count", pa.int64()),
        ("unexpected_examples", pa.string()),  # JSON list of some unexpected values
        ("rows_validated", pa.int64()),
        ("silver_version", pa.int64()),  # the silver table's Delta version the check validated
        ("checked_at", pa.timestamp("us", tz="UTC")),
    ]
)


def reports_dir(settings: Settings) -> Path:
    """Folder of the JSON reports (a setting of its own would let production point it elsewhere)."""
    return settings.data_dir / "quality"


def keep(validation: Validation, lake: DeltaRsLake, folder: Path) -> Path:
    """Write the JSON report and append the check rows (once per validated version of a table).

    Returns the report's path.
    """
    report = write_report(validation, folder)
    version = validation.version
    app_id = None if version is None else f"{CHECK_RESULTS}:{validation.table}@{version}"
    lake.append(CHECK_RESULTS, rows(validation), app_id=app_id)
    return report


def rows(validation: Validation) -> pa.Table:
    return pa.Table.from_pylist(
        [
            {
                "table": validation.table,
                "check_name": outcome.check.name,
                "severity": outcome.check.severity,
                "passed": outcome.passed,
                "observed_value": outcome.observed,
                "unexpected_count": outcome.unexpected_count,
                "unexpected_examples": json.dumps(list(outcome.examples), default=str),
                "rows_validated": validation.rows,
                "silver_version": validation.version,
                "checked_at": validation.checked_at,
            }
            for outcome in validation.outcomes
        ],
        schema=SCHEMA,
    )


def write_report(validation: Validation, folder: Path) -> Path:
    """`<folder>/<table>/v<version>-<checked at>.json`: the outcomes and GE's full validation result."""
    version = "none" if validation.version is None else f"{validation.version:08d}"
    path = folder / validation.table / f"v{version}-{validation.checked_at:%Y%m%dT%H%M%S%fZ}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "table": validation.table,
        "silver_version": validation.version,
        "rows_validated": validation.rows,
        "checked_at": validation.checked_at.isoformat(),
        "checks": rows(validation).drop_columns(["table", "silver_version", "checked_at"]).to_pylist(),
        "great_expectations": validation.report,
    }
    path.write_text(json.dumps(document, indent=1, default=str))
    return path


def latest(lake: DeltaRsLake, table: str | None = None) -> pa.Table:
    """The latest result of every check, of one table or of all, ordered by table and check."""
    if not lake.exists(CHECK_RESULTS):
        return SCHEMA.empty_table()
    results = lake.read(CHECK_RESULTS, columns=SCHEMA.names)
    if table is not None:
        results = results.filter(pc.equal(results["table"], table))
    with duckdb.connect() as con:
        con.register("results", results)
        return con.sql(
            """
            select * from results
            qualify row_number() over (
                partition by "table", check_name order by checked_at desc, silver_version desc
            ) = 1
            order by "table", check_name
            """
        ).to_arrow_table()
