"""The pages and the queries each one runs: the dbt exposures' pages, reading only the exposures' marts,
through the catalogue, with values only as bound parameters, and valid SQL against the marts' columns."""

from __future__ import annotations

import json
import re
from datetime import date

import duckdb
import pytest

from dashboards.filters import Selection
from dashboards.registry import PAGES, page_queries
from dashboards.status import BUILD_INFO_SQL, MART_STATUS_SQL
from lakehouse.metrics_catalog import SEMANTIC_MANIFEST, load_catalog

MANIFEST = json.loads(SEMANTIC_MANIFEST.with_name("manifest.json").read_text(encoding="utf-8"))
RELATION = re.compile(r"\bfrom\s+([a-z_]+\.[a-z_]+)")


def exposure_marts() -> dict[str, set[str]]:
    models = {node["unique_id"]: node for node in MANIFEST["nodes"].values()}
    return {
        exposure["config"]["meta"]["page"]: {
            f"{models[node]['schema']}.{models[node]['alias']}" for node in exposure["depends_on"]["nodes"]
        }
        for exposure in MANIFEST["exposures"].values()
        if exposure["type"] == "dashboard"
    }


@pytest.fixture(scope="module")
def marts():
    """Every mart, empty, with the columns dbt declares; and the meta tables the platform publishes."""
    con = duckdb.connect()
    for node in MANIFEST["nodes"].values():
        if node["resource_type"] == "model" and "/marts/" in node["original_file_path"]:
            columns = ", ".join(f'"{name}" {c["data_type"]}' for name, c in node["columns"].items())
            con.execute(f"create schema if not exists {node['schema']}")
            con.execute(f"create table {node['schema']}.{node['alias']} ({columns})")
    con.execute(
        "create schema meta;"
        "create table meta.build_info (built_at timestamp, as_of_date date, lake_versions varchar,"
        " dbt_invocation_id varchar);"
        "create table meta.mart_status (relation varchar, as_of_date date, built_at timestamp,"
        " checks_passed integer, checks_warned integer, checks_failed integer, checks_not_run integer,"
        " failing varchar, status varchar)"
    )
    yield con
    con.close()


def test_the_pages_are_the_dashboard_exposures() -> None:
    assert PAGES == ["overview", "learning", "marketing_roi", "finance", "ai_products"]
    assert set(exposure_marts()) == set(PAGES)
    with pytest.raises(ValueError, match="unknown dashboard page 'admin'"):
        page_queries("admin")


@pytest.mark.parametrize("page", PAGES)
def test_a_page_reads_only_its_exposures_marts_with_sql_that_runs(page: str, marts) -> None:
    queries = page_queries(page)
    names = [name for name, _, _ in queries]
    assert len(names) == len(set(names))
    assert {"build_info", "mart_status"} <= set(names)
    read = {relation for _, sql, _ in queries for relation in RELATION.findall(sql)}
    read -= {"meta.build_info", "meta.mart_status"}
    # duckdb_tables() is the catalogue function that says whether meta.mart_status exists
    assert read == exposure_marts()[page]
    # Row-level marts are never scanned by a page: each has an aggregated mart the catalogue reads.
    assert not read & {"marketing.fct_touchpoints", "marketing.fct_attribution"}
    for name, sql, params in queries:
        assert sql.count("?") == len(params), name
        assert marts.execute(sql, list(params)).fetchall() is not None, name


def test_meta_queries_take_no_input() -> None:
    for page in PAGES:
        meta = {
            name: (sql, params)
            for name, sql, params in page_queries(page)
            if name.startswith(("build", "mart"))
        }
        assert meta["build_info"] == (BUILD_INFO_SQL, ())
        assert meta["mart_status"] == (MART_STATUS_SQL, ())


def test_filter_values_reach_the_sql_only_as_parameters() -> None:
    from dashboards.views import marketing_roi

    catalog = load_catalog()
    has_channel = {m.relation for m in catalog.semantic_models.values() if "channel" in m.dimensions}
    hostile = "paid_search'; drop table marketing.fct_channel_performance; --"
    chosen = Selection(
        start=date(2026, 1, 1),
        end=date(2026, 1, 31),
        channel=hostile,
        campaign="x" * 10_000,
        attribution_model="linear",
    )
    for planned in marketing_roi.plan(catalog, chosen):
        sql, params = planned.query.sql, planned.query.params
        assert hostile not in sql and "xxxx" not in sql and "linear" not in sql and "2026-01" not in sql
        assert (hostile in params) == bool(set(RELATION.findall(sql)) & has_channel), planned.name
