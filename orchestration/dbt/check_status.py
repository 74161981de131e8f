"""What the checks behind each mart last said, read from the Dagster instance when the warehouse is published.

A mart's number is only as good as everything it is built from, so a mart's status counts the checks of
the mart itself and of every asset upstream of it: the dbt tests of its models and the Great Expectations
suites of silver, each at its latest evaluation (Dagster's blocking only holds within one run, so a
failure recorded by an earlier run still counts), and the freshness of the sources and bronze tables
that carry a freshness policy, judged at publication time. The published warehouse keeps both
(meta.check_results and meta.mart_status, orchestration/dbt/publish.py) for the dashboards to show.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Literal

import dagster as dg
from dagster._core.definitions.freshness import TimeWindowFreshnessPolicy

if TYPE_CHECKING:
    from dagster._core.definitions.assets.graph.asset_graph import AssetGraph
    from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecord

CheckState = Literal["passed", "failed", "not_run"]
Severity = Literal["error", "warn"]
MartState = Literal["passed", "warning", "failed", "not_checked"]
FRESHNESS = "freshness"


@dataclass(frozen=True)
class CheckResult:
    """One row of meta.check_results: a check's latest verdict."""

    asset_key: str  # 'finance/fct_mrr', 'silver/invoices'
    check_name: str
    status: CheckState
    severity: Severity  # of the failure when it failed (a dbt test can warn before it errors), else declared
    evaluated_at: datetime | None  # UTC; None when the check never ran
    description: str


@dataclass(frozen=True)
class CheckStatus:
    """Every check behind the marts, and which assets each mart is built from."""

    results: tuple[CheckResult, ...] = ()
    # relation ('finance.fct_mrr') -> asset keys of the mart and of every asset upstream of it
    lineage: Mapping[str, frozenset[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class MartStatus:
    """One row of meta.mart_status."""

    relation: str
    as_of_date: date | None
    built_at: datetime
    checks_passed: int
    checks_warned: int
    checks_failed: int
    checks_not_run: int
    failing: str
    status: MartState


def mart_status(
    relation: str, as_of_date: date | None, built_at: datetime, checks: CheckStatus
) -> MartStatus:
    """The verdict of a mart from the checks of the assets it is built from: failed when an error check
    failed, a warning when only warn checks did, not_checked when none passed."""
    upstream = checks.lineage.get(relation, frozenset())
    behind = [result for result in checks.results if result.asset_key in upstream]
    failed = [r for r in behind if r.status == "failed" and r.severity == "error"]
    warned = [r for r in behind if r.status == "failed" and r.severity == "warn"]
    passed = sum(r.status == "passed" for r in behind)
    if failed:
        status: MartState = "failed"
    elif warned:
        status = "warning"
    elif passed == 0:
        status = "not_checked"
    else:
        status = "passed"
    return MartStatus(
        relation=relation,
        as_of_date=as_of_date,
        built_at=built_at,
        checks_passed=passed,
        checks_warned=len(warned),
        checks_failed=len(failed),
        checks_not_run=sum(r.status == "not_run" for r in behind),
        # Errors first: a tile has room for the first few only.
        failing=",".join(f"{r.asset_key}:{r.check_name}" for r in sorted([*failed, *warned], key=_order)),
        status=status,
    )


def _order(result: CheckResult) -> tuple[int, str, str]:
    return (result.severity != "error", result.asset_key, result.check_name)


def check_status_for(context: dg.AssetExecutionContext, marts: Sequence[dg.AssetKey]) -> CheckStatus:
    """The check status behind `marts`, collected from inside the asset that publishes them."""
    # The run's graph holds only the checks its selection runs; its source graph is the whole location's,
    # whether the run came from a code location, execute_in_process or materialize.
    asset_graph = context.job_def.asset_layer.asset_graph.source_asset_graph
    return collect_check_status(context.instance, asset_graph, marts)


def collect_check_status(
    instance: dg.DagsterInstance,
    asset_graph: AssetGraph,
    marts: Sequence[dg.AssetKey],
    now: datetime | None = None,
) -> CheckStatus:
    """The latest evaluation of every asset check on the marts and upstream of them, and the freshness
    of every upstream asset with a time-window freshness policy, as of `now` (default: this moment).
    `asset_graph` is the whole code location's graph (a run's own graph knows only its selected checks)."""
    now = now or datetime.now(UTC)
    lineage = {
        ".".join(mart.path): frozenset(
            key.to_user_string() for key in asset_graph.get_ancestor_asset_keys(mart, include_self=True)
        )
        for mart in marts
    }
    upstream = {key for keys in lineage.values() for key in keys}
    check_keys = sorted(
        (key for key in asset_graph.asset_check_keys if key.asset_key.to_user_string() in upstream),
        key=lambda key: (key.asset_key.to_user_string(), key.name),
    )
    latest = instance.event_log_storage.get_latest_asset_check_execution_by_key(check_keys)
    results = [_check_result(key, asset_graph.get_check_spec(key), latest.get(key)) for key in check_keys]
    policies = {
        key: policy
        for key in asset_graph.get_all_asset_keys()
        if key.to_user_string() in upstream
        and isinstance(policy := asset_graph.get(key).freshness_policy, TimeWindowFreshnessPolicy)
    }
    results += [
        freshness(key.to_user_string(), policy, _last_updated(instance, key), now)
        for key, policy in sorted(policies.items(), key=lambda item: item[0].to_user_string())
    ]
    return CheckStatus(results=tuple(results), lineage=lineage)


def _last_updated(instance: dg.DagsterInstance, key: dg.AssetKey) -> datetime | None:
    """When the asset last changed: its latest materialization, or observation for a source that Dagster
    only observes."""
    materialized = instance.get_latest_materialization_event(key)
    observed = instance.fetch_observations(key, limit=1).records
    times = [entry.timestamp for entry in (materialized, *(r.event_log_entry for r in observed)) if entry]
    return _utc(max(times)) if times else None


def _check_result(
    key: dg.AssetCheckKey, spec: dg.AssetCheckSpec, record: AssetCheckExecutionRecord | None
) -> CheckResult:
    asset_key = key.asset_key.to_user_string()
    declared: Severity = "error" if spec.blocking else "warn"
    # A planned evaluation that never finished (its run is still going, or skipped the check) is no verdict.
    event = record.event if record is not None else None
    evaluation = event.asset_check_evaluation if event is not None else None
    if event is None or evaluation is None:
        return CheckResult(asset_key, key.name, "not_run", declared, None, spec.description or "")
    evaluated_at = _utc(event.timestamp)
    description = evaluation.description or spec.description or ""
    if evaluation.passed:
        return CheckResult(asset_key, key.name, "passed", declared, evaluated_at, description)
    failing_rows = _failing_rows(evaluation.metadata)
    if failing_rows is not None:
        description = f"{failing_rows:,} failing rows" + (f"; {description}" if description else "")
    severity: Severity = "warn" if evaluation.severity == dg.AssetCheckSeverity.WARN else "error"
    return CheckResult(asset_key, key.name, "failed", severity, evaluated_at, description)


def _failing_rows(metadata: Mapping[str, object]) -> int | None:
    """The rows that broke the check, as dbt (failed_row_count) or Great Expectations (unexpected_count)
    reports them."""
    for name in ("dagster_dbt/failed_row_count", "unexpected_count"):
        value = metadata.get(name)
        if value is not None:
            return int(getattr(value, "value", value))
    return None


def _utc(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


def freshness(
    asset_key: str, policy: TimeWindowFreshnessPolicy, materialized_at: datetime | None, now: datetime
) -> CheckResult:
    """A freshness policy judged at `now` (UTC): failed with severity error past its fail window, with
    severity warn past its warn window; not_run when the asset was never materialized."""
    fail_after = policy.fail_window.to_timedelta()
    warn_after = policy.warn_window.to_timedelta() if policy.warn_window else None
    windows = f"late after {_hours(fail_after)}" + (
        f", a warning after {_hours(warn_after)}" if warn_after else ""
    )
    if materialized_at is None:
        return CheckResult(asset_key, FRESHNESS, "not_run", "error", None, f"never materialized; {windows}")
    age = now - materialized_at
    if age > fail_after:
        status, severity = "failed", "error"
    elif warn_after is not None and age > warn_after:
        status, severity = "failed", "warn"
    else:
        status, severity = "passed", "error"
    return CheckResult(
        asset_key,
        FRESHNESS,
        status,
        severity,
        now,
        f"last materialized {_hours(age)} before publication; {windows}",
    )


def _hours(span: timedelta) -> str:
    return f"{span.total_seconds() / 3600:.1f} h"


def _naive(moment: datetime) -> datetime:
    """UTC without a zone, as the warehouse's timestamp columns hold it."""
    return moment.astimezone(UTC).replace(tzinfo=None)


def check_result_rows(results: Iterable[CheckResult]) -> list[tuple]:
    """meta.check_results rows, in its column order, times in naive UTC."""
    return [
        (
            r.asset_key,
            r.check_name,
            r.status,
            r.severity,
            None if r.evaluated_at is None else _naive(r.evaluated_at),
            r.description,
        )
        for r in results
    ]
