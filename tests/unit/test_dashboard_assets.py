"""The dashboard pages in Dagster's graph are the dbt exposures, with the same marts."""

from __future__ import annotations

import re

import dagster as dg
import pytest
import yaml

from lakehouse.settings import PROJECT_ROOT
from orchestration.dashboards.assets import DASHBOARD_SPECS, dashboard_specs

DBT = PROJECT_ROOT / "dbt_project"
PUBLISHED = dg.AssetKey(["warehouse", "published"])


def _declared_pages() -> dict[str, set[dg.AssetKey]]:
    """Each dashboard exposure's page and marts, read from the YAML and the models' folders."""
    exposures = yaml.safe_load((DBT / "models" / "semantic" / "_exposures.yml").read_text())["exposures"]
    pages = {}
    for exposure in exposures:
        if exposure["type"] != "dashboard":
            continue
        marts = set()
        for ref in exposure["depends_on"]:
            name = re.fullmatch(r"ref\('(\w+)'\)", ref).group(1)
            (model,) = (DBT / "models" / "marts").glob(f"*/{name}.sql")
            marts.add(dg.AssetKey([model.parent.name, name]))  # a mart's schema is its folder
        pages[exposure["config"]["meta"]["page"]] = marts
    return pages


def test_one_asset_per_dashboard_exposure_depending_on_its_marts_and_the_warehouse() -> None:
    declared = _declared_pages()
    assert {spec.key for spec in DASHBOARD_SPECS} == {dg.AssetKey(["dashboards", p]) for p in declared}
    for spec in DASHBOARD_SPECS:
        deps = {dep.asset_key for dep in spec.deps}
        assert deps == declared[spec.key.path[-1]] | {PUBLISHED}, spec.key
        assert spec.group_name == "dashboards"
        assert spec.metadata["page"] == spec.key.path[-1]


def test_a_dashboard_exposure_without_its_page_is_refused() -> None:
    manifest = {
        "exposures": {
            "exposure.lakehouse.dashboard_x": {
                "name": "dashboard_x",
                "type": "dashboard",
                "config": {"meta": {}},
                "depends_on": {"nodes": []},
                "description": "x",
            }
        },
        "nodes": {},
    }
    with pytest.raises(ValueError, match="dashboard_x is a dashboard without meta.page"):
        dashboard_specs(manifest)
