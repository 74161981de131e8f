from __future__ import annotations

from datetime import UTC, date, datetime

import ibis
import pyarrow as pa
import pytest

from tests.unit.silver_frames import fx_rates
from transforms.silver.costs import TABLES, cloud_costs, llm_prices

MORNING, EVENING = datetime(2025, 3, 3, 6, tzinfo=UTC), datetime(2025, 3, 3, 18, tzinfo=UTC)
# EUR has no rate on 4 and 5 March; USD is not in the export at all.
RATES = [
    (date(2025, 3, 2), "EUR", 1.10),
    (date(2025, 3, 3), "EUR", 1.20),
    (date(2025, 3, 6), "EUR", 9.99),
]


def _run(expr, *order: str) -> list[dict]:
    return sorted(ibis.duckdb.connect().to_pyarrow(expr).to_pylist(), key=lambda r: [r[c] for c in order])


def _rates() -> ibis.Table:
    return fx_rates(RATES)


def _export(rows: list[dict], columns: dict[str, pa.DataType]) -> ibis.Table:
    """CSV export rows in bronze; each row names its `_source` file, `_line` and `_ingested_at`."""
    schema = {
        "date": pa.date32(),
        **columns,
        "_line": pa.int64(),
        "_batch_id": pa.string(),
        "_source": pa.string(),
        "_ingested_at": pa.timestamp("us", tz="UTC"),
    }
    data = {name: pa.array([row.get(name) for row in rows], kind) for name, kind in schema.items()}
    data["_batch_id"] = pa.array([row["_source"] for row in rows], pa.string())
    return ibis.memtable(pa.table(data))


PRICE_COLUMNS = {
    "model": pa.string(),
    "provider": pa.string(),
    "currency": pa.string(),
    "price_per_1k_tokens": pa.float64(),
}
COST_COLUMNS = {
    "provider": pa.string(),
    "service": pa.string(),
    "product": pa.string(),
    "currency": pa.string(),
    "amount": pa.float64(),
}


def _price(
    day: date, model: str, price: float, source: str, line: int, at: datetime, currency: str = "USD"
) -> dict:
    return {
        "date": day,
        "model": model,
        "provider": "openai",
        "currency": currency,
        "price_per_1k_tokens": price,
        "_source": source,
        "_line": line,
        "_ingested_at": at,
    }


def test_a_later_export_of_the_same_day_corrects_the_earlier_one() -> None:
    day = date(2025, 3, 3)
    bronze = _export(
        [
            _price(day, "gpt-4o", 0.0100, "llm_prices_2025-03-03.csv", 1, MORNING),
            _price(day, "gpt-4o-mini", 0.0006, "llm_prices_2025-03-03.csv", 2, MORNING),
            # re-issued in the evening: only gpt-4o changes
            _price(day, "gpt-4o", 0.0080, "llm_prices_2025-03-03_fix.csv", 1, EVENING),
            # two files ingested in one run share _ingested_at: the path sorting last wins
            _price(date(2025, 3, 4), "gpt-4o", 0.0070, "b/llm_prices.csv", 1, EVENING),
            _price(date(2025, 3, 4), "gpt-4o", 0.0090, "a/llm_prices.csv", 5, EVENING),
        ],
        PRICE_COLUMNS,
    )
    rows = _run(llm_prices(bronze, _rates()), "price_date", "model")
    assert [(r["price_date"], r["model"], r["price_per_1k_tokens"]) for r in rows] == [
        (day, "gpt-4o", 0.0080),
        (day, "gpt-4o-mini", 0.0006),
        (date(2025, 3, 4), "gpt-4o", 0.0070),
    ]
    assert all((r["fx_rate"], r["price_per_1k_tokens_usd"]) == (1.0, r["price_per_1k_tokens"]) for r in rows)


def test_prices_in_usd_at_their_day_or_the_latest_earlier_rate() -> None:
    bronze = _export(
        [
            _price(date(2025, 3, 3), "mistral-large", 0.0050, "p1.csv", 1, MORNING, currency="EUR"),
            _price(date(2025, 3, 5), "mistral-large", 0.0040, "p2.csv", 1, MORNING, currency="EUR"),
        ],
        PRICE_COLUMNS,
    )
    on_day, fallback = _run(llm_prices(bronze, _rates()), "price_date")
    assert (on_day["fx_rate"], on_day["fx_rate_date"]) == (1.20, date(2025, 3, 3))
    assert on_day["price_per_1k_tokens_usd"] == pytest.approx(0.006)
    assert (fallback["fx_rate"], fallback["fx_rate_date"]) == (1.20, date(2025, 3, 3))
    assert fallback["price_per_1k_tokens_usd"] == pytest.approx(0.0048)


def _cost(day: date, product: str, amount: float, source: str, at: datetime, currency: str = "USD") -> dict:
    return {
        "date": day,
        "provider": "aws",
        "service": "compute",
        "product": product,
        "currency": currency,
        "amount": amount,
        "_source": source,
        "_line": 1,
        "_ingested_at": at,
    }


def test_cloud_cost_lines_one_per_grain_later_file_wins_in_usd() -> None:
    day = date(2025, 3, 3)
    bronze = _export(
        [
            _cost(day, "courses", 14.5, "cloud_costs_2025-03-03.csv", MORNING),
            _cost(day, "courses", 15.25, "cloud_costs_2025-03-03_v2.csv", EVENING),
            _cost(day, "shared", 40.0, "cloud_costs_2025-03-03.csv", MORNING),
            _cost(date(2025, 3, 4), "marketing", 10.0, "cloud_costs_2025-03-04.csv", MORNING, currency="EUR"),
        ],
        COST_COLUMNS,
    )
    rows = _run(cloud_costs(bronze, _rates()), "cost_date", "product")
    assert [(r["cost_date"], r["product"], r["amount"], r["amount_usd"]) for r in rows] == [
        (day, "courses", 15.25, 15.25),
        (day, "shared", 40.0, 40.0),
        (date(2025, 3, 4), "marketing", 10.0, pytest.approx(12.0)),
    ]
    assert (rows[2]["fx_rate"], rows[2]["fx_rate_date"]) == (1.20, day)


@pytest.mark.parametrize("name", ["silver/llm_prices", "silver/cloud_costs"])
def test_each_table_is_local_in_its_day_and_reads_fx_whole(name: str) -> None:
    table = {t.name: t for t in TABLES}[name]
    source, day_column = table.inputs[0], table.incremental.column
    assert table.inputs[1] == "silver/fx_rates" and dict(table.filters) == {source: "date"}
    if name == "silver/llm_prices":
        rows = [
            _price(date(2025, 3, d), "gpt-4o", 0.001 * d, f"p{d}.csv", 1, MORNING, currency="EUR")
            for d in (2, 3, 4, 5)
        ]
        bronze = _export(rows, PRICE_COLUMNS)
    else:
        rows = [
            _cost(date(2025, 3, d), "courses", d, f"c{d}.csv", MORNING, currency="EUR") for d in (2, 3, 4, 5)
        ]
        bronze = _export(rows, COST_COLUMNS)
    full = _run(table.build(bronze, _rates()), day_column)
    assert len(full) == 4
    for days in ([date(2025, 3, 4)], [date(2025, 3, 2), date(2025, 3, 5)]):
        part = _run(table.build(bronze.filter(bronze.date.isin(days)), _rates()), day_column)
        assert part == [r for r in full if r[day_column] in days]
