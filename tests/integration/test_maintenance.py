"""Lake maintenance on real Delta tables: compaction, vacuum, checkpoint, on a folder and on S3."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake
from pyarrow import fs

from lakehouse.lake import DeltaRsLake
from lakehouse.maintenance import TableMaintenance, list_tables, maintain_lake
from lakehouse.settings import SettingsError, load_settings
from lakehouse.storage import filesystem_for
from orchestration.maintenance.assets import lake_tables
from orchestration.resources import PlatformResource

BRONZE = "bronze/pg_items"
SILVER = "silver/items"
APPENDS = 20
DAYS = ("2026-02-01", "2026-02-02")


def _lake(monkeypatch: pytest.MonkeyPatch, environment: dict[str, str]) -> DeltaRsLake:
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    return DeltaRsLake(settings.lake_uri, settings.storage_options())


def _fill(lake: DeltaRsLake) -> None:
    """Bronze as ingestion writes it, one small commit per batch; silver overwritten twice."""
    for batch in range(APPENDS):
        rows = pa.table({"day": [DAYS[batch % 2]] * 3, "item_id": [batch * 10 + i for i in range(3)]})
        lake.append(BRONZE, rows, app_id=f"batch-{batch}", partition_by=["day"])
    for size in (2, 3, 4):  # each version replaces the previous one's file
        lake.overwrite(SILVER, pa.table({"item_id": list(range(size))}))
    # a folder that is not a Delta table is left alone
    filesystem, base = filesystem_for(lake.root, lake.storage_options)
    filesystem.create_dir(f"{base}/bronze/not_a_table")
    with filesystem.open_output_stream(f"{base}/bronze/not_a_table/notes.txt") as stream:
        stream.write(b"kept")


def _rows(lake: DeltaRsLake, table: str, version: int | None = None) -> list[dict]:
    return sorted(lake.read(table, version).to_pylist(), key=lambda row: row["item_id"])


def _data_bytes(lake: DeltaRsLake, table: str, version: int | None = None) -> int:
    actions = DeltaTable(lake.uri(table), version, storage_options=lake.storage_options or None)
    return sum(actions.get_add_actions(flatten=True).column("size_bytes").to_pylist())


def _delta_files(lake: DeltaRsLake, table: str) -> list[str]:
    """The URIs of the table's current data files."""
    return DeltaTable(lake.uri(table), storage_options=lake.storage_options or None).file_uris()


def _log_files(lake: DeltaRsLake, table: str) -> set[str]:
    filesystem, base = filesystem_for(lake.uri(table), lake.storage_options)
    infos = filesystem.get_file_info(fs.FileSelector(f"{base}/_delta_log"))
    return {info.base_name for info in infos}


def _by_table(results: list[TableMaintenance]) -> dict[str, TableMaintenance]:
    return {result.table: result for result in results}


@pytest.mark.slow
def test_maintenance_compacts_vacuums_and_checkpoints(storage, monkeypatch) -> None:
    lake = _lake(monkeypatch, storage)
    _fill(lake)
    bronze_rows, silver_rows = _rows(lake, BRONZE), _rows(lake, SILVER)
    small_files_bytes = _data_bytes(lake, BRONZE)
    replaced_silver_bytes = _data_bytes(lake, SILVER, version=0) + _data_bytes(lake, SILVER, version=1)

    outcome = maintain_lake(lake, retention_hours=0)

    assert outcome.failures == {}
    results = _by_table(outcome.tables)
    assert sorted(results) == [BRONZE, SILVER] == list_tables(lake)
    bronze = results[BRONZE]
    assert (bronze.files_before, bronze.files_after) == (APPENDS, len(DAYS))  # one file per partition
    assert bronze.files_compacted == APPENDS
    assert (bronze.files_vacuumed, bronze.bytes_vacuumed) == (APPENDS, small_files_bytes)
    assert bronze.checkpoint_version == bronze.version_after > bronze.version_before == APPENDS  # v0 is empty
    assert f"{bronze.version_after:020d}.checkpoint.parquet" in _log_files(lake, BRONZE)
    assert _rows(lake, BRONZE) == bronze_rows
    with pytest.raises(OSError):  # the files of the versions before compaction are gone
        lake.read(BRONZE, version=APPENDS)
    # exactly-once survives: every batch is still known to the log, and a replay adds nothing
    assert lake.committed(BRONZE, [f"batch-{b}" for b in range(APPENDS)]) == {
        f"batch-{b}" for b in range(APPENDS)
    }
    assert lake.append(BRONZE, pa.table({"day": [DAYS[0]], "item_id": [0]}), app_id="batch-0").skipped

    silver = results[SILVER]
    assert (silver.files_before, silver.files_after, silver.files_compacted) == (1, 1, 0)
    assert (silver.files_vacuumed, silver.bytes_vacuumed) == (2, replaced_silver_bytes)
    assert _rows(lake, SILVER) == silver_rows

    again = maintain_lake(lake, retention_hours=0)
    assert again.failures == {}
    for result in again.tables:
        assert (result.files_compacted, result.files_vacuumed, result.bytes_vacuumed) == (0, 0, 0), result
        assert result.checkpoint_version is None
        assert result.version_after == result.version_before == results[result.table].version_after


def test_files_removed_within_the_retention_stay(tmp_path, monkeypatch) -> None:
    lake = _lake(monkeypatch, {"LAKEHOUSE_LAKE_ROOT": str(tmp_path / "lake")})
    _fill(lake)
    old_rows = _rows(lake, BRONZE)

    bronze = _by_table(maintain_lake(lake, load_settings().vacuum_retention_hours).tables)[BRONZE]

    assert (bronze.files_compacted, bronze.files_after, bronze.files_vacuumed) == (APPENDS, len(DAYS), 0)
    assert _rows(lake, BRONZE, version=APPENDS) == old_rows


def test_a_table_that_declares_its_own_retention_keeps_it(tmp_path, monkeypatch) -> None:
    lake = _lake(monkeypatch, {"LAKEHOUSE_LAKE_ROOT": str(tmp_path / "lake")})
    for batch in range(3):
        write_deltalake(
            lake.uri(BRONZE),
            pa.table({"item_id": [batch]}),
            mode="append",
            configuration={"delta.deletedFileRetentionDuration": "interval 30 days"},
        )

    bronze = _by_table(maintain_lake(lake, retention_hours=0).tables)[BRONZE]

    assert (bronze.files_compacted, bronze.files_vacuumed) == (3, 0)
    assert _rows(lake, BRONZE, version=0) == [{"item_id": 0}]


def test_the_asset_maintains_the_lake_and_reports_the_figures(tmp_path, monkeypatch) -> None:
    lake = _lake(
        monkeypatch,
        {"LAKEHOUSE_LAKE_ROOT": str(tmp_path / "lake"), "LAKEHOUSE_VACUUM_RETENTION_HOURS": "0"},
    )
    _fill(lake)
    small_files_bytes = _data_bytes(lake, BRONZE)
    replaced_silver_bytes = _data_bytes(lake, SILVER, version=0) + _data_bytes(lake, SILVER, version=1)

    result = dg.materialize([lake_tables], resources={"platform": PlatformResource()})

    assert result.success
    [materialization] = result.asset_materializations_for_node(lake_tables.op.name)
    metadata = {name: value.value for name, value in materialization.metadata.items()}
    assert metadata["tables_maintained"] == 2
    assert metadata["files_compacted"] == APPENDS
    assert metadata["files_vacuumed"] == APPENDS + 2
    assert metadata["bytes_vacuumed"] == small_files_bytes + replaced_silver_bytes
    assert metadata["vacuum_retention_hours"] == 0
    rows = {record.data["table"]: record.data for record in metadata["tables"].records}
    assert rows[BRONZE]["files_before"] == APPENDS and rows[BRONZE]["files_after"] == len(DAYS)
    assert len(_delta_files(lake, BRONZE)) == len(DAYS)


def test_a_table_that_fails_fails_the_run_after_the_others_are_maintained(tmp_path, monkeypatch) -> None:
    lake = _lake(monkeypatch, {"LAKEHOUSE_LAKE_ROOT": str(tmp_path / "lake")})
    _fill(lake)
    broken = "bronze/pg_broken"
    for batch in range(2):
        lake.append(broken, pa.table({"item_id": [batch]}))
    Path(_delta_files(lake, broken)[0]).unlink()  # compaction cannot read it

    result = dg.materialize([lake_tables], resources={"platform": PlatformResource()}, raise_on_error=False)

    assert not result.success
    [failure] = [event for event in result.all_events if event.is_step_failure]
    assert f"{broken}: " in failure.step_failure_data.user_failure_data.description
    assert len(_delta_files(lake, BRONZE)) == len(DAYS)  # the healthy tables were compacted all the same


def test_vacuum_retention_must_not_be_negative(monkeypatch) -> None:
    monkeypatch.setenv("LAKEHOUSE_VACUUM_RETENTION_HOURS", "-1")
    with pytest.raises(
        SettingsError, match=r"LAKEHOUSE_VACUUM_RETENTION_HOURS \(is '-1'\): Input should be greater than"
    ):
        load_settings()
    monkeypatch.setenv("LAKEHOUSE_VACUUM_RETENTION_HOURS", "0")
    assert load_settings().vacuum_retention_hours == 0
