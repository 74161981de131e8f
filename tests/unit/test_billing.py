from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import ibis
import pyarrow as pa
import pytest

from tests.unit.silver_frames import fx_rates
from transforms.silver.billing import TABLES, invoice_lines, invoices, payments, refunds

T0 = datetime(2025, 3, 1, tzinfo=UTC)
# EUR has no rate on 4 and 5 March; GBP only from 10 March; USD is not in the export at all.
RATES = [
    (date(2025, 3, 1), "EUR", 1.05),
    (date(2025, 3, 2), "EUR", 1.10),
    (date(2025, 3, 3), "EUR", 1.20),
    (date(2025, 3, 6), "EUR", 9.99),
    (date(2025, 3, 10), "GBP", 1.25),
]


def _run(expr) -> list[dict]:
    return sorted(ibis.duckdb.connect().to_pyarrow(expr).to_pylist(), key=lambda r: r["id"])


def _rates() -> ibis.Table:
    return fx_rates(RATES)


def _bronze(rows: list[dict], types: dict[str, pa.DataType]) -> ibis.Table:
    """Bronze rows with the PostgreSQL lineage columns; `v` numbers an id's versions (default 1)."""
    columns: dict[str, list] = {name: [row.get(name) for row in rows] for name in types}
    versions = [row.get("v", 1) for row in rows]
    columns["updated_at"] = [T0 + timedelta(days=30 + v) for v in versions]
    columns["deleted_at"] = [None] * len(rows)
    columns["_deleted"] = [row.get("_deleted") for row in rows]
    columns["_batch_id"] = [f"b{v}" for v in versions]
    columns["_source"] = ["postgres"] * len(rows)
    columns["_ingested_at"] = columns["updated_at"]
    schema = {
        **types,
        "updated_at": pa.timestamp("us", tz="UTC"),
        "deleted_at": pa.timestamp("us", tz="UTC"),
        "_deleted": pa.bool_(),
        "_batch_id": pa.string(),
        "_source": pa.string(),
        "_ingested_at": pa.timestamp("us", tz="UTC"),
    }
    return ibis.memtable(pa.table({name: pa.array(columns[name], kind) for name, kind in schema.items()}))


TS = pa.timestamp("us", tz="UTC")
INVOICE_TYPES = {
    "id": pa.string(),
    "user_id": pa.string(),
    "subscription_id": pa.string(),
    "number": pa.string(),
    "currency": pa.string(),
    "status": pa.string(),
    "billing_reason": pa.string(),
    "period_start": TS,
    "period_end": TS,
    "subtotal": pa.int64(),
    "discount_total": pa.int64(),
    "tax_rate": pa.decimal128(6, 4),
    "tax": pa.int64(),
    "total": pa.int64(),
    "amount_paid": pa.int64(),
    "amount_refunded": pa.int64(),
    "paid_at": TS,
    "created_at": TS,
}


def _invoice(id: str, currency: str, created_at: datetime, **values) -> dict:
    return {
        "id": id,
        "user_id": "u1",
        "currency": currency,
        "status": "open",
        "billing_reason": "subscription_cycle",
        "subtotal": 10_000,
        "discount_total": 2_000,
        "tax_rate": Decimal("0.2000"),
        "tax": 1_600,
        "total": 9_600,
        "amount_paid": 0,
        "amount_refunded": 0,
        "created_at": created_at,
        **values,
    }


def test_invoice_money_in_major_units_and_usd_at_the_rate_of_its_utc_day() -> None:
    bronze = _bronze(
        [
            _invoice("in1", "EUR", datetime(2025, 3, 2, 10, tzinfo=UTC)),
            # the current version: paid later; the rate stays the invoice's day's
            _invoice(
                "in1",
                "EUR",
                datetime(2025, 3, 2, 10, tzinfo=UTC),
                v=2,
                status="paid",
                amount_paid=9_600,
                amount_refunded=4_800,
            ),
            # 23:30 in New York on 2 March is 3 March in UTC
            _invoice("in2", "EUR ", datetime(2025, 3, 2, 23, 30, tzinfo=timezone(timedelta(hours=-5)))),
        ],
        INVOICE_TYPES,
    )
    first, second = _run(invoices(bronze, _rates()))
    assert (first["status"], first["invoice_date"], first["fx_rate"]) == ("paid", date(2025, 3, 2), 1.10)
    assert (first["subtotal"], first["discount_total"], first["tax"], first["total"]) == (
        100.0,
        20.0,
        16.0,
        96.0,
    )
    assert (first["amount_paid"], first["amount_refunded"], first["tax_rate"]) == (96.0, 48.0, 0.2)
    assert first["total_usd"] == pytest.approx(105.6)
    assert first["subtotal_usd"] == pytest.approx(110.0)
    assert first["discount_total_usd"] == pytest.approx(22.0)
    assert first["tax_usd"] == pytest.approx(17.6)
    assert first["amount_paid_usd"] == pytest.approx(105.6)
    assert first["amount_refunded_usd"] == pytest.approx(52.8)
    assert (second["currency"], second["invoice_date"], second["fx_rate"]) == ("EUR", date(2025, 3, 3), 1.20)
    assert second["total_usd"] == pytest.approx(115.2)


def test_a_day_without_a_rate_takes_the_latest_earlier_one_never_a_later_one() -> None:
    bronze = _bronze([_invoice("in1", "EUR", datetime(2025, 3, 5, 12, tzinfo=UTC))], INVOICE_TYPES)
    [row] = _run(invoices(bronze, _rates()))
    assert (row["fx_rate"], row["fx_rate_date"]) == (1.20, date(2025, 3, 3))
    assert row["total_usd"] == pytest.approx(115.2)


def test_usd_is_one_without_usd_rows_and_a_currency_without_any_earlier_rate_stays_null() -> None:
    bronze = _bronze(
        [
            _invoice("in1", "USD", datetime(2025, 3, 5, 12, tzinfo=UTC)),
            _invoice("in2", "GBP", datetime(2025, 3, 9, 12, tzinfo=UTC)),
            _invoice("in3", "GBP", datetime(2025, 3, 11, 12, tzinfo=UTC)),
        ],
        INVOICE_TYPES,
    )
    usd, gbp_before, gbp = _run(invoices(bronze, _rates()))
    assert (usd["fx_rate"], usd["fx_rate_date"], usd["total_usd"]) == (1.0, date(2025, 3, 5), 96.0)
    assert (gbp_before["fx_rate"], gbp_before["fx_rate_date"], gbp_before["total_usd"]) == (None, None, None)
    assert (gbp["fx_rate"], gbp["fx_rate_date"], gbp["total_usd"]) == (1.25, date(2025, 3, 10), 120.0)


LINE_TYPES = {
    "id": pa.string(),
    "invoice_id": pa.string(),
    "subscription_id": pa.string(),
    "plan_id": pa.string(),
    "product": pa.string(),
    "kind": pa.string(),
    "quantity": pa.int64(),
    "unit_amount": pa.int64(),
    "amount": pa.int64(),
    "discount_amount": pa.int64(),
    "currency": pa.string(),
    "period_start": TS,
    "period_end": TS,
    "created_at": TS,
}


def test_invoice_lines_net_amount_and_exclusive_service_period_in_days() -> None:
    issued = datetime(2025, 3, 2, 10, tzinfo=UTC)
    line = {"invoice_id": "in1", "product": "marketing", "currency": "EUR", "created_at": issued}
    bronze = _bronze(
        [
            # a monthly cycle [2 Mar 10:00, 2 Apr 10:00): 31 days; 3 seats at 12.50 with 7.50 off
            line
            | {
                "id": "l1",
                "kind": "subscription",
                "quantity": 3,
                "unit_amount": 1_250,
                "amount": 3_750,
                "discount_amount": 750,
                "period_start": issued,
                "period_end": datetime(2025, 4, 2, 10, tzinfo=UTC),
            },
            # the credit for unused time from 15 Mar 22:00: 17.5 days
            line
            | {
                "id": "l2",
                "kind": "proration",
                "quantity": 1,
                "unit_amount": 1_000,
                "amount": -564,
                "discount_amount": 0,
                "period_start": datetime(2025, 3, 15, 22, tzinfo=UTC),
                "period_end": datetime(2025, 4, 2, 10, tzinfo=UTC),
            },
            line
            | {
                "id": "l3",
                "kind": "one_off",
                "quantity": 1,
                "unit_amount": 4_999,
                "amount": 4_999,
                "discount_amount": 0,
            },
        ],
        LINE_TYPES,
    )
    cycle, credit, one_off = _run(invoice_lines(bronze, _rates()))
    assert (cycle["unit_amount"], cycle["amount"], cycle["discount_amount"], cycle["net_amount"]) == (
        12.5,
        37.5,
        7.5,
        30.0,
    )
    assert cycle["service_days"] == 31.0
    assert (cycle["invoice_date"], cycle["fx_rate"]) == (date(2025, 3, 2), 1.10)
    assert cycle["net_amount_usd"] == pytest.approx(33.0)
    assert cycle["discount_amount_usd"] == pytest.approx(8.25)
    assert (credit["amount"], credit["net_amount"], credit["service_days"]) == (-5.64, -5.64, 17.5)
    assert credit["amount_usd"] == pytest.approx(-6.204)
    assert (one_off["service_start"], one_off["service_end"], one_off["service_days"]) == (None, None, None)
    assert (one_off["net_amount"], one_off["discount_amount"]) == (49.99, 0.0)


PAYMENT_TYPES = {
    "id": pa.string(),
    "invoice_id": pa.string(),
    "user_id": pa.string(),
    "amount": pa.int64(),
    "currency": pa.string(),
    "status": pa.string(),
    "failure_code": pa.string(),
    "attempt": pa.int64(),
    "fee": pa.int64(),
    "created_at": TS,
}


def test_payments_at_the_rate_of_the_payment_day_with_fees() -> None:
    payment = {"invoice_id": "in1", "user_id": "u1", "amount": 9_600, "currency": "EUR"}
    bronze = _bronze(
        [
            payment
            | {
                "id": "py1",
                "status": "failed",
                "failure_code": "card_declined",
                "attempt": 1,
                "fee": 0,
                "created_at": datetime(2025, 3, 2, 10, tzinfo=UTC),
            },
            payment
            | {
                "id": "py2",
                "status": "succeeded",
                "attempt": 2,
                "fee": 308,
                "created_at": datetime(2025, 3, 5, 10, tzinfo=UTC),
            },
        ],
        PAYMENT_TYPES,
    )
    failed, succeeded = _run(payments(bronze, _rates()))
    assert (failed["payment_date"], failed["fx_rate"], failed["fee_usd"]) == (date(2025, 3, 2), 1.10, 0.0)
    assert failed["amount_usd"] == pytest.approx(105.6)
    assert (succeeded["amount"], succeeded["fee"], succeeded["fx_rate_date"]) == (
        96.0,
        3.08,
        date(2025, 3, 3),
    )
    assert succeeded["amount_usd"] == pytest.approx(115.2)
    assert succeeded["fee_usd"] == pytest.approx(3.696)


REFUND_TYPES = {
    "id": pa.string(),
    "payment_id": pa.string(),
    "invoice_id": pa.string(),
    "invoice_line_id": pa.string(),
    "user_id": pa.string(),
    "amount": pa.int64(),
    "tax_amount": pa.int64(),
    "currency": pa.string(),
    "reason": pa.string(),
    "created_at": TS,
}


def test_refunds_reverse_revenue_net_of_tax_at_the_refund_day() -> None:
    bronze = _bronze(
        [
            {
                "id": "re1",
                "payment_id": "py2",
                "invoice_id": "in1",
                "invoice_line_id": "in1_1",
                "user_id": "u1",
                "amount": 3_600,
                "tax_amount": 600,
                "currency": "EUR",
                "reason": "requested_by_customer",
                "created_at": datetime(2025, 3, 1, 8, tzinfo=UTC),
            }
        ],
        REFUND_TYPES,
    )
    [row] = _run(refunds(bronze, _rates()))
    assert (row["amount"], row["tax_amount"], row["revenue_amount"]) == (36.0, 6.0, 30.0)
    assert (row["refund_date"], row["fx_rate"]) == (date(2025, 3, 1), 1.05)
    assert row["amount_usd"] == pytest.approx(37.8)
    assert row["tax_amount_usd"] == pytest.approx(6.3)
    assert row["revenue_amount_usd"] == pytest.approx(31.5)


def _restricted(table, inputs: dict[str, ibis.Table], values: list) -> list[ibis.Table]:
    """The inputs as the engine gives them for an incremental run over `values`."""
    return [
        inputs[name].filter(inputs[name][table.filters[name]].isin(values))
        if name in table.filters
        else inputs[name]
        for name in table.inputs
    ]


def test_each_table_is_local_in_id_and_reads_fx_whole() -> None:
    by_name = {table.name: table for table in TABLES}
    table = by_name["silver/invoices"]
    assert table.keys == ("id",) and dict(table.filters) == {"bronze/pg_invoices": "id"}
    bronze = _bronze(
        [
            _invoice("in1", "EUR", datetime(2025, 3, 2, 10, tzinfo=UTC)),
            _invoice("in1", "EUR", datetime(2025, 3, 2, 10, tzinfo=UTC), v=2, status="paid"),
            _invoice("in2", "EUR", datetime(2025, 3, 5, 10, tzinfo=UTC)),
            _invoice("in2", "EUR", datetime(2025, 3, 5, 10, tzinfo=UTC), v=2, _deleted=True),
            _invoice("in3", "USD", datetime(2025, 3, 5, 10, tzinfo=UTC)),
        ],
        INVOICE_TYPES,
    )
    inputs = {"bronze/pg_invoices": bronze, "silver/fx_rates": _rates()}
    full = _run(table.build(*(inputs[name] for name in table.inputs)))
    assert [(r["id"], r["status"]) for r in full] == [("in1", "paid"), ("in3", "open")]
    for values in (["in1"], ["in2"], ["in3", "in2"]):
        part = _run(table.build(*_restricted(table, inputs, values)))
        assert part == [r for r in full if r["id"] in values]
    assert {t.name: t.inputs[1] for t in TABLES} == dict.fromkeys(by_name, "silver/fx_rates")
    assert all(dict(t.filters) == {t.inputs[0]: "id"} for t in TABLES)
