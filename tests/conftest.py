from __future__ import annotations

import os

import pytest


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """No test sees the developer's LAKEHOUSE_* settings or data folder, nor leaks its own."""
    for name in list(os.environ):
        if name.startswith("LAKEHOUSE_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("LAKEHOUSE_DATA_DIR", str(tmp_path_factory.mktemp("data")))
