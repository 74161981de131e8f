"""Event files (newline-delimited JSON, gzip allowed) from the landing zone into bronze/events.

Each file is one batch, identified by its content. Lines are validated against the envelope contract
(docs/data_contracts.md) in one vectorised DuckDB pass: each line is parsed once, good lines become
typed rows, bad ones go to the quarantine with the reason and the raw line.
"""

from __future__ import annotations

from collections import Counter

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ingestion.bronze_writer import BatchGroup, BatchResult, write_group
from ingestion.landing import LandedFile, Landing, pending_files, read_file, record_ingested
from lakehouse.lake import DeltaRsLake

TABLE = "bronze/events"
SUFFIXES = (".ndjson", ".ndjson.gz", ".jsonl", ".jsonl.gz")
PRODUCTS = ("courses", "marketing", "documents")
ENVELOPE = (
    "event_id",
    "event_type",
    "product",
    "occurred_at",
    "user_id",
    "anonymous_id",
    "context",
    "properties",
    "schema_version",
)
ROWS_PER_COMMIT = 250_000  # bounds memory: about 1 GiB at this size, whatever the total

SCHEMA = pa.schema(
    [
        ("event_id", pa.string()),
        ("event_type", pa.string()),
        ("product", pa.string()),
        ("occurred_at", pa.timestamp("us", tz="UTC")),
        ("event_date", pa.date32()),
        ("user_id", pa.string()),
        ("anonymous_id", pa.string()),
        ("context", pa.string()),
        ("properties", pa.string()),
        ("schema_version", pa.int32()),
        ("extra", pa.string()),
        ("_line", pa.int64()),
    ]
)

_ENVELOPE_LIST = ", ".join(f"'{name}'" for name in ENVELOPE)
_PRODUCT_LIST = ", ".join(f"'{name}'" for name in PRODUCTS)


_STRINGS = ("event_id", "event_type", "product", "occurred_at", "user_id", "anonymous_id")
_STRUCT = "{" + ",".join(f'"{name}":"JSON"' for name in ENVELOPE) + "}"
_ENVELOPE_NULLS = "{" + ",".join(f'"{name}":null' for name in ENVELOPE) + "}"


def _unquoted(field: str) -> str:
    # A JSON string's text without its quotes; only one with an escape needs a real JSON decode.
    text = f"cast(p.{field} as varchar)"
    return f"case when contains({text}, chr(92)) then {text} ->> '$' else {text}[2:-2] end"


def _kind(field: str) -> str:
    # The JSON type from the value's first character: '"' string, '{' object, 'n' null, NULL absent.
    return f"left(j_{field}, 1)"


# One JSON parse of each line into the envelope's fields (kept as JSON text, to check their types),
# and one more for its keys, to keep fields outside the envelope. A present JSON null reads as absent.
# Materialised, so that DuckDB parses once instead of once per field referenced.
_PARSE = f"""
parsed as materialized (
    select
        _row,
        _file,
        _line,
        try(from_json(line, '{_STRUCT}')) as p,
        keys is null as malformed,
        keys is null and trim(line, chr(32) || chr(9) || chr(13) || chr(10)) = '' as blank,
        left(ltrim(line), 1) <> '{{' as not_object,
        case when len(keys) > len(list_intersect(keys, [{_ENVELOPE_LIST}]))
            then cast(json_merge_patch(line, '{_ENVELOPE_NULLS}') as varchar)
        end as extra
    from (select *, try(json_keys(line)) as keys from lines)
),
fields as materialized (
    select
        _row,
        _file,
        _line,
        malformed,
        blank,
        not_object,
        extra,
        {", ".join(f"cast(p.{name} as varchar) as j_{name}" for name in ENVELOPE)},
        {", ".join(f"{_unquoted(name)} as s_{name}" for name in _STRINGS)},
        try_cast({_unquoted("occurred_at")} as timestamptz) as ts
    from parsed
)
"""

# The first reason that applies is the one recorded; the order is the contract's.
_REASON = f"""
case
    when malformed then 'malformed JSON'
    when not_object then 'not a JSON object'
    when {_kind("event_id")} is distinct from '"' or s_event_id = ''
        then 'event_id missing or not a string'
    when {_kind("event_type")} is distinct from '"' or s_event_type = ''
        then 'event_type missing or not a string'
    when {_kind("product")} is distinct from '"' then 'product missing or not a string'
    when s_product not in ({_PRODUCT_LIST})
        then concat('unknown product ', j_product)
    when {_kind("occurred_at")} is distinct from '"' then 'occurred_at missing or not a string'
    when coalesce({_kind("user_id")}, '"') <> '"' then 'user_id is not a string'
    when coalesce({_kind("anonymous_id")}, '"') <> '"' then 'anonymous_id is not a string'
    when coalesce(s_user_id, '') = '' and coalesce(s_anonymous_id, '') = ''
        then 'neither user_id nor anonymous_id'
    when ts is null then concat('occurred_at is not ISO 8601: ', s_occurred_at)
    when not regexp_matches(s_occurred_at, '([Zz]|[+-][0-9]{{2}}(:?[0-9]{{2}})?)$')
        then 'occurred_at has no time zone'
    when coalesce({_kind("context")}, '{{') <> '{{' then 'context is not an object'
    when coalesce({_kind("properties")}, '{{') <> '{{' then 'properties is not an object'
    when j_schema_version is not null and not regexp_full_match(j_schema_version, '-?[0-9]+')
        then 'schema_version is not an integer'
end
"""

# One query gives every line: the row, or the reason and the raw line; pyarrow splits the two.
_JUDGED = f"""
with {_PARSE}
select
    s_event_id as event_id,
    s_event_type as event_type,
    s_product as product,
    ts as occurred_at,
    s_user_id as user_id,
    s_anonymous_id as anonymous_id,
    coalesce(j_context, '{{}}') as context,
    coalesce(j_properties, '{{}}') as properties,
    coalesce(try_cast(j_schema_version as integer), 1) as schema_version,
    extra,
    _line,
    reason,
    _file,
    _row
from (select *, {_REASON} as reason from fields where not (malformed and blank))
"""

# DuckDB scans an Arrow table in parallel by record batch.
_SCAN_BATCH = 50_000
# Files are grouped into commits by size: about this many bytes make one event line.
_BYTES_PER_LINE = 300
_EMPTY_LINES = pa.schema([("_file", pa.int32()), ("_line", pa.int64()), ("line", pa.string())]).empty_table()


def _connect() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    # Offset-less timestamps are quarantined, but no cast may depend on the host's zone.
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")
    return con


def split_lines(data: bytes) -> pa.Array:
    """The lines of a UTF-8 text as an Arrow string array, without copying the text.

    Each line keeps its trailing newline (JSON allows the white space); invalid UTF-8 is replaced, so
    the line still reaches the quarantine with its reason instead of failing the whole file.
    """
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        data = data.decode("utf-8", errors="replace").encode("utf-8")
    if data and not data.endswith(b"\n"):
        data += b"\n"
    ends = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10) + 1
    offsets = np.concatenate(([0], ends)).astype(np.int32 if len(data) < 2**31 else np.int64)
    kind = pa.string() if offsets.dtype == np.int32 else pa.large_string()
    return pa.Array.from_buffers(kind, len(ends), [None, pa.py_buffer(offsets), pa.py_buffer(data)])


def parse_texts(
    texts: list[bytes], con: duckdb.DuckDBPyConnection | None = None
) -> tuple[pa.Table, pa.Table]:
    """Several files' contents parsed in one DuckDB pass.

    Returns (rows in SCHEMA plus `_batch`, quarantined rows with `_batch`, _line, reason, raw), where
    `_batch` is the file's position in `texts`.
    """
    con = con or _connect()
    parts = []
    for number, data in enumerate(texts):
        lines = split_lines(data)
        parts.append(
            pa.table(
                {
                    "_file": pa.repeat(pa.scalar(number, pa.int32()), len(lines)),
                    "_line": pa.array(np.arange(1, len(lines) + 1, dtype=np.int64)),
                    "line": lines,
                }
            )
        )
    table = pa.concat_tables(parts, promote_options="permissive") if parts else _EMPTY_LINES
    table = table.append_column("_row", pa.array(np.arange(table.num_rows, dtype=np.int64)))
    con.register("lines", pa.Table.from_batches(table.to_batches(max_chunksize=_SCAN_BATCH), table.schema))
    try:
        judged = con.execute(_JUDGED).to_arrow_table()
    finally:
        con.unregister("lines")
    bad = pc.is_valid(judged["reason"])
    rows = judged.filter(pc.invert(bad))
    rows = rows.append_column("event_date", pc.cast(rows["occurred_at"], pa.date32()))
    rows = rows.select(SCHEMA.names).cast(SCHEMA).append_column("_batch", rows["_file"])
    quarantined = judged.filter(bad)
    raw = pc.utf8_rtrim(table["line"].take(quarantined["_row"]), characters="\r\n")
    quarantined = pa.table(
        {
            "_line": quarantined["_line"],
            "reason": quarantined["reason"],
            "raw": raw,
            "_batch": quarantined["_file"],
        }
    )
    return rows, quarantined


def parse_lines(lines: list[str], con: duckdb.DuckDBPyConnection | None = None) -> tuple[pa.Table, pa.Table]:
    """Lines of one file into (rows in SCHEMA, quarantined rows with _line, reason, raw)."""
    rows, quarantined = parse_texts(["\n".join(lines).encode("utf-8")], con)
    return rows.drop_columns(["_batch"]), quarantined.drop_columns(["_batch"])


def ingest_events(
    lake: DeltaRsLake,
    landing_root: str | Landing,
    rows_per_commit: int = ROWS_PER_COMMIT,
    unknown_fields: Counter[str] | None = None,
) -> list[BatchResult]:
    """Ingest every event file not yet in bronze: files grouped into commits, each file exactly once.

    `unknown_fields`, when given, counts the rows ingested per field outside the envelope (schema drift).
    """
    todo, already = pending_files(lake, TABLE, landing_root, "events", SUFFIXES)
    results = [BatchResult(digest, 0, 0, skipped=True) for digest in already]
    con = _connect()
    group: list[LandedFile] = []
    size = 0
    for ref in todo:
        group.append(read_file(landing_root, ref))
        size += len(group[-1].content)
        if size >= rows_per_commit * _BYTES_PER_LINE:
            results += _ingest_group(lake, group, con, unknown_fields)
            group, size = [], 0
    if group:
        results += _ingest_group(lake, group, con, unknown_fields)
    return results


def _ingest_group(
    lake: DeltaRsLake,
    files: list[LandedFile],
    con: duckdb.DuckDBPyConnection,
    unknown_fields: Counter[str] | None,
) -> list[BatchResult]:
    rows, quarantined = parse_texts([f.data() for f in files], con)
    group = BatchGroup([f.digest for f in files], [f.path for f in files], rows, quarantined)
    results = write_group(lake, TABLE, group, partition_by=["event_date"])
    record_ingested(lake, TABLE, files)
    if unknown_fields is not None:
        written = {r.batch_id for r in results if not r.skipped}
        unknown_fields.update(
            _extra_field_counts(rows, [i for i, f in enumerate(files) if f.digest in written], con)
        )
    return results


def _extra_field_counts(rows: pa.Table, batches: list[int], con: duckdb.DuckDBPyConnection) -> Counter[str]:
    extras = rows.filter(pc.is_in(rows["_batch"], pa.array(batches, pa.int32()))).select(["extra"])
    con.register("extras", extras)
    try:
        counted = con.execute(
            "select k, count(*) from "
            "(select unnest(json_keys(extra)) as k from extras where extra is not null) group by k"
        ).fetchall()
    finally:
        con.unregister("extras")
    return Counter(dict(counted))
