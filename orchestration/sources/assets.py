"""The sources: produced by the business simulator on the local profile, external in production."""

import dagster as dg

from ingestion.simulation.config import DirtConfig, SimConfig, scale_for_users
from ingestion.world_writer import produce
from orchestration.resources import PlatformResource

LANDING_EVENTS = dg.AssetKey(["landing", "events"])
LANDING_EXPORTS = dg.AssetKey(["landing", "exports"])
OPERATIONAL_DB = dg.AssetKey(["operational", "postgres"])

SPECS = [
    dg.AssetSpec(
        LANDING_EVENTS,
        description="Event files (NDJSON, gzip allowed) in the landing zone.",
        kinds={"json"},
        group_name="sources",
    ),
    dg.AssetSpec(
        LANDING_EXPORTS,
        description="CSV exports: ad spend, FX rates, cloud costs and LLM prices per day.",
        kinds={"csv"},
        group_name="sources",
    ),
    dg.AssetSpec(
        OPERATIONAL_DB,
        description="Operational PostgreSQL: users, plans, subscriptions, discounts, courses, lessons, "
        "quizzes, enrollments, workspaces, contents, documents, invoices, invoice lines, payments, refunds.",
        kinds={"postgres"},
        group_name="sources",
    ),
]


def sim_config(settings) -> SimConfig:
    """The simulated world the settings ask for (sim_scale wins over sim_users where both exist)."""
    scale = getattr(settings, "sim_scale", None) or scale_for_users(settings.sim_users)
    dirt = DirtConfig() if getattr(settings, "sim_dirt", True) else DirtConfig.none()
    return SimConfig(settings.sim_seed, scale, settings.sim_start, settings.sim_days, dirt)


@dg.multi_asset(specs=SPECS, name="simulated_world")
def simulated_world(context: dg.AssetExecutionContext, platform: PlatformResource):
    """A deterministic simulated business written where the real sources would be."""
    settings = platform.settings
    config = sim_config(settings)
    landing = platform.landing if hasattr(platform, "landing") else settings.landing_uri
    produced = produce(config, landing, platform.operational_dsn(), settings.ground_truth_dir)
    counts = produced.summary.counts
    context.log.info(
        f"simulated {config.days} days from {config.start} at scale {config.scale:g}: "
        f"{counts['events_delivered']:,} events, {counts['users']:,} users"
    )
    window = {
        "first_day": str(config.start),
        "last_day": str(config.end),
        "seed": config.seed,
        "scale": config.scale,
    }
    files = produced.summary.files
    yield dg.MaterializeResult(
        asset_key=LANDING_EVENTS,
        metadata=window
        | {
            "files": sum(f.startswith("events/") for f in files),
            "events": counts["events_delivered"],
            "duplicates_sent": counts["duplicates"],
            "malformed_lines": counts["malformed"],
            "quarantined_lines": counts["quarantined_events"],
            "late_events": counts["late"],
            "in_flight_at_end": counts["in_flight_at_end"],
        },
    )
    yield dg.MaterializeResult(
        asset_key=LANDING_EXPORTS, metadata=window | {"files": sum(f.startswith("exports/") for f in files)}
    )
    yield dg.MaterializeResult(
        asset_key=OPERATIONAL_DB,
        metadata=window
        | {f"inserted_{table}": c["inserted"] for table, c in produced.loaded.items()}
        | {f"updated_{table}": c["updated"] for table, c in produced.loaded.items()}
        | {"ground_truth_tables": len(produced.truth)},
    )


def source_definitions(simulates: bool) -> dg.Definitions:
    return dg.Definitions(assets=[simulated_world] if simulates else SPECS)
