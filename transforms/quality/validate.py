"""Runs a silver table's suite on the rows a run wrote, with Great Expectations on a pandas frame.

One ephemeral GE context per process (nothing on disk, no `great_expectations/` folder): a table's
expectation suite and batch definition are registered the first time it is validated, and each later
validation only hands GE the new frame. References are resolved here, against the parent's key column
read from the lake: the frame gets a column holding each value the parent lacks (else null), and GE
expects that column to be null, so its report lists the orphans. The row-count change compares Delta
versions from the log and needs no frame. GE takes seconds to import, so it is imported on first use,
never when Dagster loads the definitions.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc
from deltalake import DeltaTable

from lakehouse.lake import DeltaRsLake
from transforms.quality.suites import (
    Accepted,
    Between,
    Check,
    NotNull,
    Ordered,
    References,
    RowCountChange,
    Unique,
    suite_for,
)
from transforms.table import SilverTable

if TYPE_CHECKING:
    import pandas as pd
    from great_expectations.core.batch_definition import BatchDefinition
    from great_expectations.core.expectation_suite import ExpectationSuite
    from great_expectations.data_context import AbstractDataContext
    from great_expectations.expectations import Expectation

EXAMPLES = 5  # unexpected values kept per check
RESULT_FORMAT = {"result_format": "BASIC", "partial_unexpected_count": EXAMPLES}


@dataclass(frozen=True)
class Outcome:
    check: Check
    passed: bool
    observed: str  # what was measured, for a person
    unexpected_count: int | None = None
    examples: tuple[Any, ...] = ()  # some of the unexpected values, JSON-able


@dataclass(frozen=True)
class Validation:
    table: str
    version: int | None  # the silver Delta version validated
    rows: int  # new rows validated
    checked_at: datetime
    outcomes: tuple[Outcome, ...]
    report: dict[str, Any] = field(default_factory=dict)  # GE's validation result, JSON-able


def validate(table: SilverTable, new_rows: pa.Table, lake: DeltaRsLake, version: int | None) -> Validation:
    """Every check of the table's suite on `new_rows`, the rows the run wrote as `version`."""
    checked_at = datetime.now(UTC)
    checks = suite_for(table)
    decided = {c.name: o for c in checks if (o := _without_expectation(c, new_rows, lake, table, version))}
    to_expect = tuple(check for check in checks if check.name not in decided)
    report: dict[str, Any] = {}
    if to_expect:
        report, found = _run_suite(table.name, to_expect, _frame(new_rows, to_expect, lake))
        decided.update(found)
    outcomes = tuple(decided[check.name] for check in checks)
    return Validation(table.name, version, new_rows.num_rows, checked_at, outcomes, report)


def _without_expectation(
    check: Check, new_rows: pa.Table, lake: DeltaRsLake, table: SilverTable, version: int | None
) -> Outcome | None:
    """The outcome of a check decided without GE: a missing column, the row count, an absent parent."""
    missing = [c for c in check.columns if c not in new_rows.column_names]
    if missing:
        return Outcome(check, False, f"column missing from the new rows: {', '.join(missing)}")
    if isinstance(check, RowCountChange):
        return row_count_change(check, lake, table.name, version)
    if isinstance(check, References) and not lake.exists(check.parent):
        return Outcome(check, True, f"not checked: {check.parent} is not in the lake yet")
    return None


def _frame(new_rows: pa.Table, checks: tuple[Check, ...], lake: DeltaRsLake) -> pd.DataFrame:
    """The columns the checks read, plus each reference's unmatched values, as pandas."""
    frame = new_rows.select(sorted({column for check in checks for column in check.columns}))
    for check in checks:
        if isinstance(check, References):
            orphans = unmatched(new_rows, lake, check)
            frame = frame.append_column(_unmatched_column(check), orphans)
    return _naive_utc(frame).to_pandas()


def _naive_utc(table: pa.Table) -> pa.Table:
    """Timestamps as naive UTC: the same instants, and GE compares them without pandas' deprecated
    dropping of the time zone (every silver timestamp is UTC)."""
    schema = pa.schema(
        column.with_type(pa.timestamp(column.type.unit))
        if pa.types.is_timestamp(column.type) and column.type.tz
        else column
        for column in table.schema
    )
    return table.cast(schema)


def unmatched(rows: pa.Table, lake: DeltaRsLake, check: References) -> pa.ChunkedArray:
    """Each value of the column that the parent's key column lacks; null where it has it (or the value
    is null)."""
    values = rows[check.column]
    if values.null_count == len(values):
        return values
    within = None
    if check.within:
        column, partition = check.within
        within = (partition, pc.unique(pc.drop_null(rows[column])).to_pylist())
    read = lake.read(check.parent, columns=[check.parent_column], partitions=within)
    keys = read[check.parent_column].cast(values.type)
    # The set looked up in is built of the new rows' distinct values, not of the parent's keys (millions
    # for sessions): the parent's keys are matched against it once, and only those found are hashed.
    wanted = pc.unique(pc.drop_null(values))
    present = pc.unique(keys.filter(pc.is_in(keys, value_set=wanted)))
    found = pc.is_in(values, value_set=present)
    return pc.if_else(pc.or_kleene(pc.is_null(values), found), pa.scalar(None, values.type), values)


def row_count_change(check: RowCountChange, lake: DeltaRsLake, table: str, version: int | None) -> Outcome:
    if not version:  # the first version has nothing before it
        return Outcome(check, True, "first version: nothing to compare with")
    before, after = rows_at(lake, table, version - 1), rows_at(lake, table, version)
    if before == 0:
        return Outcome(check, True, f"{after} rows, none before")
    ratio = after / before
    observed = f"{after} rows after, {before} before (x{ratio:.3f})"
    return Outcome(check, check.min_ratio <= ratio <= check.max_ratio, observed)


def rows_at(lake: DeltaRsLake, table: str, version: int) -> int:
    """Rows of a table version, from the file statistics in its log (no data is read)."""
    snapshot = DeltaTable(lake.uri(table), version=version, storage_options=lake.storage_options or None)
    return int(pc.sum(pa.table(snapshot.get_add_actions(flatten=True))["num_records"]).as_py() or 0)


def _unmatched_column(check: References) -> str:
    return f"_unmatched_{check.name}"


def _expectation(check: Check) -> Expectation:
    import great_expectations.expectations as gxe

    meta = {"check": check.name}
    match check:
        case Unique(keys=(key,)):
            return gxe.ExpectColumnValuesToBeUnique(column=key, meta=meta)
        case Unique(keys=keys):
            return gxe.ExpectCompoundColumnsToBeUnique(column_list=list(keys), meta=meta)
        case NotNull(column=column):
            return gxe.ExpectColumnValuesToNotBeNull(column=column, meta=meta)
        case Accepted(column=column, values=values):
            return gxe.ExpectColumnValuesToBeInSet(column=column, value_set=list(values), meta=meta)
        case Between():
            return gxe.ExpectColumnValuesToBeBetween(
                column=check.column,
                min_value=check.min_value,
                max_value=check.max_value,
                strict_min=check.strict_min,
                meta=meta,
            )
        case Ordered():
            return gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A=check.later,
                column_B=check.earlier,
                or_equal=not check.strict,
                ignore_row_if="either_value_is_missing",
                meta=meta,
            )
        case References():
            return gxe.ExpectColumnValuesToBeNull(column=_unmatched_column(check), meta=meta)
    raise TypeError(f"no expectation for {type(check).__name__}")


@cache
def _context() -> AbstractDataContext:
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )
    from great_expectations.execution_engine import pandas_execution_engine

    # GE fingerprints every frame under this many bytes by hashing all its values, twice per validation,
    # for a batch marker nothing here reads: two thirds of the time validating 300,000 session rows.
    pandas_execution_engine.HASH_THRESHOLD = 0

    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
    )
    context = gx.get_context(project_config=config, mode="ephemeral")
    context.data_sources.add_pandas("silver_new_rows")
    return context


_registrations = itertools.count()


@cache
def _registered(table: str, checks: tuple[Check, ...]) -> tuple[BatchDefinition, ExpectationSuite]:
    """The batch definition and suite of a table's checks, registered once per process."""
    import great_expectations as gx

    context = _context()
    # Other checks under the same table name (as in tests) are a second registration: names must differ.
    name = f"{table}#{next(_registrations)}"
    asset = context.data_sources.get("silver_new_rows").add_dataframe_asset(name)
    batch = asset.add_batch_definition_whole_dataframe("new_rows")
    suite = context.suites.add(gx.ExpectationSuite(name=name, expectations=[_expectation(c) for c in checks]))
    return batch, suite


def _run_suite(
    table: str, checks: tuple[Check, ...], frame: pd.DataFrame
) -> tuple[dict[str, Any], dict[str, Outcome]]:
    batch, suite = _registered(table, checks)
    result = batch.get_batch(batch_parameters={"dataframe": frame}).validate(
        suite, result_format=RESULT_FORMAT
    )
    by_name = {check.name: check for check in checks}
    outcomes = {}
    for item in result.results:
        check = by_name[item.expectation_config.meta["check"]]
        outcomes[check.name] = _outcome(check, bool(item.success), item.to_json_dict())
    return result.to_json_dict(), outcomes


def _outcome(check: Check, success: bool, item: dict[str, Any]) -> Outcome:
    details = item["result"]
    if not details:  # GE reports an error as a failure without a result
        return Outcome(check, False, f"not evaluated: {_error(item.get('exception_info') or {})}")
    count = int(details.get("unexpected_count") or 0)
    total = int(details.get("element_count") or 0)
    share = f" ({100 * count / total:.2f}%)" if total else ""
    examples = tuple(details.get("partial_unexpected_list") or ())
    return Outcome(check, success, f"{count} of {total} rows{share}", count, examples)


def _error(info: dict[str, Any]) -> str:
    """The first exception message in GE's exception info, flat or keyed by metric."""
    found = [info, *(value for value in info.values() if isinstance(value, dict))]
    messages = (str(item["exception_message"]) for item in found if item.get("exception_message"))
    return next(messages, "unknown error")
