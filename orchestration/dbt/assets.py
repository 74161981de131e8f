"""dbt models as Dagster assets (tests become asset checks), and the published warehouse after them."""

import os
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from orchestration.dbt.project import build_file, dbt_environment, dbt_project
from orchestration.dbt.publish import publish
from orchestration.resources import PlatformResource
from transforms.registry import SILVER_TABLES


class LakehouseTranslator(DagsterDbtTranslator):
    """Models are keyed by their schema (staging, intermediate, learning, marketing, finance)."""

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project: Any) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        node = manifest["nodes"].get(unique_id)
        if node is None or node["resource_type"] not in ("model", "seed"):
            return spec
        schema = node["schema"]
        group = "marts" if schema in ("learning", "marketing", "finance") else schema
        return spec.replace_attributes(key=dg.AssetKey([schema, node["name"]]), group_name=group)


@dbt_assets(
    manifest=dbt_project.manifest_path, dagster_dbt_translator=LakehouseTranslator(), name="warehouse_models"
)
def warehouse_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, platform: PlatformResource):
    # dbt runs as a subprocess that inherits this environment; the in-process executor keeps it per run.
    os.environ.update(dbt_environment(platform.settings))
    build_file(platform.settings).parent.mkdir(parents=True, exist_ok=True)
    yield from dbt.cli(["build"], context=context).stream()


# Every mart dbt builds (the models in the three mart schemas): the published warehouse follows them all.
MART_KEYS = sorted(
    (key for key in warehouse_models.keys if key.path[0] in ("finance", "learning", "marketing")),
    key=lambda key: key.to_user_string(),
)
PUBLISHED = dg.AssetKey(["warehouse", "published"])


@dg.asset(
    key=PUBLISHED,
    deps=MART_KEYS,
    kinds={"duckdb"},
    group_name="marts",
    description="The warehouse dashboards and the API read: swapped in atomically after a build.",
)
def published_warehouse(
    context: dg.AssetExecutionContext, platform: PlatformResource
) -> dg.MaterializeResult:
    settings = platform.settings
    lake_versions = {table.name: platform.lake.version(table.name) for table in SILVER_TABLES}
    summary = publish(build_file(settings), settings.warehouse_file, lake_versions, context.run.run_id)
    return dg.MaterializeResult(
        metadata={
            "path": str(settings.warehouse_file),
            "as_of_date": summary["as_of_date"],
            "lake_versions": lake_versions,
            "tables": summary["tables"],
        }
    )


dbt_resource = DbtCliResource(project_dir=dbt_project)
