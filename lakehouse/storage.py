"""Arrow filesystems for a local folder or an S3 prefix, from the lake's storage options."""

from __future__ import annotations

import os

from pyarrow import fs


def filesystem_for(root: str, storage_options: dict[str, str] | None = None) -> tuple[fs.FileSystem, str]:
    """The Arrow filesystem and base path of a folder or s3://bucket/prefix.

    storage_options are the lake's (delta-rs names: AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, ...), so one
    set of settings reaches both the lake and the landing zone.
    """
    if not root.startswith("s3://"):
        return fs.LocalFileSystem(), root
    options = storage_options or {}
    endpoint = options.get("AWS_ENDPOINT_URL")
    if endpoint:
        # The AWS SDK's default checksums on multipart uploads are refused by many S3-compatible stores
        # (SeaweedFS answers "invalid access key"); send them only where the API requires them.
        os.environ.setdefault("AWS_REQUEST_CHECKSUM_CALCULATION", "when_required")
        os.environ.setdefault("AWS_RESPONSE_CHECKSUM_VALIDATION", "when_required")
    filesystem = fs.S3FileSystem(
        access_key=options.get("AWS_ACCESS_KEY_ID"),
        secret_key=options.get("AWS_SECRET_ACCESS_KEY"),
        region=options.get("AWS_REGION", "us-east-1"),
        endpoint_override=endpoint.split("://", 1)[-1] if endpoint else None,
        scheme="http" if endpoint and endpoint.startswith("http://") else "https",
    )
    return filesystem, root.removeprefix("s3://")
