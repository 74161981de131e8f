"""Dashboard settings: staleness, OpenID Connect login all or nothing, and Streamlit's secrets from them."""

from __future__ import annotations

import stat
import subprocess
import sys
import tomllib

import pytest

from lakehouse.settings import SettingsError, load_settings
from lakehouse.streamlit_auth import secrets_file, write_secrets

AUTH = {
    "LAKEHOUSE_DASHBOARD_AUTH_CLIENT_ID": "dashboards",
    "LAKEHOUSE_DASHBOARD_AUTH_CLIENT_SECRET": 's3cr3t "quoted" \\ back\tslash \x7f ü',
    "LAKEHOUSE_DASHBOARD_AUTH_SERVER_METADATA_URL": "https://id.example.com/.well-known/openid-configuration",
    "LAKEHOUSE_DASHBOARD_AUTH_REDIRECT_URI": "https://dashboards.example.com/oauth2callback",
    "LAKEHOUSE_DASHBOARD_AUTH_COOKIE_SECRET": "c" * 40,
}


def _set(monkeypatch: pytest.MonkeyPatch, values: dict[str, str]) -> None:
    for name, value in values.items():
        monkeypatch.setenv(name, value)


def test_defaults_leave_the_dashboards_open_and_stale_after_36_hours() -> None:
    settings = load_settings()
    assert settings.dashboard_stale_hours == 36
    assert not settings.dashboard_auth_enabled


def test_stale_hours_must_be_positive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAKEHOUSE_DASHBOARD_STALE_HOURS", "0")
    with pytest.raises(SettingsError, match=r"LAKEHOUSE_DASHBOARD_STALE_HOURS \(is '0'\)"):
        load_settings()


def test_all_five_auth_settings_turn_login_on(monkeypatch: pytest.MonkeyPatch) -> None:
    _set(monkeypatch, AUTH)
    settings = load_settings()
    assert settings.dashboard_auth_enabled
    assert "s3cr3t" not in repr(settings) and "c" * 40 not in repr(settings)


def test_part_of_the_auth_settings_names_the_missing_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    _set(monkeypatch, {name: AUTH[name] for name in list(AUTH)[:2]})
    with pytest.raises(SettingsError) as error:
        load_settings()
    message = str(error.value)
    assert "half configured" in message
    for name in list(AUTH)[2:]:
        assert name in message
    for name in list(AUTH)[:2]:
        assert name not in message


REDIRECT = "LAKEHOUSE_DASHBOARD_AUTH_REDIRECT_URI"
METADATA = "LAKEHOUSE_DASHBOARD_AUTH_SERVER_METADATA_URL"


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        (REDIRECT, "https://dashboards.example.com/callback", "/oauth2callback"),
        (METADATA, "https://id.example.com/", "openid-configuration"),
    ],
)
def test_a_wrong_auth_value_names_the_setting(monkeypatch: pytest.MonkeyPatch, name, value, says) -> None:
    _set(monkeypatch, AUTH | {name: value})
    with pytest.raises(SettingsError) as error:
        load_settings()
    assert f"{name} (is '{value}')" in str(error.value) and says in str(error.value)


def test_a_short_cookie_secret_is_refused_without_showing_it(monkeypatch: pytest.MonkeyPatch) -> None:
    _set(monkeypatch, AUTH | {"LAKEHOUSE_DASHBOARD_AUTH_COOKIE_SECRET": "tiny-secret-value"})
    with pytest.raises(SettingsError) as error:
        load_settings()
    message = str(error.value)
    assert "LAKEHOUSE_DASHBOARD_AUTH_COOKIE_SECRET: must be at least 32 characters" in message
    assert "tiny-secret-value" not in message


def test_streamlit_secrets_hold_the_auth_section_for_the_owner_only(monkeypatch: pytest.MonkeyPatch) -> None:
    _set(monkeypatch, AUTH)
    settings = load_settings()
    path = write_secrets(settings)
    assert path == settings.data_dir / "streamlit" / "secrets.toml"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert tomllib.loads(path.read_text(encoding="utf-8")) == {
        "auth": {
            "redirect_uri": AUTH["LAKEHOUSE_DASHBOARD_AUTH_REDIRECT_URI"],
            "cookie_secret": AUTH["LAKEHOUSE_DASHBOARD_AUTH_COOKIE_SECRET"],
            "client_id": AUTH["LAKEHOUSE_DASHBOARD_AUTH_CLIENT_ID"],
            "client_secret": AUTH["LAKEHOUSE_DASHBOARD_AUTH_CLIENT_SECRET"],
            "server_metadata_url": AUTH["LAKEHOUSE_DASHBOARD_AUTH_SERVER_METADATA_URL"],
        }
    }
    assert [p.name for p in path.parent.iterdir()] == ["secrets.toml"]  # no staged copy left behind


def test_turning_login_off_removes_the_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    _set(monkeypatch, AUTH)
    written = write_secrets(load_settings())
    for name in AUTH:
        monkeypatch.delenv(name)
    settings = load_settings()
    assert write_secrets(settings) is None
    assert not written.exists() and not secrets_file(settings).exists()


def _command(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "lakehouse.streamlit_auth", *args], capture_output=True, text=True
    )


def test_the_command_prints_the_file_or_nothing_and_refuses_half_a_login(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    done = _command()
    assert (done.returncode, done.stdout) == (0, "\n")
    _set(monkeypatch, AUTH)
    done = _command()
    assert done.returncode == 0
    assert done.stdout.strip() == str(secrets_file(load_settings()))
    monkeypatch.delenv("LAKEHOUSE_DASHBOARD_AUTH_COOKIE_SECRET")
    done = _command()
    assert done.returncode == 2 and done.stdout == ""
    assert "LAKEHOUSE_DASHBOARD_AUTH_COOKIE_SECRET" in done.stderr and "Traceback" not in done.stderr
