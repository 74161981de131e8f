"""The metric catalogue the dashboards, the metrics API and the generation jobs read.

Every metric is defined once, in dbt's semantic layer (`dbt_project/models/semantic/`); `dbt parse` writes
it to `target/semantic_manifest.json`, which this module reads. A reader never re-derives a metric: it asks
`Catalog.query` for SQL that reads the metric from its mart in the published warehouse. That SQL
re-aggregates only what may be re-aggregated:

- a simple metric applies its measure's aggregation (a sum over days, products, ...);
- a ratio is Σ numerator / Σ denominator over the rows asked for, null when the denominator is 0;
- a derived metric is its expression over the aggregated inputs; a cumulative one is a running total to
  each period's end, history before the range included;
- a `grain_only` metric (a percentile, a distinct count, a rate tied to its period) is read only at its
  mart's own grain: its time granularity, and every grain dimension grouped or filtered to one value;
  a measure with a non-additive dimension (a month-end balance) only at its own time granularity;
- rows that already total the others (`total_rows`, e.g. product `all`) are read instead of adding the
  others up, unless the query groups by that dimension.

User input reaches the SQL only as bound parameters (`?`); metric, dimension and filter names are looked
up in the catalogue and refused when unknown, so no identifier comes from the user.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path

from lakehouse.settings import PROJECT_ROOT

SEMANTIC_MANIFEST = PROJECT_ROOT / "dbt_project" / "target" / "semantic_manifest.json"
METRICS_DOC = PROJECT_ROOT / "docs" / "metrics.md"

PAGES = ("overview", "learning", "marketing_roi", "finance", "ai_products")
FORMATS = frozenset(
    {"currency_usd", "percent", "count", "number", "ratio", "days", "months", "seconds", "ms"}
)
GRAINS = ("day", "week", "month")
MAX_FILTER_VALUES = 1000

_AGGREGATIONS = {
    "sum": "sum({})",
    "count": "count({})",
    "count_distinct": "count(distinct {})",
    "min": "min({})",
    "max": "max({})",
    "average": "avg({})",
    "sum_boolean": "sum(cast({} as integer))",
}
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
_FILTER = re.compile(
    r"^\{\{\s*Dimension\(\s*'\w+?__(?P<dimension>\w+)'\s*\)\s*\}\}\s*=\s*"
    r"(?:'(?P<text>(?:[^']|'')*)'|(?P<number>-?\d+))\s*$"
)
_DERIVED_TOKEN = re.compile(
    r"\s*(?:(?P<name>[a-z_][a-z0-9_]*)|(?P<number>\d+(?:\.\d+)?)|(?P<symbol>[-+*/(),]))"
)
_DERIVED_FUNCTIONS = frozenset({"nullif", "coalesce"})


class CatalogError(RuntimeError):
    """The catalogue is missing or does not follow the rules this reader relies on."""


class MetricQueryError(ValueError):
    """A query the catalogue refuses; the message says what is allowed instead."""


@dataclass(frozen=True)
class Filter:
    """A metric's own condition on a dimension of its mart, e.g. movement = 'new'."""

    dimension: str
    value: object


@dataclass(frozen=True)
class Measure:
    name: str
    agg: str
    expr: str
    non_additive: bool


@dataclass(frozen=True)
class SemanticModel:
    name: str
    model: str
    relation: str
    time_dimension: str
    time_expr: str
    time_granularity: str
    dimensions: Mapping[str, str]  # categorical dimension -> its SQL expression over the mart's columns
    grain_dimensions: tuple[str, ...]
    total_rows: Mapping[str, object]
    snapshot: bool
    measures: Mapping[str, Measure]


@dataclass(frozen=True)
class Metric:
    name: str
    label: str
    description: str
    type: str
    format: str
    model: str
    relation: str
    column: str
    time_dimension: str | None
    time_granularity: str | None
    dimensions: tuple[str, ...]
    grain_only: bool
    pages: tuple[str, ...]
    required_dimensions: tuple[str, ...] = ()
    repeated_over: Mapping[str, object] = field(default_factory=dict)
    filters: tuple[Filter, ...] = ()
    inputs: tuple[str, ...] = ()
    measure: Measure | None = None
    expr: str | None = None
    semantic_model: str = ""


@dataclass(frozen=True)
class MetricQuery:
    """SQL with `?` placeholders, its parameters in order, and the names of the columns it returns."""

    sql: str
    params: tuple[object, ...]
    columns: tuple[str, ...]


class Catalog:
    def __init__(self, metrics: Mapping[str, Metric], semantic_models: Mapping[str, SemanticModel]) -> None:
        self.metrics = dict(metrics)
        self.semantic_models = dict(semantic_models)

    def metric(self, name: object) -> Metric:
        if not isinstance(name, str) or name not in self.metrics:
            known = ", ".join(sorted(self.metrics))
            raise MetricQueryError(f"unknown metric {name!r}; the catalogue has: {known}")
        return self.metrics[name]

    def metrics_for_page(self, page: str) -> list[Metric]:
        if page not in PAGES:
            raise MetricQueryError(f"unknown dashboard page {page!r}; the pages are {', '.join(PAGES)}")
        return [metric for metric in self.metrics.values() if page in metric.pages]

    def query(
        self,
        metrics: str | Sequence[str],
        start: date | None = None,
        end: date | None = None,
        grain: str | None = None,
        group_by: Sequence[str] = (),
        filters: Mapping[str, object] | None = None,
    ) -> MetricQuery:
        """SQL reading metrics of one mart over [start, end] (UTC days, inclusive) per `grain` period.

        `group_by` and the keys of `filters` are dimension names of the mart; a filter value is one value
        or a list of values. Without a grain, the mart's own time granularity is used. Returns a
        `period` column (the first day of each period; none for a snapshot mart), the group-by
        dimensions and one column per metric.
        """
        if not isinstance(metrics, str | list | tuple):
            raise MetricQueryError("name a metric, or a list of metrics of one mart")
        chosen = [self.metric(name) for name in ([metrics] if isinstance(metrics, str) else metrics)]
        if not chosen:
            raise MetricQueryError("name at least one metric")
        chosen = list({metric.name: metric for metric in chosen}.values())
        model = self._one_model(chosen)
        grain = self._grain(model, chosen, grain)
        _check_range(start, end)
        groups = self._group_by(model, group_by)
        wanted = self._filters(model, filters or {})
        for metric in chosen:
            self._check_requirements(model, metric, groups, wanted)

        params: list[object] = []
        select = []
        if not model.snapshot:
            select.append(f"{_bucket(model.time_expr, grain)} as period")
        select += [f'{model.dimensions[name]} as "{name}"' for name in groups]
        for metric in chosen:
            sql, values = self._compile(metric, ())
            select.append(f'{sql} as "{metric.name}"')
            params += values

        conditions, values = self._conditions(model, chosen, groups, wanted, start, end)
        params += values
        keys = ([] if model.snapshot else ["period"]) + list(groups)
        sql = f"select {', '.join(select)}\nfrom {model.relation}"
        if conditions:
            sql += "\nwhere " + "\n  and ".join(conditions)
        if keys:
            sql += "\ngroup by " + ", ".join(str(n) for n in range(1, len(keys) + 1))
        columns = tuple(keys) + tuple(metric.name for metric in chosen)
        running = [metric.name for metric in chosen if metric.type == "cumulative"]
        if running:
            sql, params = _running_totals(sql, params, columns, keys, running, start, grain)
        order = ", ".join(f'"{key}"' for key in keys)
        return MetricQuery(sql + (f"\norder by {order}" if order else ""), tuple(params), columns)

    def values_query(self, metric: str, dimension: str) -> MetricQuery:
        """SQL listing the values a dimension of the metric's mart takes (not its total rows)."""
        model = self.semantic_models[self.metric(metric).semantic_model]
        if dimension not in model.dimensions:
            raise MetricQueryError(_unknown_dimension(model, dimension))
        expr = model.dimensions[dimension]
        sql = f'select distinct {expr} as "{dimension}" from {model.relation} where {expr} is not null'
        params: tuple[object, ...] = ()
        if dimension in model.total_rows:
            sql += f" and {expr} <> ?"
            params = (model.total_rows[dimension],)
        return MetricQuery(sql + " order by 1", params, (dimension,))

    def _one_model(self, metrics: list[Metric]) -> SemanticModel:
        models = {metric.semantic_model for metric in metrics}
        if len(models) > 1:
            marts = ", ".join(f"{metric.name} ({metric.model})" for metric in metrics)
            raise MetricQueryError(f"query the metrics of one mart at a time: {marts}")
        return self.semantic_models[models.pop()]

    def native_grain_only(self, metric: Metric) -> bool:
        """Read only at its mart's time granularity: grain-only, or built on a balance (non-additive)."""
        return any(
            member.grain_only or (member.measure is not None and member.measure.non_additive)
            for member in self._family(metric)
        )

    def _grain(self, model: SemanticModel, metrics: list[Metric], grain: str | None) -> str:
        native = model.time_granularity
        if grain is None:
            return native
        if grain not in GRAINS:
            raise MetricQueryError(f"unknown time grain {grain!r}; use one of {', '.join(GRAINS)}")
        if model.snapshot:
            return native
        if GRAINS.index(grain) < GRAINS.index(native):
            raise MetricQueryError(
                f"{model.model} has one row per {native}: ask for grain {native!r} or coarser, not {grain!r}"
            )
        fixed = [metric.name for metric in metrics if self.native_grain_only(metric)]
        if grain != native and fixed:
            raise MetricQueryError(
                f"{', '.join(fixed)} cannot be re-aggregated over time: ask for grain {native!r}"
            )
        return grain

    @staticmethod
    def _group_by(model: SemanticModel, group_by: Sequence[str]) -> tuple[str, ...]:
        if isinstance(group_by, str):
            group_by = (group_by,)
        for name in group_by:
            if not isinstance(name, str) or name not in model.dimensions:
                raise MetricQueryError(_unknown_dimension(model, name))
        if len(set(group_by)) != len(group_by):
            raise MetricQueryError(f"group by a dimension once: {list(group_by)}")
        return tuple(group_by)

    @staticmethod
    def _filters(model: SemanticModel, filters: Mapping[str, object]) -> dict[str, tuple[object, ...]]:
        wanted = {}
        for name, value in filters.items():
            if not isinstance(name, str) or name not in model.dimensions:
                raise MetricQueryError(_unknown_dimension(model, name))
            values = tuple(value) if isinstance(value, list | tuple | set | frozenset) else (value,)
            if not values:
                raise MetricQueryError(f"filter {name!r} has no values; leave it out to keep every row")
            if len(values) > MAX_FILTER_VALUES:
                raise MetricQueryError(
                    f"filter {name!r} has {len(values)} values; at most {MAX_FILTER_VALUES}"
                )
            for item in values:
                if not isinstance(item, str | int | float | bool | date):
                    raise MetricQueryError(f"filter {name!r}: {type(item).__name__} is not a value")
            if name in model.total_rows and model.total_rows[name] in values and len(values) > 1:
                raise MetricQueryError(
                    f"filter {name!r}: {model.total_rows[name]!r} totals the other values; choose it alone"
                )
            wanted[name] = values
        return wanted

    def _check_requirements(
        self,
        model: SemanticModel,
        metric: Metric,
        groups: tuple[str, ...],
        wanted: Mapping[str, tuple[object, ...]],
    ) -> None:
        family = self._family(metric)
        required = {name for member in family for name in member.required_dimensions}
        if metric.grain_only:
            required |= set(model.grain_dimensions)
        fixed = {f.dimension for member in family for f in member.filters}
        fixed |= {name for name, values in wanted.items() if len(values) == 1}
        fixed |= {name for name in model.total_rows if name not in wanted}
        missing = sorted(required - fixed - set(groups))
        if missing:
            raise MetricQueryError(
                f"{metric.name} differs by {', '.join(missing)}: group by "
                f"{'them' if len(missing) > 1 else 'it'} or filter one value"
            )

    def _family(self, metric: Metric) -> list[Metric]:
        """The metric and every metric it is computed from."""
        found = [metric]
        for name in metric.inputs:
            found += self._family(self.metrics[name])
        return found

    def _compile(self, metric: Metric, inherited: tuple[Filter, ...]) -> tuple[str, list[object]]:
        """The metric's aggregate over the mart's rows, its own filters folded into the aggregation."""
        filters = inherited + metric.filters
        if metric.measure is not None:
            return self._aggregate(metric, metric.measure, filters)
        if metric.type == "ratio":
            numerator, denominator = (self._compile(self.metrics[name], filters) for name in metric.inputs)
            sql = f"cast({numerator[0]} as double) / nullif({denominator[0]}, 0)"
            return sql, numerator[1] + denominator[1]
        compiled = {name: self._compile(self.metrics[name], filters) for name in metric.inputs}
        parts, params = [], []
        for token in _derived_tokens(metric.expr or ""):
            if token in compiled:
                parts.append(f"({compiled[token][0]})")
                params += compiled[token][1]
            else:
                parts.append(token)
        return " ".join(parts), params

    def _aggregate(self, metric: Metric, measure: Measure, filters: tuple[Filter, ...]) -> tuple[str, list]:
        model = self.semantic_models[metric.semantic_model]
        if not filters:
            return _AGGREGATIONS[measure.agg].format(measure.expr), []
        conditions = " and ".join(f"{model.dimensions[f.dimension]} = ?" for f in filters)
        case = f"case when {conditions} then {measure.expr} end"
        return _AGGREGATIONS[measure.agg].format(case), [f.value for f in filters]

    def _conditions(
        self,
        model: SemanticModel,
        metrics: list[Metric],
        groups: tuple[str, ...],
        wanted: Mapping[str, tuple[object, ...]],
        start: date | None,
        end: date | None,
    ) -> tuple[list[str], list[object]]:
        conditions: list[str] = []
        params: list[object] = []
        if not model.snapshot:
            running = any(metric.type == "cumulative" for metric in metrics)
            if start is not None and not running:
                conditions.append(f"{model.time_expr} >= ?")
                params.append(_period_start(start, model.time_granularity))
            if end is not None:
                conditions.append(f"{model.time_expr} < ?")
                params.append(end + timedelta(days=1))
        for name, values in wanted.items():
            placeholders = ", ".join("?" for _ in values)
            conditions.append(f"{model.dimensions[name]} in ({placeholders})")
            params += values
        defaults = dict(model.total_rows)
        for metric in metrics:
            for member in self._family(metric):
                defaults |= member.repeated_over
        for name, value in defaults.items():
            if name in groups and name in model.total_rows:
                conditions.append(f"{model.dimensions[name]} <> ?")
                params.append(value)
            elif name not in groups and name not in wanted:
                conditions.append(f"{model.dimensions[name]} = ?")
                params.append(value)
        return conditions, params

    def catalogue_markdown(self) -> str:
        """The metric table of the Catalogue section of docs/metrics.md."""
        lines = [
            "| metric | label | type | format | mart.column | read at | pages |",
            "|---|---|---|---|---|---|---|",
        ]
        for metric in sorted(self.metrics.values(), key=lambda m: (m.relation, m.name)):
            pages = ", ".join(metric.pages) or "—"
            lines.append(
                f"| `{metric.name}` | {metric.label} | {metric.type} | {metric.format} "
                f"| `{metric.relation}.{metric.column}` | {self._read_at(metric)} | {pages} |"
            )
        return "\n".join(lines) + "\n"

    def _read_at(self, metric: Metric) -> str:
        model = self.semantic_models[metric.semantic_model]
        if model.snapshot:
            where = "as of the build"
        elif self.native_grain_only(metric):
            where = f"{model.time_granularity} only"
        else:
            where = f"{model.time_granularity} or coarser"
        family = self._family(metric)
        required = {name for member in family for name in member.required_dimensions}
        if metric.grain_only:
            required |= set(model.grain_dimensions) - set(model.total_rows)
        required -= {f.dimension for member in family for f in member.filters}
        if required:
            where += ", per " + ", ".join(f"`{name}`" for name in sorted(required))
        return where


def load_catalog(path: Path | str | None = None) -> Catalog:
    """The catalogue from dbt's semantic manifest (by default the dbt project's target folder)."""
    path = Path(path) if path is not None else SEMANTIC_MANIFEST
    try:
        stamp = path.stat().st_mtime_ns
    except FileNotFoundError:
        raise CatalogError(
            f"no metric catalogue at {path}: run `make install` (or `cd dbt_project && dbt parse "
            "--profiles-dir .`) to write dbt's semantic manifest"
        ) from None
    return _load(str(path), stamp)


def metrics_for_page(page: str) -> list[Metric]:
    """The metrics a dashboard page shows, from the default catalogue."""
    return load_catalog().metrics_for_page(page)


@lru_cache(maxsize=4)
def _load(path: str, stamp: int) -> Catalog:
    del stamp  # part of the cache key: a new parse gives a new catalogue
    try:
        manifest = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise CatalogError(
            f"the metric catalogue {path} is unreadable ({error}): run `make install` again"
        ) from None
    models = {model["name"]: _semantic_model(model) for model in manifest["semantic_models"]}
    owner = {measure: model for model in models.values() for measure in model.measures}
    raw = {metric["name"]: metric for metric in manifest["metrics"]}
    metrics: dict[str, Metric] = {}

    def build(name: str) -> Metric:
        if name not in metrics:
            if name not in raw:
                raise CatalogError(f"metric {name!r} is used but not defined in the catalogue")
            metrics[name] = _metric(raw[name], models, owner, build)
        return metrics[name]

    for name in raw:
        build(name)
    return Catalog(metrics, models)


def _semantic_model(raw: Mapping) -> SemanticModel:
    name = raw["name"]
    meta = (raw.get("config") or {}).get("meta") or {}
    default_time = (raw.get("defaults") or {}).get("agg_time_dimension")
    dimensions = {d["name"]: d for d in raw["dimensions"]}
    time = dimensions.get(default_time)
    if time is None or time["type"] != "time":
        raise CatalogError(
            f"semantic model {name}: set defaults.agg_time_dimension to one of its time dimensions"
        )
    measures = {}
    for measure in raw["measures"]:
        if measure.get("agg_time_dimension") not in (None, default_time):
            raise CatalogError(f"semantic model {name}: measure {measure['name']} must use {default_time}")
        if measure["agg"] not in _AGGREGATIONS:
            raise CatalogError(
                f"measure {measure['name']}: aggregation {measure['agg']} is not supported here"
            )
        measures[measure["name"]] = Measure(
            name=measure["name"],
            agg=measure["agg"],
            expr=str(measure.get("expr") or measure["name"]),
            non_additive=measure.get("non_additive_dimension") is not None,
        )
    categorical = {
        d["name"]: d.get("expr") or d["name"] for d in dimensions.values() if d["type"] == "categorical"
    }
    for dimension in categorical:
        _check_identifier(dimension, f"dimension of {name}")
    relation = raw["node_relation"]
    return SemanticModel(
        name=name,
        model=relation["alias"],
        relation=f"{relation['schema_name']}.{relation['alias']}",
        time_dimension=default_time,
        time_expr=time.get("expr") or time["name"],
        time_granularity=time["type_params"]["time_granularity"],
        dimensions=categorical,
        grain_dimensions=tuple(meta.get("grain_dimensions", ())),
        total_rows=dict(meta.get("total_rows", {})),
        snapshot=bool(meta.get("snapshot", False)),
        measures=measures,
    )


def _metric(
    raw: Mapping, models: Mapping[str, SemanticModel], owner: Mapping[str, SemanticModel], build
) -> Metric:
    name = _check_identifier(raw["name"], "metric")
    meta = (raw.get("config") or {}).get("meta") or {}
    kind = raw["type"]
    params = raw["type_params"]
    measure = None
    inputs: tuple[str, ...] = ()
    if kind in ("simple", "cumulative"):
        measure_name = params["measure"]["name"]
        model = owner[measure_name]
        measure = model.measures[measure_name]
        if kind == "cumulative" and (params.get("window") or params.get("grain_to_date")):
            raise CatalogError(f"metric {name}: only running totals to date are supported, not windows")
    elif kind in ("ratio", "derived"):
        if kind == "ratio":
            inputs = (params["numerator"]["name"], params["denominator"]["name"])
            used = [params["numerator"], params["denominator"]]
        else:
            inputs = tuple(item["name"] for item in params["metrics"])
            used = params["metrics"]
        if any(item.get("filter") or item.get("alias") or item.get("offset_window") for item in used):
            raise CatalogError(f"metric {name}: put filters on the input metrics, without aliases or offsets")
        parts = [build(item) for item in inputs]
        if any(part.type == "cumulative" for part in parts):
            raise CatalogError(f"metric {name}: a running total cannot be an input")
        if len({part.semantic_model for part in parts}) != 1:
            raise CatalogError(f"metric {name}: its inputs must read one mart")
        model = models[parts[0].semantic_model]
        if kind == "derived":
            _derived_tokens(params["expr"], allowed=set(inputs))
    else:
        raise CatalogError(f"metric {name}: type {kind} is not supported here")
    missing = [key for key in ("format", "model", "column", "pages") if key not in meta]
    if missing:
        raise CatalogError(f"metric {name}: meta lacks {', '.join(missing)}")
    if meta["format"] not in FORMATS:
        raise CatalogError(f"metric {name}: format {meta['format']!r} is not one of {sorted(FORMATS)}")
    if unknown := set(meta["pages"]) - set(PAGES):
        raise CatalogError(f"metric {name}: unknown pages {sorted(unknown)}; the pages are {PAGES}")
    if meta["model"] != model.model:
        raise CatalogError(f"metric {name}: meta model {meta['model']} but it reads {model.model}")
    named = set(meta.get("required_dimensions", ())) | set(meta.get("repeated_over", {}))
    if unknown := named - set(model.dimensions):
        raise CatalogError(f"metric {name}: {sorted(unknown)} are not dimensions of {model.name}")
    filters = tuple(
        _parse_filter(item["where_sql_template"], model, name)
        for item in ((raw.get("filter") or {}).get("where_filters") or [])
    )
    return Metric(
        name=name,
        label=raw["label"],
        description=" ".join((raw.get("description") or "").split()),
        type=kind,
        format=meta["format"],
        model=model.model,
        relation=model.relation,
        column=meta["column"],
        time_dimension=None if model.snapshot else model.time_dimension,
        time_granularity=None if model.snapshot else model.time_granularity,
        dimensions=tuple(model.dimensions),
        grain_only=bool(meta.get("grain_only", False)),
        pages=tuple(meta["pages"]),
        required_dimensions=tuple(meta.get("required_dimensions", ())),
        repeated_over=dict(meta.get("repeated_over", {})),
        filters=filters,
        inputs=inputs,
        measure=measure,
        expr=params.get("expr") if kind == "derived" else None,
        semantic_model=model.name,
    )


def _parse_filter(template: str, model: SemanticModel, metric: str) -> Filter:
    match = _FILTER.match(template)
    if not match or match.group("dimension") not in model.dimensions:
        raise CatalogError(
            f"metric {metric}: filter {template!r} must be {{{{ Dimension('<entity>__<dimension>') }}}} = "
            f"'text' or an integer, on a dimension of {model.name}"
        )
    if match.group("text") is not None:
        return Filter(match.group("dimension"), match.group("text").replace("''", "'"))
    return Filter(match.group("dimension"), int(match.group("number")))


def _derived_tokens(expr: str, allowed: set[str] | None = None) -> list[str]:
    tokens, position = [], 0
    while position < len(expr.rstrip()):
        match = _DERIVED_TOKEN.match(expr, position)
        if not match:
            raise CatalogError(f"derived expression {expr!r}: unexpected text at {expr[position:]!r}")
        token = match.group(match.lastgroup)
        if match.lastgroup == "name" and allowed is not None and token not in allowed | _DERIVED_FUNCTIONS:
            raise CatalogError(
                f"derived expression {expr!r}: {token!r} is neither an input metric nor allowed"
            )
        tokens.append(token)
        position = match.end()
    return tokens


def _running_totals(
    sql: str,
    params: list[object],
    columns: tuple[str, ...],
    keys: list[str],
    running: list[str],
    start: date | None,
    grain: str,
) -> tuple[str, list[object]]:
    """Running totals of the cumulative metrics over the periods, history before `start` included."""
    partition = [f'"{key}"' for key in keys if key != "period"]
    window = (f"partition by {', '.join(partition)} " if partition else "") + "order by period"
    outer = [
        f'sum("{name}") over ({window} rows between unbounded preceding and current row) as "{name}"'
        if name in running
        else f'"{name}"'
        for name in columns
    ]
    sql = (
        f"with periods as (\n{sql}\n),\nrunning as (select {', '.join(outer)} from periods)\n"
        "select * from running"
    )
    if start is not None:
        sql += "\nwhere period >= ?"
        params = params + [_period_start(start, grain)]
    return sql, params


def _bucket(expr: str, grain: str) -> str:
    # A day needs no date_trunc: the cast alone keeps a date as it is and cuts a timestamp to its day.
    return f"cast({expr} as date)" if grain == "day" else f"cast(date_trunc('{grain}', {expr}) as date)"


def _period_start(day: date, grain: str) -> date:
    if grain == "month":
        return day.replace(day=1)
    if grain == "week":
        return day - timedelta(days=day.weekday())
    return day


def _check_range(start: object, end: object) -> None:
    for name, value in (("start", start), ("end", end)):
        if value is not None and (not isinstance(value, date) or isinstance(value, datetime)):
            raise MetricQueryError(f"{name} must be a date (UTC day), not {type(value).__name__}")
    if start is not None and end is not None and start > end:
        raise MetricQueryError(f"start {start} is after end {end}")


def _unknown_dimension(model: SemanticModel, name: object) -> str:
    known = ", ".join(model.dimensions) or "none"
    return f"unknown dimension {name!r} for {model.model}; its dimensions are: {known}"


def _check_identifier(name: str, what: str) -> str:
    if not _IDENTIFIER.match(name):
        raise CatalogError(f"{what} {name!r} is not a plain lower-case identifier")
    return name


def update_metrics_doc(doc: Path = METRICS_DOC, catalog: Catalog | None = None) -> bool:
    """Rewrite the table of docs/metrics.md's Catalogue section; True when it changed."""
    text = doc.read_text(encoding="utf-8")
    table = (catalog or load_catalog()).catalogue_markdown()
    current = catalogue_table(text)
    if current is None:
        raise CatalogError(f"{doc} has no '## Catalogue' section with a metric table to update")
    if current == table:
        return False
    doc.write_text(text.replace(current, table, 1), encoding="utf-8")
    return True


def catalogue_table(doc: str) -> str | None:
    """The metric table (header to last row) of the doc's Catalogue section, or None without one."""
    section = re.search(r"^## Catalogue\n(.*?)(?=^## |\Z)", doc, re.MULTILINE | re.DOTALL)
    if not section:
        return None
    table = re.search(r"^\| metric \|.*?\n(?:\|.*\n)*", section.group(1), re.MULTILINE)
    return table.group(0) if table else None


if __name__ == "__main__":
    changed = update_metrics_doc()
    print(f"{METRICS_DOC}: {'catalogue updated' if changed else 'catalogue already current'}")
