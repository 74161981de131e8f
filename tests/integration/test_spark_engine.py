"""Parity: every silver table built by Spark is the one DuckDB builds from the same bronze.

One small simulated world goes through the real ingestion (landing files, CSV exports, an embedded
PostgreSQL with an update and a hard delete) into one bronze; every silver table is built from it in
ingestion order by DuckDBEngine into one lake and by SparkEngine into another, on Spark `local` and
on a real standalone cluster (master and worker started from pyspark's own distribution).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

import duckdb
import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from ingestion import postgres_source
from ingestion.csv_exports import BY_TABLE, EXPORTS, ingest_export
from ingestion.events import ingest_events
from ingestion.simulator import simulate
from ingestion.world_writer import load_operational, write_landing
from lakehouse.duckdb_delta import load_delta
from lakehouse.lake import DeltaRsLake
from lakehouse.lake_spark import DeltaSparkLake
from lakehouse.postgres import operational_dsn
from lakehouse.settings import Settings, load_settings
from lakehouse.spark import JVM_OPTIONS
from tests.services import free_port
from transforms.engine import DuckDBEngine, SparkEngine
from transforms.registry import SILVER_TABLES
from transforms.table import SilverTable

pytestmark = pytest.mark.slow

# the operational tables silver reads (the source has more)
OPERATIONAL_INPUTS = sorted(
    {
        name.removeprefix("bronze/pg_")
        for t in SILVER_TABLES
        for name in t.inputs
        if name.startswith("bronze/pg_")
    }
)
WORLD = {"seed": 11, "users": 60, "start": date(2026, 1, 28), "days": 5}  # crosses a month end
# Short-lived JVMs doing small jobs: the quick JIT tier alone halves the warm-up (about 40 s to 20 s here).
QUICK_JVM = f"{JVM_OPTIONS} -XX:TieredStopAtLevel=1"
TEST_CONF = {
    "spark.ui.enabled": "false",
    "spark.driver.extraJavaOptions": QUICK_JVM,
    "spark.executor.extraJavaOptions": QUICK_JVM,
}


def _settings(folder: Path, **overrides: object) -> Settings:
    # Module fixtures run before conftest's per-test isolation: every setting that matters is explicit.
    return load_settings(
        profile="local",
        data_dir=folder,
        lake_root=str(folder / "lake"),
        source_postgres_dsn=None,
        **overrides,
    )


@pytest.fixture(scope="module")
def bronze(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bronze tables of a small world, ingested the way the pipeline ingests them."""
    folder = tmp_path_factory.mktemp("bronze")
    settings = _settings(folder)
    lake = DeltaRsLake(settings.lake_uri)
    world = simulate(WORLD["seed"], WORLD["users"], WORLD["start"], WORLD["days"])
    write_landing(world, settings.landing_uri)
    ingest_events(lake, settings.landing_uri)
    for export in EXPORTS:
        ingest_export(lake, settings.landing_uri, export)
    dsn = operational_dsn(settings)
    load_operational(world, dsn)
    for table in OPERATIONAL_INPUTS:
        postgres_source.ingest_table(lake, dsn, table)
    # A second extraction with an update, and a full resync that turns a hard delete into a tombstone.
    with psycopg.connect(dsn) as conn:
        conn.execute(
            "update users set country = 'IS', updated_at = now() where id = (select min(id) from users)"
        )
        conn.execute("set session_replication_role = replica")  # past foreign keys: a hard delete
        conn.execute("delete from subscriptions where id = (select min(id) from subscriptions)")
    postgres_source.ingest_table(lake, dsn, "users")
    postgres_source.ingest_table(lake, dsn, "subscriptions", full_resync=True)
    assert pc.any(lake.read("bronze/pg_subscriptions")["_deleted"]).as_py()  # the tombstone
    return Path(settings.lake_uri)


def _lake_with(bronze: Path, folder: Path) -> str:
    shutil.copytree(bronze / "bronze", folder / "bronze")
    return str(folder)


@pytest.fixture(scope="module")
def duckdb_silver(bronze: Path, tmp_path_factory: pytest.TempPathFactory) -> DeltaRsLake:
    lake = DeltaRsLake(_lake_with(bronze, tmp_path_factory.mktemp("duckdb")))
    started = time.perf_counter()
    for table in SILVER_TABLES:
        DuckDBEngine(lake).run(table)
    print(f"\nDuckDB built silver in {time.perf_counter() - started:.1f} s")
    return lake


@pytest.fixture(scope="module")
def session() -> Iterator[Callable[..., SparkEngine]]:
    """One SparkSession at a time for the module: `session(lake_root, master)` gives an engine on it."""
    current: dict[str, object] = {}

    def engine(lake_root: str, master: str = "local[2]", extra: dict[str, str] | None = None) -> SparkEngine:
        spark = current.get("spark")
        if spark is not None and spark.sparkContext.master != master:
            spark.stop()
            spark = None
        if spark is None:
            started = time.perf_counter()
            settings = load_settings(profile="local", lake_root=lake_root, spark_master=master)
            spark = SparkEngine.from_settings(settings, extra=TEST_CONF | (extra or {})).lake.spark
            print(f"\nSpark on {master} started in {time.perf_counter() - started:.1f} s")
            current["spark"] = spark
        return SparkEngine(DeltaSparkLake(lake_root, spark), DeltaRsLake(lake_root))

    yield engine
    if current.get("spark") is not None:
        current["spark"].stop()


def _comparable(table: pa.Table) -> pa.Table:
    """Rows in one order, timestamps as UTC microseconds."""
    fields = [
        pa.field(f.name, pa.timestamp("us", tz="UTC")) if pa.types.is_timestamp(f.type) else f
        for f in table.schema
    ]
    table = table.cast(pa.schema(fields))
    return table.sort_by([(name, "ascending") for name in table.column_names])


def _assert_same_silver(built_on_duckdb: DeltaRsLake, spark_root: str) -> None:
    spark = DeltaRsLake(spark_root)  # read back with delta-rs: the Spark tables are plain Delta tables
    empty = [t.name for t in SILVER_TABLES if built_on_duckdb.read(t.name).num_rows == 0]
    assert len(empty) <= 2, f"the test world is too small to compare these: {empty}"
    for table in SILVER_TABLES:
        expected, actual = built_on_duckdb.read(table.name), spark.read(table.name)
        assert [(f.name, f.type) for f in actual.schema] == [(f.name, f.type) for f in expected.schema], (
            table.name
        )
        assert actual.num_rows == expected.num_rows, table.name
        expected, actual = _comparable(expected), _comparable(actual)
        if not actual.equals(expected):
            extra = [row for row in actual.to_pylist() if row not in expected.to_pylist()]
            missing = [row for row in expected.to_pylist() if row not in actual.to_pylist()]
            pytest.fail(f"{table.name} differs: only Spark has {extra[:3]}, only DuckDB has {missing[:3]}")
        partitions = spark._table(table.name).metadata().partition_columns
        assert partitions == list(table.partition_by), table.name
        # and DuckDB's Delta extension, which dbt reads silver with, reads what Spark wrote
        with duckdb.connect() as con:
            load_delta(con)
            scanned = con.execute(f"select count(*) from delta_scan('{spark.uri(table.name)}')").fetchone()
        assert scanned[0] == expected.num_rows, table.name


def _build_on_spark(engine: SparkEngine) -> None:
    started = time.perf_counter()
    rows = 0
    for table in SILVER_TABLES:
        run = engine.run(table)
        assert run.version == 0, run
        rows += run.commit.rows
    assert rows > 0
    print(f"Spark built silver in {time.perf_counter() - started:.1f} s")


def test_spark_builds_the_same_silver_as_duckdb(bronze, duckdb_silver, session, tmp_path) -> None:
    engine = session(_lake_with(bronze, tmp_path))
    _build_on_spark(engine)
    _assert_same_silver(duckdb_silver, engine.lake.root)
    # build() hands back what run() writes, as DuckDBEngine's does
    events = SILVER_TABLES[0]
    assert _comparable(engine.build(events)).equals(_comparable(duckdb_silver.read(events.name)))


def test_dagster_silver_assets_run_on_spark(bronze, duckdb_silver, session, tmp_path, monkeypatch) -> None:
    """LAKEHOUSE_ENGINE=spark: the silver assets build on Spark (here the session already running)."""
    import dagster as dg

    from orchestration.resources import PlatformResource
    from orchestration.transforms.assets import SILVER_ASSETS

    root = _lake_with(bronze, tmp_path)
    session(root)  # the running session, which the assets' getOrCreate picks up
    monkeypatch.setenv("LAKEHOUSE_ENGINE", "spark")
    monkeypatch.setenv("LAKEHOUSE_LAKE_ROOT", root)
    users = next(a for a in SILVER_ASSETS if a.key == dg.AssetKey(["silver", "users"]))
    result = dg.materialize([users], resources={"platform": PlatformResource()})
    assert result.success
    [materialization] = [e.materialization for e in result.get_asset_materialization_events()]
    assert materialization.metadata["engine"].value == "spark"
    assert materialization.metadata["dagster/row_count"].value == duckdb_silver.read("silver/users").num_rows
    assert _comparable(DeltaRsLake(root).read("silver/users")).equals(
        _comparable(duckdb_silver.read("silver/users"))
    )


def test_json_context_is_read_like_duckdb_reads_it(session, tmp_path) -> None:
    """Escapes, other JSON types and missing keys: `.str` is the string or NULL on both engines."""
    import ibis

    contexts = [
        '{"utm_source": "go\\"og\\u00e9le", "device": "mobile"}',
        '{"utm_source": 7, "device": null}',
        '{"utm_source": {"nested": "x"}}',
        '{"utm_source": ""}',
        "{}",
        None,
    ]
    data = pa.table({"n": list(range(len(contexts))), "context": pa.array(contexts, pa.string())})
    engine = session(str(tmp_path))
    engine.lake.overwrite("t", data)

    def extract(t):
        context = t.context.cast("json")
        return t.select("n", source=context["utm_source"].str, device=context["device"].str)

    probe = SilverTable("probe", ("t",), extract)
    on_spark = engine.build(probe).sort_by("n")
    on_duckdb = ibis.duckdb.connect().to_pyarrow(extract(ibis.memtable(data))).sort_by("n")
    assert on_spark.to_pylist() == on_duckdb.to_pylist()
    assert on_duckdb["source"].to_pylist() == ['go"ogéle', None, None, "", None, None]


def test_the_lake_interface_on_spark(session, tmp_path) -> None:
    """Append at most once per app id, merge, history and versions, readable by delta-rs."""
    lake = session(str(tmp_path)).lake
    first = pa.table({"id": ["a", "b"], "n": [1, 2]})
    assert not lake.exists("t") and lake.version("t") is None
    assert lake.append("t", first, app_id="batch-1").rows == 2
    replay = lake.append("t", first, app_id="batch-1")
    assert replay.skipped and replay.rows == 0
    lake.merge("t", pa.table({"id": ["b", "c"], "n": [20, 30]}), keys=["id"])
    assert sorted(lake.read("t").to_pylist(), key=lambda r: r["id"]) == [
        {"id": "a", "n": 1},
        {"id": "b", "n": 20},
        {"id": "c", "n": 30},
    ]
    assert lake.version("t") == 1 and [h["operation"] for h in lake.history("t")] == ["MERGE", "WRITE"]
    assert DeltaRsLake(str(tmp_path)).committed("t", ["batch-1", "batch-2"]) == {"batch-1"}
    assert lake.read("t", version=0).num_rows == 2
    # and the other way round: an app id delta-rs recorded is one Spark skips
    rs = DeltaRsLake(str(tmp_path))
    rs.append("u", first, app_id="batch-9")
    assert lake.append("u", first, app_id="batch-9").skipped
    assert pc.sum(lake.read("u")["n"]).as_py() == 3


@contextmanager
def standalone_cluster(folder: Path, cores: int = 2) -> Iterator[str]:
    """A Spark standalone master and one worker from pyspark's own distribution, on loopback ports."""
    import pyspark

    spark_home = Path(pyspark.__file__).parent
    spark_class = str(spark_home / "bin" / "spark-class")
    port, master_ui = free_port(), free_port()
    env = os.environ | {
        "SPARK_HOME": str(spark_home),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_LOG_DIR": str(folder),
        "PYSPARK_PYTHON": sys.executable,
    }
    commands = {
        "master": [
            *("org.apache.spark.deploy.master.Master", "--host", "127.0.0.1"),
            *("--port", str(port), "--webui-port", str(master_ui)),
        ],
        "worker": [
            *("org.apache.spark.deploy.worker.Worker", f"spark://127.0.0.1:{port}", "--host", "127.0.0.1"),
            *("--webui-port", str(free_port()), "--cores", str(cores), "--memory", "2g"),
            *("--work-dir", str(folder / "work")),
        ],
    }
    processes: dict[str, subprocess.Popen] = {}
    try:
        for name, arguments in commands.items():
            log = (folder / f"{name}.log").open("w")
            processes[name] = subprocess.Popen(
                [spark_class, *arguments],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 90
        while _alive_workers(master_ui) < 1:
            for name, process in processes.items():
                if process.poll() is not None:
                    raise RuntimeError(f"the Spark {name} exited; see {folder / f'{name}.log'}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"no Spark worker registered in 90 s; see the logs in {folder}")
            time.sleep(0.5)
        print(f"\nSpark master and worker up in {time.monotonic() - deadline + 90:.1f} s")
        yield f"spark://127.0.0.1:{port}"
    finally:
        for process in reversed(processes.values()):
            _stop(process)


def _alive_workers(ui_port: int) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{ui_port}/json/", timeout=2) as response:
            return int(json.load(response).get("aliveworkers", 0))
    except OSError:
        return 0


def _stop(process: subprocess.Popen) -> None:
    # spark-class execs the JVM in its own session (start_new_session): signal that group, nothing else.
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


def test_spark_standalone_cluster_builds_the_same_silver(bronze, duckdb_silver, session, tmp_path) -> None:
    (tmp_path / "cluster").mkdir()
    with standalone_cluster(tmp_path / "cluster") as master:
        engine = session(
            _lake_with(bronze, tmp_path / "lake"),
            master,
            {
                "spark.driver.host": "127.0.0.1",
                "spark.driver.bindAddress": "127.0.0.1",
                "spark.executor.memory": "1g",
                "spark.pyspark.python": sys.executable,
            },
        )
        _build_on_spark(engine)
        # the worker's executor did the work, with the Delta jars it received from the driver
        assert list((tmp_path / "cluster" / "work").glob("app-*/*/delta-spark_*.jar"))
        engine.lake.spark.stop()
    _assert_same_silver(duckdb_silver, engine.lake.root)


# Each incremental mechanism once: appends (events, signups), windowed sessions with stitching, partition
# replace driven by another table's days (touchpoints, lesson progress), id-scoped MERGE, lookups by date
# (FX, as of) and by id (lessons); with the tables they read.
INCREMENTAL = (
    "silver/events",
    "silver/signups",
    "silver/identities",
    "silver/sessions",
    "silver/touchpoints",
    "silver/lesson_progress",
    "silver/users_history",
    "silver/fx_rates",
    "silver/invoices",
)


def _new_events(lake: DeltaRsLake, landing: Path) -> int:
    """Late copies (new ids, 10 minutes later) of some existing events, and a signup stitching an
    anonymous visitor's earlier visits to a new user."""
    rows = lake.read("bronze/events").sort_by([("occurred_at", "ascending"), ("event_id", "ascending")])
    rows = rows.to_pylist()
    lines = []
    for number, row in enumerate(rows[::7]):
        lines.append(
            {
                "event_id": f"late-{number}",
                "event_type": row["event_type"],
                "product": row["product"],
                "occurred_at": (row["occurred_at"] + timedelta(minutes=10)).isoformat(),
                "user_id": row["user_id"],
                "anonymous_id": row["anonymous_id"],
                "context": json.loads(row["context"] or "{}"),
                "properties": json.loads(row["properties"] or "{}"),
            }
        )
    visitor = next(r for r in rows if r["user_id"] is None and r["anonymous_id"])
    lines.append(
        {
            "event_id": "late-signup",
            "event_type": "signup",
            "product": visitor["product"],
            "occurred_at": (visitor["occurred_at"] + timedelta(minutes=5)).isoformat(),
            "user_id": "user-late-signup",
            "anonymous_id": visitor["anonymous_id"],
            "properties": {"method": "email"},
        }
    )
    path = landing / "events" / "late" / "late.ndjson"
    path.parent.mkdir(parents=True)
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return len(lines)


def test_spark_incremental_runs_equal_a_full_build(bronze, session, tmp_path) -> None:
    root = _lake_with(bronze, tmp_path / "spark")
    lake = DeltaRsLake(root)
    engine = session(root)
    tables = [t for t in SILVER_TABLES if t.name in INCREMENTAL]
    assert {engine.run(t).mode for t in tables} == {"full"}

    landing = tmp_path / "landing"
    assert _new_events(lake, landing) > 10
    rate_day = lake.read("bronze/fx_rates", columns=["date"])["date"][0].as_py()
    (landing / "exports" / "fx_rates").mkdir(parents=True)
    (landing / "exports" / "fx_rates" / "correction.csv").write_text(
        f"date,currency,rate_to_usd\n{rate_day.isoformat()},EUR,1.5\n"
    )
    ingest_events(lake, str(landing))
    ingest_export(lake, str(landing), BY_TABLE["bronze/fx_rates"])

    runs = {t.name: engine.run(t) for t in tables}
    modes = {name: run.mode for name, run in runs.items()}
    assert modes == {name: "unchanged" if name == "silver/users_history" else "incremental" for name in modes}
    assert runs["silver/sessions"].scope_values < lake.row_count("silver/sessions")  # not everyone
    assert lake.processed("silver/events")["bronze/events"] == lake.version("bronze/events")

    other = tmp_path / "duckdb"
    other.mkdir()
    (other / "bronze").symlink_to(Path(root) / "bronze")
    duckdb_lake = DeltaRsLake(str(other))
    for table in tables:
        DuckDBEngine(duckdb_lake).run(table, full=True)
        expected, actual = duckdb_lake.read(table.name), lake.read(table.name)
        assert _comparable(actual).equals(_comparable(expected)), table.name
    stitched = lake.read("silver/sessions").filter(pc.field("user_id") == "user-late-signup")
    assert stitched.num_rows >= 1
