"""The dashboard pages, and every query each one runs with its default filters (for the benchmark).

Each page script (dashboards/views/) plans its queries through the metric catalogue: `setup` for the
filters' known values and date bounds, `plan` for its numbers, `DEFAULT` the filters of a first visit.
`page_queries` lists them, with the meta queries every page reads, exactly as the page sends them.
"""

from __future__ import annotations

import importlib

from dashboards.components import status_plan
from lakehouse.metrics_catalog import PAGES as CATALOGUE_PAGES
from lakehouse.metrics_catalog import load_catalog

PAGES = list(CATALOGUE_PAGES)

TITLES = {
    "overview": "Overview",
    "learning": "Learning",
    "marketing_roi": "Marketing ROI",
    "finance": "Finance",
    "ai_products": "AI products",
}


def page_queries(page: str) -> list[tuple[str, str, tuple]]:
    """Every (name, sql, params) the page runs on a first visit, in the order it runs them."""
    if page not in PAGES:
        raise ValueError(f"unknown dashboard page {page!r}; the pages are {', '.join(PAGES)}")
    module = importlib.import_module(f"dashboards.views.{page}")
    catalog = load_catalog()
    planned = module.setup(catalog) + module.plan(catalog, module.DEFAULT)
    return [(name, sql, ()) for name, sql in status_plan()] + [
        (p.name, p.query.sql, tuple(p.query.params)) for p in planned
    ]
