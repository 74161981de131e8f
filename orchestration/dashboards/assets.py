"""The dashboards, shown in the graph as what the published warehouse feeds."""

from __future__ import annotations

import dagster as dg

from orchestration.dbt.assets import PUBLISHED

DASHBOARD_SPECS = [
    dg.AssetSpec(
        dg.AssetKey(["dashboards", "overview"]),
        deps=[PUBLISHED],
        kinds={"streamlit"},
        group_name="dashboards",
        description="Streamlit overview: MRR, ARR, active users, spend and touchpoints (make dashboards).",
        metadata={"entry_point": "dashboards/app.py"},
    )
]
