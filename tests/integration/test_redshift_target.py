"""The Redshift target without a cluster: manifests, DDL, the dbt project's parse and its SQL.

Redshift Spectrum reads silver through symlink manifests, so the manifests must list exactly the data
files of each table's current Delta snapshot (checked against delta-rs's own file list, on a folder and
on a real S3 API); the DDL must create every silver table with its columns; the dbt project must parse
for the redshift target; and its SQL must avoid what Redshift lacks (tests/redshift_sql.py).
"""

from __future__ import annotations

import json
import os
import subprocess
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from deltalake import DeltaTable
from pyarrow import fs

from lakehouse import redshift_ddl
from lakehouse.lake import DeltaRsLake
from lakehouse.maintenance import maintain_table
from lakehouse.redshift_ddl import DDLError, ExternalTable, redshift_type
from lakehouse.settings import PROJECT_ROOT, SettingsError, load_settings
from lakehouse.spectrum import ManifestError, escape_path_name, partition_path, write_manifest
from lakehouse.storage import filesystem_for
from tests.redshift_sql import ERROR, RISK, lint, lint_files, strip_jinja

EVENTS = "silver/spectrum_events"  # partitioned by day, as silver's event tables are
ACCOUNTS = "silver/spectrum_accounts"  # unpartitioned, kept by MERGE
ROLE = "arn:aws:iam::123456789012:role/lakehouse-spectrum"
DOCS_EXAMPLE = PROJECT_ROOT / "docs" / "redshift_external_schema.sql"
EXAMPLE_ARGS = ["--location", "s3://example-bucket/lake", "--iam-role", ROLE, "--no-partitions"]
DBT_PROJECT = PROJECT_ROOT / "dbt_project"
DBT = PROJECT_ROOT / ".venv" / "bin" / "dbt"
# A Redshift profile that parses and compiles but never connects (dbt opens no connection for these).
OFFLINE_REDSHIFT = {
    "LAKEHOUSE_WAREHOUSE_TARGET": "redshift",
    "LAKEHOUSE_WAREHOUSE_HOST": "redshift.invalid",
    "LAKEHOUSE_WAREHOUSE_USER": "analytics",
    "LAKEHOUSE_WAREHOUSE_PASSWORD": "unused",
}


def _lake(monkeypatch: pytest.MonkeyPatch, environment: dict[str, str]) -> DeltaRsLake:
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    return DeltaRsLake(settings.lake_uri, settings.storage_options())


def _stored_manifests(lake: DeltaRsLake, table: str) -> dict[str, bytes]:
    """Every file named `manifest` under the table's manifest folder, read straight from storage."""
    filesystem, base = filesystem_for(lake.uri(table), lake.storage_options)
    root = f"{base}/_symlink_format_manifest"
    stored = {}
    for info in filesystem.get_file_info(fs.FileSelector(root, recursive=True, allow_not_found=True)):
        if info.type == fs.FileType.File and info.base_name == "manifest":
            with filesystem.open_input_stream(info.path) as stream:
                stored[info.path[len(root) + 1 :].removesuffix("manifest").rstrip("/")] = stream.read()
    return stored


def _snapshot_files(lake: DeltaRsLake, table: str) -> dict[str, set[str]]:
    """delta-rs's own URIs of the current data files, by the folder they are in (Delta names the
    partition folders like the manifest folders for the values used here)."""
    uris = DeltaTable(lake.uri(table), storage_options=lake.storage_options or None).file_uris()
    base = lake.uri(table).rstrip("/")
    if "://" not in base:
        base = os.path.abspath(base)
    grouped: dict[str, set[str]] = {}
    for uri in uris:
        folder = uri[len(base) + 1 :].rpartition("/")[0]
        grouped.setdefault(folder, set()).add(uri if "://" in uri else f"file:{uri}")
    return grouped


def _assert_current(lake: DeltaRsLake, table: str) -> None:
    stored = _stored_manifests(lake, table)
    expected = _snapshot_files(lake, table)
    partitioned = DeltaTable(lake.uri(table), storage_options=lake.storage_options or None).metadata()
    if not expected and not partitioned.partition_columns:
        expected = {"": set()}  # an unpartitioned table always has its manifest, empty when it is
    assert {folder: set(content.decode().splitlines()) for folder, content in stored.items()} == expected
    for content in stored.values():  # one URI per line, each line ended, no blank lines
        assert content == b"" or (content.endswith(b"\n") and b"\n\n" not in content)
    filesystem, _ = filesystem_for(lake.uri(table), lake.storage_options)
    listed = [uri for uris in expected.values() for uri in uris]
    paths = [uri.removeprefix("file:").removeprefix("s3://") for uri in listed]
    assert all(info.type == fs.FileType.File for info in filesystem.get_file_info(paths))


def _events(days: list[int], version: int) -> pa.Table:
    rows = [(date(2026, 2, day), f"{day}-{i}", version * 10 + i) for day in days for i in range(3)]
    return pa.table(
        {
            "event_date": pa.array([r[0] for r in rows], pa.date32()),
            "event_id": [r[1] for r in rows],
            "amount": [r[2] for r in rows],
        }
    )


@pytest.mark.slow
def test_manifests_list_exactly_the_current_snapshot(storage, monkeypatch) -> None:
    lake = _lake(monkeypatch, storage)

    lake.append(EVENTS, _events([1, 2], 0), partition_by=["event_date"])
    first = write_manifest(lake, EVENTS)
    _assert_current(lake, EVENTS)
    assert (first.manifests, first.manifests_written, first.data_files) == (2, 2, 2)

    lake.append(EVENTS, _events([2, 3], 1), partition_by=["event_date"])
    appended = write_manifest(lake, EVENTS)
    _assert_current(lake, EVENTS)
    # day 2 gained a file and day 3 is new; day 1 is left as it is
    assert (appended.manifests, appended.manifests_written, appended.data_files) == (3, 2, 4)
    unchanged = write_manifest(lake, EVENTS)
    assert (unchanged.manifests_written, unchanged.manifests_deleted) == (0, 0)

    # a partition replace that leaves day 2 without rows: its manifest goes
    lake.replace(
        EVENTS,
        _events([1], 2),
        "event_date",
        [date(2026, 2, 1), date(2026, 2, 2)],
        partition_by=["event_date"],
    )
    replaced = write_manifest(lake, EVENTS)
    _assert_current(lake, EVENTS)
    assert (replaced.manifests_written, replaced.manifests_deleted) == (1, 1)
    assert "event_date=2026-02-02" not in _stored_manifests(lake, EVENTS)

    lake.merge(EVENTS, _events([3, 4], 3), keys=["event_id"])
    write_manifest(lake, EVENTS)
    _assert_current(lake, EVENTS)
    assert set(_stored_manifests(lake, EVENTS)) == {f"event_date=2026-02-0{day}" for day in (1, 3, 4)}

    accounts = pa.table({"account_id": ["a", "b"], "plan": ["free", "pro"]})
    lake.overwrite(ACCOUNTS, accounts)
    write_manifest(lake, ACCOUNTS)
    _assert_current(lake, ACCOUNTS)
    lake.merge(ACCOUNTS, pa.table({"account_id": ["b", "c"], "plan": ["team", "free"]}), keys=["account_id"])
    merged = write_manifest(lake, ACCOUNTS)
    _assert_current(lake, ACCOUNTS)
    assert set(_stored_manifests(lake, ACCOUNTS)) == {""}  # an unpartitioned table has one, at the root
    assert merged.manifests_written == 1

    lake.append(EVENTS, _events([3], 4), partition_by=["event_date"])  # small files to compact
    lake.append(ACCOUNTS, pa.table({"account_id": ["d"], "plan": ["pro"]}))
    for table in (EVENTS, ACCOUNTS):  # compaction rewrites files, vacuum deletes the replaced ones
        before = _snapshot_files(lake, table)
        maintain_table(lake, table, retention_hours=0)
        assert _snapshot_files(lake, table) != before
        write_manifest(lake, table)
        _assert_current(lake, table)


@pytest.mark.slow
def test_a_run_cut_short_is_repaired_by_the_next_one(storage, monkeypatch) -> None:
    lake = _lake(monkeypatch, storage)
    lake.append(EVENTS, _events([1, 2], 0), partition_by=["event_date"])
    write_manifest(lake, EVENTS)
    filesystem, base = filesystem_for(lake.uri(EVENTS), lake.storage_options)
    root = f"{base}/_symlink_format_manifest"
    # What a crash leaves: the state file gone (it is deleted first), one manifest half-way (stale), and a
    # partition that no longer exists still listed.
    filesystem.delete_file(f"{root}/.manifests.json")
    for folder, content in (
        ("event_date=2026-02-01", b"s3://elsewhere/old.parquet\n"),
        ("event_date=2026-01-31", b""),
    ):
        filesystem.create_dir(f"{root}/{folder}")
        with filesystem.open_output_stream(f"{root}/{folder}/manifest") as stream:
            stream.write(content)

    repaired = write_manifest(lake, EVENTS)

    _assert_current(lake, EVENTS)
    assert (repaired.manifests_written, repaired.manifests_deleted) == (2, 1)


def test_partition_folders_are_named_as_hive_escapes_them() -> None:
    assert escape_path_name("a b/c=%:d#?") == "a b%2Fc%3D%25%3Ad%23%3F"
    assert (
        partition_path((("day", "2026-02-01"), ("channel", "paid/search")))
        == "day=2026-02-01/channel=paid%2Fsearch"
    )
    assert partition_path((("day", None),)) == "day=__HIVE_DEFAULT_PARTITION__"


def test_a_table_with_column_mapping_is_refused(tmp_path) -> None:
    uri = str(tmp_path / "mapped")
    DeltaTable.create(
        uri,
        pa.schema([pa.field("id", pa.int64())]),
        configuration={"delta.columnMapping.mode": "name"},
    )
    with pytest.raises(ManifestError, match="column mapping"):
        write_manifest(DeltaRsLake(str(tmp_path)), "mapped")


def test_delta_types_map_to_the_types_an_external_table_declares() -> None:
    declared = {
        delta: redshift_type(delta, "c", "silver/t")
        for delta in ("string", "long", "integer", "short", "double", "float", "boolean", "date", "timestamp")
    }
    assert declared == {
        "string": "VARCHAR(65535)",
        "long": "BIGINT",
        "integer": "INTEGER",
        "short": "SMALLINT",
        "double": "DOUBLE PRECISION",
        "float": "REAL",
        "boolean": "BOOLEAN",
        "date": "DATE",
        "timestamp": "TIMESTAMP",
    }
    assert redshift_type("decimal(12,4)", "c", "silver/t") == "DECIMAL(12,4)"
    with pytest.raises(DDLError, match=r"silver/t\.tags has Delta type .*array"):
        redshift_type({"type": "array", "elementType": "string", "containsNull": True}, "tags", "silver/t")


def test_partitions_are_registered_a_hundred_a_statement() -> None:
    location = "s3://b/lake/silver/t/_symlink_format_manifest/"
    days = [(date(2026, 1, 1) + timedelta(days=n)).isoformat() for n in range(150)]
    partitions = tuple(
        ((("day", day), ("channel", "o'brien")), f"{location}day={day}/channel=o%27brien/") for day in days
    )
    table = ExternalTable(
        name="t",
        columns=(("id", "BIGINT"),),
        partition_columns=(("day", "DATE"), ("channel", "VARCHAR(65535)")),
        location=location,
        partitions=partitions,
        null_partitions=2,
    )
    first, second, note = redshift_ddl.partition_statements("silver", table)
    assert [first.count("\nPARTITION ("), second.count("\nPARTITION (")] == [100, 50]
    assert first.splitlines()[:2] == [
        'ALTER TABLE "silver"."t" ADD IF NOT EXISTS',
        """PARTITION ("day"='2026-01-01', "channel"='o''brien') """
        f"LOCATION '{location}day=2026-01-01/channel=o%27brien/'",
    ]
    assert second.endswith(f"LOCATION '{location}day={days[-1]}/channel=o%27brien/';")
    assert note.startswith('-- "silver"."t": 2 partition(s) with a null value are not registered')


def test_ddl_needs_an_s3_lake_and_an_iam_role(monkeypatch, capsys) -> None:
    monkeypatch.setenv("LAKEHOUSE_REDSHIFT_IAM_ROLE", ROLE)
    assert redshift_ddl.main([]) == 2  # the lake is a local folder
    assert "set LAKEHOUSE_LAKE_ROOT to its s3://bucket/prefix" in capsys.readouterr().err
    monkeypatch.delenv("LAKEHOUSE_REDSHIFT_IAM_ROLE")
    assert redshift_ddl.main(["--location", "s3://example-bucket/lake"]) == 2
    assert "set LAKEHOUSE_REDSHIFT_IAM_ROLE" in capsys.readouterr().err


def test_spectrum_settings(monkeypatch) -> None:
    assert not load_settings().writes_spectrum_manifests
    for name, value in OFFLINE_REDSHIFT.items():
        monkeypatch.setenv(name, value)
    assert load_settings().writes_spectrum_manifests  # on by default for the redshift target
    monkeypatch.setenv("LAKEHOUSE_SPECTRUM_MANIFESTS", "false")
    assert not load_settings().writes_spectrum_manifests
    monkeypatch.setenv("LAKEHOUSE_REDSHIFT_IAM_ROLE", "spectrum-role")
    with pytest.raises(
        SettingsError, match=r"LAKEHOUSE_REDSHIFT_IAM_ROLE \(is 'spectrum-role'\): must be an IAM"
    ):
        load_settings()


def test_the_lint_finds_what_redshift_rejects() -> None:
    sql = """
    with recursive days as (select 1 as d union all select d + 1 from days where d < 3)
    select
        count(*) filter (where ok) as n,
        string_agg(name, ',') as names,
        sum(v) over (partition by k order by d) as running,
        sum(v) over (partition by k order by d rows between unbounded preceding and current row) as fine,
        percentile_cont(0.5) within group (order by latency) as p50,
        percentile_cont(0.9) within group (order by tokens) as p90,
        ok is true as flag,
        concat(a, b, c) as abc,
        quantile_cont(v, 0.5) as q,
        x::double as dx,
        cast(y as numeric) as ny,
        '->> generate_series(' as literal  -- string_agg( in a comment
    from t
    where ok is true and a is distinct from b
    """
    found = {
        (f.line, f.construct.split(" (")[0].split(" without")[0], f.severity) for f in lint(sql, "t.sql")
    }
    assert found == {
        (2, "recursive CTE days", ERROR),
        (4, "aggregate FILTER", ERROR),
        (5, "string_agg()", ERROR),
        (6, "sum() OVER", ERROR),
        (9, "sort-based aggregates", ERROR),
        (10, "IS TRUE/FALSE/UNKNOWN in a SELECT list", ERROR),
        (11, "concat() with 3 arguments", ERROR),
        (12, "quantile_cont()", ERROR),
        (13, "cast to a type Redshift does not have", ERROR),
        (14, "DECIMAL", RISK),
        (17, "IS [NOT] DISTINCT FROM", ERROR),
    }
    clean = "select a, sum(v) over (partition by k) as total, coalesce(b, 0) as b from t where ok = true"
    assert lint(clean, "t.sql") == []


def test_the_lint_reads_raw_sql_as_the_redshift_target_compiles_it() -> None:
    raw = (
        "{% if target.type == 'duckdb' %}epoch(ts){% else %}extract(epoch from ts){% endif %}\n"
        "{% macro duckdb__f() %}list_value(1){% endmacro %}{% macro redshift__f() %}1{% endmacro %}\n"
        "{{ config(materialized='view') }} select {{ dbt.type_string() }} from {{ ref('x') }}"
    )
    kept = " ".join(strip_jinja(raw).split())
    assert kept == "extract(epoch from ts) 1 select from"


@pytest.mark.slow
def test_dbt_project_parses_for_redshift_with_silver_as_external_tables(tmp_path) -> None:
    manifest = _dbt(["parse"], tmp_path)
    assert manifest["metadata"]["adapter_type"] == "redshift"
    sources = [s for s in manifest["sources"].values() if s["source_name"] == "silver"]
    assert sources and {s["schema"] for s in sources} == {"silver"}
    from transforms.registry import SILVER_TABLES

    # every silver table dbt reads is one the DDL creates in the external schema
    assert {s["name"] for s in sources} <= {t.name.removeprefix("silver/") for t in SILVER_TABLES}
    # Redshift builds a view over an external table only late-binding (CREATE VIEW ... WITH NO SCHEMA
    # BINDING), which dbt-redshift writes for views configured `bind: false`.
    bound = sorted(
        node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
        and node["config"]["materialized"] == "view"
        and any(dep.startswith("source.lakehouse.silver.") for dep in node["depends_on"]["nodes"])
        and node["config"].get("bind", True) is not False
    )
    assert bound == [], f"set `+bind: false` on these views over silver (dbt_project.yml): {bound}"


@pytest.mark.slow
def test_sql_avoids_what_redshift_lacks(tmp_path) -> None:
    # Incremental models ask the database whether they exist and dbt.date_spine counts its days with a
    # query, so those compile only against a cluster: their raw SQL is linted instead.
    offline = ["config.materialized:incremental", "metricflow_time_spine", "resource_type:unit_test"]
    manifest = _dbt(["compile", "--no-populate-cache", "--exclude", *offline], tmp_path)
    compiled_root = tmp_path / "target" / "compiled" / "lakehouse"
    compiled = sorted(compiled_root.rglob("*.sql"))
    assert len(compiled) > 100
    raw = sorted(
        DBT_PROJECT / node["original_file_path"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
        and (node["config"]["materialized"] == "incremental" or node["name"] == "metricflow_time_spine")
    )
    macros = sorted((DBT_PROJECT / "macros").rglob("*.sql"))
    findings = lint_files(compiled, compiled_root, jinja=False) + lint_files(
        [*raw, *macros], DBT_PROJECT, jinja=True
    )
    errors = [str(f) for f in findings if f.severity == ERROR]
    assert errors == [], "SQL Redshift rejects:\n" + "\n".join(errors)


def _dbt(command: list[str], tmp_path: Path) -> dict:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("LAKEHOUSE_")} | OFFLINE_REDSHIFT
    result = subprocess.run(
        [
            str(DBT),
            *command,
            "--profiles-dir",
            str(DBT_PROJECT),
            "--project-dir",
            str(DBT_PROJECT),
            "--target",
            "redshift",
            "--target-path",
            str(tmp_path / "target"),
            "--log-path",
            str(tmp_path / "logs"),
        ],
        capture_output=True,
        text=True,
        env=environment,
        cwd=DBT_PROJECT,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    return json.loads((tmp_path / "target" / "manifest.json").read_text())


@pytest.fixture(scope="module")
def silver_with_manifests(tmp_path_factory: pytest.TempPathFactory):
    """Silver built by the Dagster job on a small world, manifests on, then maintained (retention 0)."""
    from orchestration.definitions import build_definitions
    from orchestration.maintenance.assets import lake_tables
    from orchestration.resources import PlatformResource

    saved = dict(os.environ)
    os.environ.update(
        {
            "LAKEHOUSE_DATA_DIR": str(tmp_path_factory.mktemp("redshift") / "data"),
            "LAKEHOUSE_SIM_USERS": "40",
            "LAKEHOUSE_SPECTRUM_MANIFESTS": "true",
            "LAKEHOUSE_VACUUM_RETENTION_HOURS": "0",
        }
    )
    try:
        with dg.DagsterInstance.ephemeral() as instance:
            runs = []
            for days in ("3", "4"):  # a full build, then an incremental day
                os.environ["LAKEHOUSE_SIM_DAYS"] = days
                settings = load_settings()
                job = build_definitions(settings).resolve_job_def("build_silver")
                runs.append(job.execute_in_process(instance=instance))
                assert runs[-1].success
            lake = DeltaRsLake(settings.lake_uri, settings.storage_options())
            after_build = {table: _stored_manifests(lake, table) for table in _silver_names()}
            maintained = dg.materialize(
                [lake_tables], resources={"platform": PlatformResource()}, instance=instance
            )
            assert maintained.success
            built = runs[-1]
        yield lake, built, maintained, after_build
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _silver_names() -> list[str]:
    from transforms.registry import SILVER_TABLES

    return [table.name for table in SILVER_TABLES]


@pytest.mark.slow
def test_silver_assets_and_maintenance_keep_every_manifest_current(silver_with_manifests) -> None:
    lake, built, maintained, after_build = silver_with_manifests
    for table in _silver_names():
        _assert_current(lake, table)
    silver_runs = {}
    for event in built.get_asset_materialization_events():
        materialization = event.event_specific_data.materialization
        if materialization.asset_key.path[0] == "silver":
            silver_runs["/".join(materialization.asset_key.path)] = materialization.metadata
    assert set(silver_runs) == set(_silver_names())
    for table, metadata in silver_runs.items():
        assert metadata["spectrum_manifest_version"].value == metadata["delta_version"].value, table
    # Maintenance rewrote the manifests whose files compaction replaced, and only those.
    rewritten = 0
    for table in _silver_names():
        now, before = _stored_manifests(lake, table), after_build[table]
        assert set(now) == set(before), table  # compaction keeps every partition
        rewritten += sum(now[folder] != before[folder] for folder in now)
    metadata = maintained.get_asset_materialization_events()[0].event_specific_data.materialization.metadata
    assert rewritten > 0
    assert metadata["spectrum_manifests_written"].value == rewritten


@pytest.mark.slow
def test_ddl_of_a_real_lake_matches_the_docs_and_declares_every_column(
    silver_with_manifests, monkeypatch, capsys
) -> None:
    lake, *_ = silver_with_manifests
    monkeypatch.setenv("LAKEHOUSE_LAKE_ROOT", lake.root)
    monkeypatch.setenv("LAKEHOUSE_REDSHIFT_IAM_ROLE", ROLE)
    assert redshift_ddl.main(EXAMPLE_ARGS) == 0
    example = capsys.readouterr().out
    assert example == DOCS_EXAMPLE.read_text(), (
        "docs/redshift_external_schema.sql is out of date: regenerate it on a built lake with "
        f"`python -m lakehouse.redshift_ddl {' '.join(EXAMPLE_ARGS)} > docs/redshift_external_schema.sql`"
    )
    assert redshift_ddl.main(["--location", "s3://example-bucket/lake"]) == 0
    script = capsys.readouterr().out
    assert script.count("CREATE EXTERNAL TABLE") == len(_silver_names())
    for table in _silver_names():
        name = table.removeprefix("silver/")
        snapshot = DeltaTable(lake.uri(table))
        partition_columns = snapshot.metadata().partition_columns
        columns = [f.name for f in snapshot.schema().to_arrow() if f.name not in partition_columns]
        create = script.split(f'CREATE EXTERNAL TABLE "silver"."{name}" (\n', 1)[1].split("\n)", 1)[0]
        assert [line.strip().split('"')[1] for line in create.splitlines()] == columns, table
        assert f"LOCATION 's3://example-bucket/lake/{table}/_symlink_format_manifest/';" in script
        if not partition_columns:
            assert f'ALTER TABLE "silver"."{name}"' not in script
            continue
        assert f'PARTITIONED BY ("{partition_columns[0]}" DATE)' in script
        days = pc.unique(lake.read(table, columns=partition_columns)[partition_columns[0]]).to_pylist()
        if not days:
            # A partitioned table without rows (some small worlds have no refunds) has no partition to add.
            assert f'ALTER TABLE "silver"."{name}"' not in script
            continue
        alter = script.split(f'ALTER TABLE "silver"."{name}" ADD IF NOT EXISTS\n', 1)[1].split(";", 1)[0]
        registered = {}
        for clause in alter.splitlines():
            value, location = clause.split("'")[1], clause.split("'")[3]
            registered[date.fromisoformat(value)] = location
        assert set(registered) == set(days), table
        for day, location in registered.items():
            folder = f"{partition_columns[0]}={day.isoformat()}"
            assert location == f"s3://example-bucket/lake/{table}/_symlink_format_manifest/{folder}/"
            assert folder in _stored_manifests(lake, table)
