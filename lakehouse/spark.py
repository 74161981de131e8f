"""The SparkSession of the Spark engine, decided by lakehouse.settings like everything else.

Spark's Delta connector is a JVM jar from Maven Central, not part of the pyspark wheel. `make install`
fetches it with Maven into the local Maven repository (``mvn dependency:get``, see the Makefile's
``spark-jars`` target); this module hands those jar files to Spark (``spark.jars``), so a session starts
without any network, and a cluster's executors receive the jars from the driver. The master is
``LAKEHOUSE_SPARK_MASTER`` (``local[*]`` by default, or ``spark://host:port``, ``yarn``, ``k8s://...``).
On an ``s3://`` lake the same ``LAKEHOUSE_S3_*`` / ``LAKEHOUSE_AWS_*`` settings as delta-rs configure
Hadoop's S3A file system, which needs two more jars (``hadoop-aws`` and the AWS SDK bundle); see
docs/spark.md.
"""

from __future__ import annotations

import importlib.metadata
import os
from pathlib import Path
from typing import TYPE_CHECKING

from lakehouse.settings import Settings, load_settings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

SCALA_VERSION = "2.13"  # pyspark 4.x is built for Scala 2.13
# hadoop-aws must match the Hadoop that pyspark ships (hadoop-client-api-<version>.jar in pyspark/jars),
# and the AWS SDK bundle the version that hadoop-aws release was built with.
HADOOP_AWS_SDK = {"3.4.1": "2.24.6"}
# JVM options of the driver and the executors; no result may depend on the zone of a machine
JVM_OPTIONS = "-Duser.timezone=UTC"


class SparkSetupError(RuntimeError):
    """Something Spark needs is missing on this machine; the message says how to get it."""


def delta_version() -> str:
    """The delta-spark version installed; the connector jars must be exactly this version."""
    return importlib.metadata.version("delta-spark")


def maven_repository() -> Path:
    """The local Maven repository where `mvn dependency:get` puts jars (MAVEN_REPO_LOCAL overrides)."""
    return Path(os.environ.get("MAVEN_REPO_LOCAL") or Path.home() / ".m2" / "repository")


def _maven_jar(group: str, artifact: str, version: str) -> Path:
    return maven_repository() / group.replace(".", "/") / artifact / version / f"{artifact}-{version}.jar"


def delta_artifacts() -> list[str]:
    """Maven coordinates of the Delta connector: delta-spark and its one runtime dependency outside Spark."""
    version = delta_version()
    return [f"io.delta:delta-spark_{SCALA_VERSION}:{version}", f"io.delta:delta-storage:{version}"]


def hadoop_version() -> str:
    import pyspark

    jars = Path(pyspark.__file__).parent / "jars"
    found = sorted(jars.glob("hadoop-client-api-*.jar"))
    if not found:
        raise SparkSetupError(f"no hadoop-client-api jar in {jars}: is pyspark installed completely?")
    return found[-1].name.removeprefix("hadoop-client-api-").removesuffix(".jar")


def s3_artifacts() -> list[str]:
    """Maven coordinates of Hadoop's S3A file system for the Hadoop that pyspark ships."""
    hadoop = hadoop_version()
    sdk = HADOOP_AWS_SDK.get(hadoop)
    if sdk is None:
        raise SparkSetupError(
            f"pyspark ships Hadoop {hadoop}, whose AWS SDK version is not known here: add it to "
            "lakehouse.spark.HADOOP_AWS_SDK (see hadoop-aws's pom on Maven Central)"
        )
    return [f"org.apache.hadoop:hadoop-aws:{hadoop}", f"software.amazon.awssdk:bundle:{sdk}"]


def _jars(artifacts: list[str]) -> list[Path]:
    missing = missing_jars(artifacts)
    if missing:
        fetch = "\n".join(f"  mvn -q dependency:get -Dtransitive=false -Dartifact={a}" for a in missing)
        raise SparkSetupError(
            f"Spark needs jar(s) that are not in the local Maven repository {maven_repository()}: "
            f"{', '.join(missing)}. `make install` fetches the Delta connector; or run:\n{fetch}"
        )
    return [_maven_jar(*artifact.split(":")) for artifact in artifacts]


def s3a_conf(settings: Settings) -> dict[str, str]:
    """Hadoop S3A settings from the same LAKEHOUSE_S3_* / LAKEHOUSE_AWS_* settings delta-rs uses."""
    conf = {
        # the lake's URIs say s3://; S3A serves that scheme too
        "spark.hadoop.fs.s3.impl": "org.apache.hadoop.fs.s3a.S3AFileSystem",
        "spark.hadoop.fs.s3a.endpoint.region": settings.s3_region,
    }
    if settings.s3_endpoint_url:
        conf |= {
            "spark.hadoop.fs.s3a.endpoint": settings.s3_endpoint_url,
            "spark.hadoop.fs.s3a.path.style.access": "true",
            "spark.hadoop.fs.s3a.connection.ssl.enabled": str(
                settings.s3_endpoint_url.startswith("https://")
            ).lower(),
        }
    if settings.aws_access_key_id and settings.aws_secret_access_key:
        conf |= {
            "spark.hadoop.fs.s3a.aws.credentials.provider": (
                "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider"
            ),
            "spark.hadoop.fs.s3a.access.key": settings.aws_access_key_id.get_secret_value(),
            "spark.hadoop.fs.s3a.secret.key": settings.aws_secret_access_key.get_secret_value(),
        }
    return conf


def spark_conf(settings: Settings, app_name: str = "lakehouse") -> dict[str, str]:
    """Everything the session is configured with, before any `extra` given to `spark_session`."""
    on_s3 = settings.lake_uri.startswith("s3://")
    jars = _jars(delta_artifacts() + (s3_artifacts() if on_s3 else []))
    conf = {
        "spark.master": settings.spark_master,
        "spark.app.name": app_name,
        "spark.jars": ",".join(str(path) for path in jars),
        "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
        "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
        # timestamps are instants; no result may depend on the zone of the machine
        "spark.sql.session.timeZone": "UTC",
        "spark.driver.extraJavaOptions": JVM_OPTIONS,
        "spark.executor.extraJavaOptions": JVM_OPTIONS,
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        # Delta tables written here are read by delta-rs and DuckDB's Delta extension too: plain
        # microsecond timestamps (not Spark's legacy INT96), no deletion vectors
        "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
        "spark.databricks.delta.properties.defaults.enableDeletionVectors": "false",
        # progress bars would interleave with the logs of Dagster and pytest
        "spark.ui.showConsoleProgress": "false",
    }
    if settings.spark_master.startswith("local"):
        # Spark's defaults (200 shuffle partitions, 50 for a Delta snapshot) suit a cluster; on one
        # machine a few tasks per core are faster at every size this platform runs locally.
        tasks = str(2 * _local_cores(settings.spark_master))
        conf |= {"spark.sql.shuffle.partitions": tasks, "spark.databricks.delta.snapshotPartitions": tasks}
    if on_s3:
        conf |= s3a_conf(settings)
    return conf


def _local_cores(master: str) -> int:
    """The cores of local, local[N] or local[*] (also local[N,retries])."""
    cores = master.removeprefix("local").strip("[]").split(",")[0]
    if not cores:
        return 1
    if cores.isdigit():
        return int(cores)
    return os.cpu_count() or 1


def spark_session(
    settings: Settings | None = None, *, app_name: str = "lakehouse", extra: dict[str, str] | None = None
) -> SparkSession:
    """A SparkSession with Delta on the configured master; `extra` adds or overrides Spark settings.

    Spark keeps one session per process: a second call returns the running one (with `extra` applied
    where Spark allows it at run time).
    """
    from pyspark.sql import SparkSession

    settings = settings or load_settings()
    builder = SparkSession.builder
    for key, value in (spark_conf(settings, app_name) | (extra or {})).items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def missing_jars(artifacts: list[str] | None = None) -> list[str]:
    """Which of these Maven coordinates (default: the Delta connector) have no jar in the local repository."""
    return [a for a in artifacts or delta_artifacts() if not _maven_jar(*a.split(":")).exists()]


def main(argv: list[str] | None = None) -> int:
    """`python -m lakehouse.spark missing-jars [--s3]`: the coordinates to fetch, one per line (Makefile)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m lakehouse.spark")
    parser.add_argument("command", choices=["missing-jars"])
    parser.add_argument("--s3", action="store_true", help="also the S3A jars (hadoop-aws, AWS SDK bundle)")
    args = parser.parse_args(argv)
    for artifact in missing_jars(delta_artifacts() + (s3_artifacts() if args.s3 else [])):
        print(artifact)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
