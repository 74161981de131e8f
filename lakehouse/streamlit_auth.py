"""Streamlit's login configuration, written from the platform's settings.

Streamlit reads OpenID Connect settings only from the `[auth]` section of a secrets file, never from the
environment. `python -m lakehouse.streamlit_auth` writes that file from the LAKEHOUSE_DASHBOARD_AUTH_*
settings into the data folder, readable by its owner only, and prints its path (an empty line when login
is off, after removing a file left by an earlier configuration), which `make dashboards` hands to
Streamlit:

    secrets=$(python -m lakehouse.streamlit_auth) &&
    streamlit run dashboards/app.py ${secrets:+--secrets.files="$secrets"}

Settings given only in part stop it with the names of the missing ones, so the dashboards never start
open by mistake.
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from pathlib import Path

from lakehouse.settings import Settings, SettingsError, load_settings


def secrets_file(settings: Settings) -> Path:
    return settings.data_dir / "streamlit" / "secrets.toml"


def auth_section(settings: Settings) -> dict[str, str]:
    """The `[auth]` keys st.login needs: one unnamed provider plus the redirect URI and cookie secret."""
    if not settings.dashboard_auth_enabled:
        raise ValueError("dashboard login is off: no LAKEHOUSE_DASHBOARD_AUTH_* setting is given")
    # The all-or-nothing rule of Settings guarantees every value below is present.
    return {
        "redirect_uri": str(settings.dashboard_auth_redirect_uri),
        "cookie_secret": settings.dashboard_auth_cookie_secret.get_secret_value(),
        "client_id": str(settings.dashboard_auth_client_id),
        "client_secret": settings.dashboard_auth_client_secret.get_secret_value(),
        "server_metadata_url": str(settings.dashboard_auth_server_metadata_url),
    }


def secrets_toml(section: dict[str, str]) -> str:
    lines = ["[auth]", *(f"{key} = {_toml_string(value)}" for key, value in section.items())]
    return "\n".join(lines) + "\n"


def _toml_string(value: str) -> str:
    # JSON escapes quotes, backslashes and control characters as TOML's basic strings do, except DEL,
    # which TOML also wants escaped.
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def write_secrets(settings: Settings) -> Path | None:
    """Write the secrets file when login is configured (and return it); otherwise remove a stale one."""
    path = secrets_file(settings)
    if not settings.dashboard_auth_enabled:
        path.unlink(missing_ok=True)
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    staged = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    # Created owner-only from the start, so the secrets are never readable by others, not even briefly.
    descriptor = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(secrets_toml(auth_section(settings)))
    os.replace(staged, path)
    return path


def main() -> int:
    try:
        path = write_secrets(load_settings())
    except SettingsError as error:
        print(error, file=sys.stderr)
        return 2
    print("" if path is None else path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
