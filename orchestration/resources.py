"""The platform resource: settings, lake and sources for every asset, decided by lakehouse.settings."""

from __future__ import annotations

from functools import cached_property

import dagster as dg

from ingestion.landing import Landing
from lakehouse.lake import DeltaRsLake
from lakehouse.postgres import operational_dsn
from lakehouse.settings import Settings, load_settings


class PlatformResource(dg.ConfigurableResource):
    """Everything environment-specific behind one object; the values come from LAKEHOUSE_* variables."""

    @cached_property
    def settings(self) -> Settings:
        return load_settings()

    @cached_property
    def lake(self) -> DeltaRsLake:
        return DeltaRsLake(self.settings.lake_uri, self.settings.storage_options())

    @cached_property
    def landing(self) -> Landing:
        return Landing.at(self.settings.landing_uri, self.settings.storage_options(self.settings.landing_uri))

    def operational_dsn(self) -> str:
        return operational_dsn(self.settings)
