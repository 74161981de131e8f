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


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory):
    from tests.services import s3_client, seaweedfs

    with seaweedfs(tmp_path_factory.mktemp("seaweedfs")) as endpoint:
        s3_client(endpoint).create_bucket(Bucket="lakehouse")
        yield endpoint


@pytest.fixture(params=["local", "s3"])
def storage(request: pytest.FixtureRequest, tmp_path) -> dict[str, str]:
    """LAKEHOUSE_* settings for a fresh lake and landing zone: a local folder, or a real S3 API."""
    if request.param == "local":
        return {
            "LAKEHOUSE_LAKE_ROOT": str(tmp_path / "lake"),
            "LAKEHOUSE_LANDING_ROOT": str(tmp_path / "landing"),
        }
    from tests.services import s3_environment

    endpoint = request.getfixturevalue("s3_endpoint")
    return s3_environment(endpoint, "lakehouse", tmp_path.name)
