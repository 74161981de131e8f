"""What the marts must say, computed by the simulator from its own state (never from the pipeline).

The formulas follow METRICS.md, written here a second time on purpose and in another language, so a
mistake in the dbt models shows up as a difference. The simulator accumulates them day by day
(`ingestion.simulation.truth`); these functions hand out a small in-memory world's tables, and
`write_ground_truth` writes them as CSV, exactly as `world_writer.produce` streams them.

Tables: active_users, touchpoints, spend, mrr (list MRR, fct_mrr.list_mrr, and MRR after
recurring discounts, fct_mrr.mrr), mrr_movements, conversions and conversion_touches (attribution weights),
recognized_revenue (billed, recognized, deferred per month), completion (per enrollment).
"""

from __future__ import annotations

from pathlib import Path

from ingestion.simulation.writer import write_truth_tables
from ingestion.simulator import World


def active_users(world: World) -> list[dict]:
    """DAU, WAU (trailing 7 days) and MAU (trailing 28 days) per day and product, and platform-wide."""
    return world.truth["active_users"]


def mrr(world: World) -> list[dict]:
    """MRR in USD per customer and month-end snapshot (`mrr` list price, `discounted_mrr` after discounts)."""
    return world.truth["mrr"]


def mrr_movements(world: World) -> list[dict]:
    """Per customer and month: new, reactivation, expansion, contraction or churn, and the amount."""
    return world.truth["mrr_movements"]


def spend(world: World) -> list[dict]:
    return world.truth["spend"]


def touchpoints(world: World) -> list[dict]:
    return world.truth["touchpoints"]


def conversions(world: World) -> list[dict]:
    return world.truth["conversions"]


def conversion_touches(world: World) -> list[dict]:
    return world.truth["conversion_touches"]


def recognized_revenue(world: World) -> list[dict]:
    return world.truth["recognized_revenue"]


def completion(world: World) -> list[dict]:
    return world.truth["completion"]


def write_ground_truth(world: World, folder: Path) -> dict[str, int]:
    return write_truth_tables(world.truth, folder)
