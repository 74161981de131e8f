from __future__ import annotations

import pytest

from lakehouse.settings import SettingsError, load_settings


def test_local_profile_needs_no_settings(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("LAKEHOUSE_DATA_DIR", str(tmp_path))
    settings = load_settings()
    assert settings.lake_uri == str(tmp_path / "lake")
    assert settings.warehouse_file == tmp_path / "warehouse" / "warehouse.duckdb"
    assert settings.simulates_sources
    assert settings.storage_options() == {}


def test_unknown_engine_names_the_variable_and_the_choices(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAKEHOUSE_ENGINE", "sparkk")
    with pytest.raises(SettingsError) as error:
        load_settings()
    message = str(error.value)
    assert "LAKEHOUSE_ENGINE (is 'sparkk')" in message
    assert "'duckdb' or 'spark'" in message
    assert "engine of the silver transforms" in message


def test_lake_root_with_unsupported_scheme_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAKEHOUSE_LAKE_ROOT", "gs://bucket/lake")
    with pytest.raises(
        SettingsError, match=r"LAKEHOUSE_LAKE_ROOT \(is 'gs://bucket/lake'\): must be a local folder"
    ):
        load_settings()


def test_non_numeric_setting_is_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAKEHOUSE_SIM_USERS", "many")
    with pytest.raises(
        SettingsError, match=r"LAKEHOUSE_SIM_USERS \(is 'many'\): Input should be a valid integer"
    ):
        load_settings()


def test_production_profile_lists_every_missing_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAKEHOUSE_PROFILE", "production")
    with pytest.raises(SettingsError) as error:
        load_settings()
    message = str(error.value)
    assert "LAKEHOUSE_SOURCE_POSTGRES_DSN" in message
    assert "LAKEHOUSE_LAKE_ROOT" in message


def test_s3_lake_gets_storage_options(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAKEHOUSE_LAKE_ROOT", "s3://analytics/lake/")
    monkeypatch.setenv("LAKEHOUSE_S3_ENDPOINT_URL", "http://127.0.0.1:8333")
    monkeypatch.setenv("LAKEHOUSE_AWS_ACCESS_KEY_ID", "key")
    monkeypatch.setenv("LAKEHOUSE_AWS_SECRET_ACCESS_KEY", "s3cr3t-value")
    settings = load_settings()
    assert settings.lake_uri == "s3://analytics/lake"
    assert settings.storage_options() == {
        "AWS_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:8333",
        "AWS_ALLOW_HTTP": "true",
        "AWS_ACCESS_KEY_ID": "key",
        "AWS_SECRET_ACCESS_KEY": "s3cr3t-value",
    }
    assert "s3cr3t-value" not in repr(settings)


def test_demo_exits_with_the_message_not_a_traceback(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    from orchestration.demo import main

    monkeypatch.setenv("LAKEHOUSE_WAREHOUSE_TARGET", "snowflake")
    assert main() == 2
    err = capsys.readouterr().err
    assert "LAKEHOUSE_WAREHOUSE_TARGET (is 'snowflake')" in err
    assert "Traceback" not in err


def test_remote_warehouse_target_needs_its_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAKEHOUSE_WAREHOUSE_TARGET", "redshift")
    with pytest.raises(
        SettingsError, match="LAKEHOUSE_WAREHOUSE_TARGET=redshift needs LAKEHOUSE_WAREHOUSE_HOST"
    ):
        load_settings()
    monkeypatch.setenv("LAKEHOUSE_WAREHOUSE_HOST", "cluster.example.com")
    monkeypatch.setenv("LAKEHOUSE_WAREHOUSE_USER", "analytics")
    assert load_settings().warehouse_target == "redshift"


def test_every_setting_is_documented() -> None:
    from pathlib import Path

    from lakehouse.settings import ENV_PREFIX, PROJECT_ROOT, Settings

    documented = (PROJECT_ROOT / "docs" / "configuration.md").read_text()
    missing = [
        f"{ENV_PREFIX}{name.upper()}"
        for name in Settings.model_fields
        if f"`{ENV_PREFIX}{name.upper()}`" not in documented
    ]
    assert missing == [], f"add these to docs/configuration.md: {missing}"
    assert Path(PROJECT_ROOT / "README.md").read_text().startswith("# ")
