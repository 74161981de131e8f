"""The sources: produced by the business simulator on the local profile, external in production."""

import dagster as dg

from ingestion.ground_truth import write_ground_truth
from ingestion.simulator import simulate
from ingestion.world_writer import load_operational, write_landing
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
        description="CSV exports: ad spend per day and FX rates.",
        kinds={"csv"},
        group_name="sources",
    ),
    dg.AssetSpec(
        OPERATIONAL_DB,
        description="Operational PostgreSQL: users, plans, subscriptions.",
        kinds={"postgres"},
        group_name="sources",
    ),
]


@dg.multi_asset(specs=SPECS, name="simulated_world")
def simulated_world(context: dg.AssetExecutionContext, platform: PlatformResource):
    """A deterministic simulated business written where the real sources would be."""
    settings = platform.settings
    world = simulate(settings.sim_seed, settings.sim_users, settings.sim_start, settings.sim_days)
    files = write_landing(world, settings.landing_uri)
    loaded = load_operational(world, platform.operational_dsn())
    truth = write_ground_truth(world, settings.ground_truth_dir)
    context.log.info(f"simulated {len(world.users)} users over {world.days} days from {world.start}")
    window = {"first_day": str(world.start), "last_day": str(world.end), "seed": settings.sim_seed}
    yield dg.MaterializeResult(
        asset_key=LANDING_EVENTS,
        metadata=window
        | {
            "files": sum(f.startswith("events/") for f in files),
            "events": len(world.events),
            "duplicates_sent": len(world.duplicates),
        },
    )
    yield dg.MaterializeResult(
        asset_key=LANDING_EXPORTS, metadata=window | {"files": sum(f.startswith("exports/") for f in files)}
    )
    yield dg.MaterializeResult(
        asset_key=OPERATIONAL_DB,
        metadata=window | {f"rows_{k}": v for k, v in loaded.items()} | {"ground_truth_tables": len(truth)},
    )


def source_definitions(simulates: bool) -> dg.Definitions:
    return dg.Definitions(assets=[simulated_world] if simulates else SPECS)
