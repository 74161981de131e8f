"""The whole graph built once for the end-to-end tests, on a tiny seeded world, and that world's truth.

Every test module here compares what the graph published with the simulator's own ground truth.
"""

from __future__ import annotations

import os
from datetime import date

import dagster as dg
import pytest

from ingestion.simulator import simulate
from lakehouse.settings import load_settings
from orchestration.definitions import build_definitions
from tests.e2e.warehouse import marts

WORLD = {"seed": 11, "users": 80, "start": date(2026, 1, 28), "days": 6}  # crosses a month end


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory):
    saved = dict(os.environ)
    data_dir = tmp_path_factory.mktemp("e2e") / "data"
    os.environ.update(
        {
            "LAKEHOUSE_DATA_DIR": str(data_dir),
            "LAKEHOUSE_SIM_SEED": str(WORLD["seed"]),
            "LAKEHOUSE_SIM_USERS": str(WORLD["users"]),
            "LAKEHOUSE_SIM_START": WORLD["start"].isoformat(),
            "LAKEHOUSE_SIM_DAYS": str(WORLD["days"]),
        }
    )
    try:
        settings = load_settings()
        job = build_definitions(settings).resolve_job_def("build_everything")
        with dg.DagsterInstance.ephemeral() as instance:
            first = job.execute_in_process(instance=instance)
            first_marts = marts(settings.warehouse_file)
            second = job.execute_in_process(instance=instance)
            resync = build_definitions(settings).resolve_job_def("postgres_full_resync")
            assert resync.execute_in_process(instance=instance).success
        yield settings, first, second, first_marts
    finally:
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture(scope="session")
def world():
    return simulate(WORLD["seed"], WORLD["users"], WORLD["start"], WORLD["days"])
