"""The silver quality suites as Dagster asset checks, declared and evaluated by the silver asset itself.

A silver asset declares `check_specs(table)` and yields `check_results(...)` with its materialization.
ERROR checks are blocking: when one fails, the assets downstream of the table do not run in that run.
References read their parent tables from the lake, so the asset must also depend on `parent_deps(table)`
to have them built first. A run that wrote nothing reports the last recorded result of each check again:
the data did not change, so neither did its verdict, and a failure keeps blocking (Dagster's blocking
only works within one run).
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pyarrow as pa

from lakehouse.lake import DeltaRsLake
from lakehouse.settings import Settings
from orchestration.ingestion.assets import key
from transforms.quality.results import keep, latest, reports_dir
from transforms.quality.suites import Check, parents, suite_for
from transforms.quality.validate import Outcome, Validation, validate
from transforms.table import SilverTable


def check_specs(table: SilverTable) -> list[dg.AssetCheckSpec]:
    return [
        dg.AssetCheckSpec(
            check.name,
            asset=key(table.name),
            blocking=check.severity == "ERROR",
            description=f"{check.severity}: {check.description}",
        )
        for check in suite_for(table)
    ]


def parent_deps(table: SilverTable) -> list[dg.AssetKey]:
    """The silver tables the table's references read: they must be materialized before it."""
    return [key(name) for name in parents(table)]


def check_results(
    table: SilverTable,
    new_rows: pa.Table | None,
    lake: DeltaRsLake,
    settings: Settings,
    *,
    version: int | None = None,
) -> list[dg.AssetCheckResult]:
    """Validate the rows a run wrote (`version`, by default the table's current one) and keep the results.

    `new_rows` None means the run wrote nothing: the last recorded results are reported again.
    """
    if new_rows is None:
        return _carried_over(table, lake)
    validation = validate(table, new_rows, lake, lake.version(table.name) if version is None else version)
    report = keep(validation, lake, reports_dir(settings))
    return [_result(table, outcome, validation, report) for outcome in validation.outcomes]


def _result(
    table: SilverTable, outcome: Outcome, validation: Validation, report: Path
) -> dg.AssetCheckResult:
    metadata: dict[str, object] = {
        "observed_value": outcome.observed,
        "rows_validated": validation.rows,
        "checked_at": validation.checked_at.isoformat(),
        "report": dg.MetadataValue.path(str(report)),
    }
    if outcome.unexpected_count is not None:
        metadata["unexpected_count"] = outcome.unexpected_count
    if outcome.examples:
        metadata["unexpected_examples"] = dg.MetadataValue.json([str(e) for e in outcome.examples])
    if validation.version is not None:
        metadata["silver_version"] = validation.version
    return _check_result(table, outcome.check, outcome.passed, metadata)


def _carried_over(table: SilverTable, lake: DeltaRsLake) -> list[dg.AssetCheckResult]:
    recorded = {row["check_name"]: row for row in latest(lake, table.name).to_pylist()}
    results = []
    for check in suite_for(table):
        row = recorded.get(check.name)
        if row is None:
            metadata: dict[str, object] = {"observed_value": "not validated yet, and nothing new was written"}
            results.append(_check_result(table, check, True, metadata))
            continue
        metadata = {
            "observed_value": row["observed_value"],
            "carried_over": "nothing new was written: the last result of this check stands",
            "checked_at": row["checked_at"].isoformat(),
        }
        if row["silver_version"] is not None:
            metadata["silver_version"] = row["silver_version"]
        results.append(_check_result(table, check, row["passed"], metadata))
    return results


def _check_result(
    table: SilverTable, check: Check, passed: bool, metadata: dict[str, object]
) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        asset_key=key(table.name),
        check_name=check.name,
        passed=passed,
        severity=dg.AssetCheckSeverity(check.severity),
        description=check.description,
        metadata={"severity": check.severity, **metadata},
    )
