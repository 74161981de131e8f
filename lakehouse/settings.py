"""The one place that decides which environment the platform runs in.

Every setting comes from an environment variable prefixed ``LAKEHOUSE_`` (or a ``.env`` file in the
working directory). The local profile needs none of them; production names the ones it needs. A wrong
value fails at start with a message that names the variable and how to fix it.
"""

from __future__ import annotations

import os
import re
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "LAKEHOUSE_"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
OIDC_DISCOVERY_SUFFIX = "/.well-known/openid-configuration"
DASHBOARD_AUTH_SETTINGS = (
    "dashboard_auth_client_id",
    "dashboard_auth_client_secret",
    "dashboard_auth_server_metadata_url",
    "dashboard_auth_redirect_uri",
    "dashboard_auth_cookie_secret",
)
_IAM_ROLE = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=.@/-]+")


class SettingsError(ValueError):
    """A setting is missing or wrong; the message says which one and how to fix it."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_file=".env", extra="ignore", frozen=True, validate_default=True
    )

    profile: Literal["local", "production"] = Field(
        "local", description="local runs everything embedded on one machine; production expects services"
    )
    data_dir: Path = Field(
        PROJECT_ROOT / "data", description="folder for local state: lake, landing zone, warehouse, PostgreSQL"
    )
    lake_root: str | None = Field(None, description="Delta lake root: a folder or s3://bucket/prefix")
    landing_root: str | None = Field(None, description="landing zone of event files and CSV exports")
    engine: Literal["duckdb", "spark"] = Field("duckdb", description="engine of the silver transforms")
    spark_master: str = Field("local[*]", description="Spark master URL when engine=spark")
    warehouse_target: Literal["duckdb", "postgres", "redshift"] = Field(
        "duckdb", description="dbt target the marts are built in"
    )
    warehouse_path: Path | None = Field(None, description="published DuckDB warehouse file")
    warehouse_host: str | None = Field(None, description="PostgreSQL or Redshift host of the warehouse")
    warehouse_port: int | None = Field(
        None, ge=1, le=65535, description="warehouse port (5432, Redshift 5439)"
    )
    warehouse_user: str | None = Field(None, description="warehouse user")
    warehouse_password: SecretStr | None = Field(None, description="warehouse password")
    warehouse_db: str = Field("warehouse", description="warehouse database name")
    silver_schema: str = Field(
        "silver", description="schema where a PostgreSQL/Redshift warehouse sees silver"
    )
    spectrum_manifests: bool | None = Field(
        None,
        description=(
            "write Redshift Spectrum symlink manifests of each silver table after every write "
            "(default: on when LAKEHOUSE_WAREHOUSE_TARGET=redshift)"
        ),
    )
    redshift_iam_role: str | None = Field(
        None, description="IAM role ARN Redshift reads the lake's external schema with"
    )
    redshift_catalog_database: str = Field(
        "lakehouse_silver", description="AWS Glue Data Catalog database that holds silver's external tables"
    )
    source_postgres_dsn: SecretStr | None = Field(
        None, description="operational PostgreSQL; unset on the local profile starts an embedded server"
    )
    s3_endpoint_url: str | None = Field(None, description="S3 API endpoint, for S3-compatible stores")
    s3_region: str = Field("us-east-1", description="S3 region")
    aws_access_key_id: SecretStr | None = Field(None, description="S3 access key")
    aws_secret_access_key: SecretStr | None = Field(None, description="S3 secret key")
    simulate: bool | None = Field(
        None,
        description="generate the simulated world as the sources (default: on locally, off in production)",
    )
    sim_seed: int = Field(7, description="seed of the business simulator")
    sim_users: int = Field(
        300, ge=1, description="users the business has when the window opens (scale = users / 4000)"
    )
    sim_scale: float | None = Field(
        None, gt=0, description="size of the simulated business; 1 is about a million events a year"
    )
    sim_dirt: bool = Field(True, description="inject duplicates, late events, malformed lines, drift")
    sim_start: date = Field(date(2026, 1, 24), description="first day of simulated activity")
    sim_days: int = Field(14, ge=1, le=3660, description="days of simulated activity")
    dashboard_stale_hours: int = Field(
        36, ge=1, description="hours after a build when the dashboards mark its numbers as stale"
    )
    dashboard_auth_client_id: str | None = Field(
        None, description="OpenID Connect client id of the dashboards (set all DASHBOARD_AUTH_* or none)"
    )
    dashboard_auth_client_secret: SecretStr | None = Field(
        None, description="OpenID Connect client secret of the dashboards"
    )
    dashboard_auth_server_metadata_url: str | None = Field(
        None,
        description="identity provider's discovery document, https://.../.well-known/openid-configuration",
    )
    dashboard_auth_redirect_uri: str | None = Field(
        None, description="URL of the dashboards ending in /oauth2callback, registered with the provider"
    )
    dashboard_auth_cookie_secret: SecretStr | None = Field(
        None, description="random string of 32 or more characters that signs the dashboards' login cookie"
    )
    vacuum_retention_hours: int = Field(
        168,
        ge=0,
        description=(
            "hours a data file outlives the table version that stopped using it before maintenance "
            "vacuums it; below 168 a reader of an older version may fail"
        ),
    )

    @field_validator("lake_root", "landing_root")
    @classmethod
    def _storage_uri(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if "://" in value and not value.startswith("s3://"):
            raise ValueError("must be a local folder or an s3://bucket/prefix URI")
        return value.rstrip("/")

    @field_validator("redshift_iam_role")
    @classmethod
    def _iam_role(cls, value: str | None) -> str | None:
        if value is None or value == "default":
            return value
        # Redshift chains roles given comma-separated, each a full ARN.
        if not all(_IAM_ROLE.fullmatch(role) for role in value.split(",")):
            raise ValueError(
                "must be an IAM role ARN such as arn:aws:iam::123456789012:role/spectrum "
                "(several chained with commas, no spaces), or `default` for the cluster's default role"
            )
        return value

    @field_validator("redshift_catalog_database")
    @classmethod
    def _catalog_database(cls, value: str) -> str:
        if not re.fullmatch(r"[a-z0-9_]{1,255}", value):
            raise ValueError("must be a Glue database name: lower-case letters, digits and underscores")
        return value

    @field_validator("spark_master")
    @classmethod
    def _spark_master(cls, value: str) -> str:
        if not (value.startswith(("local", "spark://", "yarn", "k8s://"))):
            raise ValueError("must be local[*], local[N], spark://host:port, yarn or k8s://...")
        return value

    @model_validator(mode="after")
    def _remote_warehouse_needs_a_host(self) -> Settings:
        if self.warehouse_target != "duckdb" and not (self.warehouse_host and self.warehouse_user):
            raise ValueError(
                f"LAKEHOUSE_WAREHOUSE_TARGET={self.warehouse_target} needs LAKEHOUSE_WAREHOUSE_HOST and "
                "LAKEHOUSE_WAREHOUSE_USER (and usually LAKEHOUSE_WAREHOUSE_PASSWORD, LAKEHOUSE_WAREHOUSE_DB)"
            )
        return self

    @field_validator("dashboard_auth_server_metadata_url")
    @classmethod
    def _discovery_document(cls, value: str | None) -> str | None:
        if value is not None and not (
            value.startswith(("https://", "http://")) and value.endswith(OIDC_DISCOVERY_SUFFIX)
        ):
            raise ValueError(
                f"must be the provider's discovery URL, https://<issuer>{OIDC_DISCOVERY_SUFFIX} "
                "(the provider's documentation names it)"
            )
        return value

    @field_validator("dashboard_auth_redirect_uri")
    @classmethod
    def _oauth_callback(cls, value: str | None) -> str | None:
        # Streamlit serves the login callback at this fixed path and refuses any other.
        if value is not None and not (
            value.startswith(("https://", "http://")) and value.endswith("/oauth2callback")
        ):
            raise ValueError(
                "must be the dashboards' URL followed by /oauth2callback, "
                "such as https://dashboards.example.com/oauth2callback"
            )
        return value

    @field_validator("dashboard_auth_cookie_secret")
    @classmethod
    def _long_cookie_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError(
                "must be at least 32 characters; generate one with "
                "python -c 'import secrets; print(secrets.token_urlsafe(32))'"
            )
        return value

    @model_validator(mode="after")
    def _dashboard_auth_all_or_nothing(self) -> Settings:
        given = {name: getattr(self, name) is not None for name in DASHBOARD_AUTH_SETTINGS}
        if any(given.values()) and not all(given.values()):
            missing = ", ".join(ENV_PREFIX + name.upper() for name, ok in given.items() if not ok)
            raise ValueError(
                f"dashboard login is half configured: {missing} missing; set all five "
                "LAKEHOUSE_DASHBOARD_AUTH_* settings to turn on OpenID Connect login, or none to leave "
                "the dashboards open"
            )
        return self

    @model_validator(mode="after")
    def _production_needs_services(self) -> Settings:
        if self.profile != "production":
            return self
        missing = []
        if self.source_postgres_dsn is None and not self.simulate:
            missing.append("SOURCE_POSTGRES_DSN (postgresql://user:password@host:5432/db)")
        if self.lake_root is None:
            missing.append("LAKE_ROOT (s3://bucket/lake)")
        if missing:
            names = ", ".join(ENV_PREFIX + m for m in missing)
            raise ValueError(f"the production profile needs {names}")
        return self

    @cached_property
    def lake_uri(self) -> str:
        return self.lake_root or str(self.data_dir / "lake")

    @cached_property
    def landing_uri(self) -> str:
        return self.landing_root or str(self.data_dir / "landing")

    @cached_property
    def warehouse_file(self) -> Path:
        return self.warehouse_path or self.data_dir / "warehouse" / "warehouse.duckdb"

    @property
    def postgres_data_dir(self) -> Path:
        return self.data_dir / "postgres"

    @property
    def ground_truth_dir(self) -> Path:
        return self.data_dir / "ground_truth"

    @property
    def writes_spectrum_manifests(self) -> bool:
        return (
            self.warehouse_target == "redshift"
            if self.spectrum_manifests is None
            else self.spectrum_manifests
        )

    @property
    def dashboard_auth_enabled(self) -> bool:
        """Whether the dashboards ask for an OpenID Connect login (all DASHBOARD_AUTH_* settings given)."""
        return self.dashboard_auth_client_id is not None

    @property
    def simulates_sources(self) -> bool:
        return self.profile == "local" if self.simulate is None else self.simulate

    def storage_options(self, uri: str | None = None) -> dict[str, str]:
        """Options to reach the lake (or another URI, such as the landing zone); empty for a folder."""
        if not (uri or self.lake_uri).startswith("s3://"):
            return {}
        options = {"AWS_REGION": self.s3_region}
        if self.s3_endpoint_url:
            options["AWS_ENDPOINT_URL"] = self.s3_endpoint_url
            options["AWS_ALLOW_HTTP"] = str(self.s3_endpoint_url.startswith("http://")).lower()
        if self.aws_access_key_id and self.aws_secret_access_key:
            options["AWS_ACCESS_KEY_ID"] = self.aws_access_key_id.get_secret_value()
            options["AWS_SECRET_ACCESS_KEY"] = self.aws_secret_access_key.get_secret_value()
        return options


def _explain(error: ValidationError) -> str:
    lines = ["The platform's settings are wrong:"]
    for item in error.errors():
        field = str(item["loc"][0]) if item["loc"] else ""
        if not field:  # a rule across several settings; its message names them
            lines.append(f"  - {item['msg'].removeprefix('Value error, ')}.")
            continue
        name = ENV_PREFIX + field.upper() if field else "settings"
        given = os.environ.get(name)
        # A secret's value is never shown, not even a wrong one.
        declared = Settings.model_fields.get(field)
        secret = declared is not None and "SecretStr" in str(declared.annotation)
        shown = f" (is {given!r})" if given is not None and not secret else ""
        description = Settings.model_fields[field].description if field in Settings.model_fields else None
        fix = f"; it sets the {description}" if description else ""
        message = item["msg"].removeprefix("Value error, ")
        lines.append(f"  - {name}{shown}: {message}{fix}.")
    lines.append(
        "Fix the environment variable (or .env) and run again; docs/configuration.md lists them all."
    )
    return "\n".join(lines)


def load_settings(**overrides: object) -> Settings:
    """Read the settings from the environment, raising SettingsError with a readable message."""
    try:
        return Settings(**overrides)
    except ValidationError as error:
        raise SettingsError(_explain(error)) from None
