"""The dashboard pages, shown in the graph as what the published warehouse feeds.

A page's marts are read from its dbt exposure (type dashboard, `meta.page`), so the lineage in dbt's docs
and in Dagster is one declaration (dbt_project/models/semantic/_exposures.yml).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import dagster as dg

from orchestration.dbt.assets import PUBLISHED, LakehouseTranslator
from orchestration.dbt.project import dbt_project

ENTRY_POINT = "dashboards/app.py"


def dashboard_specs(manifest: Mapping[str, Any]) -> list[dg.AssetSpec]:
    """One spec per dashboard exposure, depending on the published warehouse and on the page's marts."""
    translator = LakehouseTranslator()
    specs = []
    for exposure in manifest["exposures"].values():
        if exposure["type"] != "dashboard":
            continue
        page = exposure["config"]["meta"].get("page")
        if not page:
            raise ValueError(
                f"dbt exposure {exposure['name']} is a dashboard without meta.page: give it the page id "
                "(dashboards.registry.PAGES) in dbt_project/models/semantic/_exposures.yml"
            )
        marts = sorted(
            (
                translator.get_asset_spec(manifest, unique_id, dbt_project).key
                for unique_id in exposure["depends_on"]["nodes"]
            ),
            key=lambda key: key.to_user_string(),
        )
        label = exposure.get("label") or exposure["name"]
        metadata: dict[str, Any] = {"entry_point": ENTRY_POINT, "page": page}
        if exposure.get("url"):
            metadata["url"] = dg.MetadataValue.url(exposure["url"])
        specs.append(
            dg.AssetSpec(
                dg.AssetKey(["dashboards", page]),
                deps=[PUBLISHED, *marts],
                kinds={"streamlit"},
                group_name="dashboards",
                description=f"{label} — {exposure['description'].strip()}",
                metadata=metadata,
            )
        )
    return sorted(specs, key=lambda spec: spec.key.to_user_string())


DASHBOARD_SPECS = dashboard_specs(json.loads(dbt_project.manifest_path.read_text()))
