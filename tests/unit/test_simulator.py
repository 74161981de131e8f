"""The business simulator: deterministic, advancing, dirty as configured, and consistent with itself."""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import math
import os
import subprocess
import sys
import time
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from ingestion import ground_truth
from ingestion.events import parse_texts
from ingestion.operational_tables import BY_NAME, OPERATIONAL_TABLES
from ingestion.simulation.catalog import PLANS_BY_ID
from ingestion.simulation.config import DirtConfig, SimConfig
from ingestion.simulation.engine import event_file_name
from ingestion.simulation.postgres import OtherWorldError
from ingestion.simulator import simulate
from ingestion.world_writer import produce, write_landing

START = date(2026, 1, 20)


@pytest.fixture(scope="module")
def world():
    """About two months at a small scale: month ends, renewals, late events and every kind of dirt."""
    return simulate(seed=5, scale=0.1, start=START, days=60)


def _lines(world) -> dict[date, list[str]]:
    out = {}
    for name, payload in world.files.items():
        if name.startswith("events/"):
            day = date.fromisoformat(name.split("date=")[1][:10])
            out[day] = (gzip.decompress(payload) if name.endswith(".gz") else payload).decode().splitlines()
    return out


def _parsed(world) -> list[tuple[date, dict]]:
    records = []
    for day, lines in _lines(world).items():
        for line in lines:
            with contextlib.suppress(ValueError):
                records.append((day, json.loads(line)))
    return records


def _digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in folder.rglob("*")
        if p.is_file()
    }


# -- determinism and advancing ------------------------------------------------------------------------
def test_the_same_seed_gives_the_same_bytes_and_another_seed_does_not() -> None:
    first, again = (
        simulate(seed=9, scale=0.03, start=START, days=12),
        simulate(seed=9, scale=0.03, start=START, days=12),
    )
    assert first.files == again.files
    assert first.truth == again.truth
    assert first.rows.tables == again.rows.tables
    other = simulate(seed=10, scale=0.03, start=START, days=12)
    assert other.files.keys() == first.files.keys()
    assert other.files[event_file_name(START)] != first.files[event_file_name(START)]


def test_the_bytes_do_not_depend_on_the_process_hash_seed(tmp_path: Path) -> None:
    script = (
        "import sys; from datetime import date; from ingestion.simulation.config import SimConfig; "
        "from ingestion.world_writer import produce; "
        "produce(SimConfig(seed=4, scale=0.02, start=date(2026, 1, 25), days=8), sys.argv[1], "
        "ground_truth=__import__('pathlib').Path(sys.argv[1]) / 'truth')"
    )
    for hash_seed in ("1", "2"):
        env = os.environ | {"PYTHONHASHSEED": hash_seed}
        subprocess.run([sys.executable, "-c", script, str(tmp_path / hash_seed)], check=True, env=env)
    assert _digests(tmp_path / "1") == _digests(tmp_path / "2")


def test_a_longer_window_keeps_every_file_already_written_and_only_adds_days() -> None:
    short = simulate(seed=6, scale=0.03, start=START, days=15)
    longer = simulate(seed=6, scale=0.03, start=START, days=30)
    assert all(longer.files[name] == payload for name, payload in short.files.items())
    new_days = {name[-23:] for name in longer.files.keys() - short.files.keys()}
    assert new_days, "the longer window adds files"
    last = short.end.isoformat()
    for name in longer.files.keys() - short.files.keys():
        assert any(str(short.end + timedelta(days=k)) in name for k in range(1, 16)), (name, last)


def test_advancing_a_landing_zone_writes_only_the_new_days(tmp_path: Path) -> None:
    config = SimConfig(seed=3, scale=0.03, start=START, days=10)
    produce(config, str(tmp_path / "landing"))
    before = _digests(tmp_path / "landing")
    advanced = produce(config.with_days(16), str(tmp_path / "landing"))
    after = _digests(tmp_path / "landing")
    assert {k: v for k, v in after.items() if k in before and not k.startswith("_simulator")} == {
        k: v for k, v in before.items() if not k.startswith("_simulator")
    }
    assert advanced.summary.counts["files_kept"] == len(before) - 1  # all but the marker
    produce(config.with_days(16), str(tmp_path / "fresh"))
    assert _digests(tmp_path / "fresh") == after


def test_a_landing_zone_of_another_world_is_refused_unless_replaced(tmp_path: Path) -> None:
    produce(SimConfig(seed=3, scale=0.02, start=START, days=3), str(tmp_path))
    other = SimConfig(seed=4, scale=0.02, start=START, days=3)
    with pytest.raises(OtherWorldError):
        produce(other, str(tmp_path))
    assert produce(other, str(tmp_path), replace=True).summary.counts["files_kept"] == 0


def test_streaming_writes_exactly_what_the_in_memory_world_holds(tmp_path: Path) -> None:
    config = SimConfig(seed=8, scale=0.03, start=START, days=14)
    produce(config, str(tmp_path / "streamed"), ground_truth=tmp_path / "streamed_truth")
    world = simulate(seed=8, scale=0.03, start=START, days=14)
    write_landing(world, str(tmp_path / "memory"))
    ground_truth.write_ground_truth(world, tmp_path / "memory_truth")
    streamed = {k: v for k, v in _digests(tmp_path / "streamed").items() if not k.startswith("_simulator")}
    assert streamed == _digests(tmp_path / "memory")
    assert _digests(tmp_path / "streamed_truth") == _digests(tmp_path / "memory_truth")


def test_the_default_demo_world_is_small_fast_and_crosses_a_month_end() -> None:
    started = time.monotonic()
    world = simulate()
    assert time.monotonic() - started < 5
    assert 150 <= len(world.users) <= 800
    assert any(day.day == 1 for day in (world.start + timedelta(days=k) for k in range(1, world.days)))
    assert {r["month"] for r in ground_truth.mrr(world)} >= {date(2026, 1, 1)}
    assert sum(r["mrr"] for r in ground_truth.mrr(world) if r["month"] == date(2026, 1, 1)) > 0


# -- dirt -----------------------------------------------------------------------------------------------
def test_dirt_comes_at_the_configured_rates(world) -> None:
    counts = world.summary.counts
    events = counts["events_delivered"]
    assert events > 10_000
    assert 0.014 < counts["duplicates"] / events < 0.026
    assert 0.006 < counts["late"] / events < 0.014
    assert counts["malformed"] > 0 and counts["quarantined_events"] > 0
    assert counts["tokens_as_string"] > 0 and counts["skewed"] > 0
    assert (
        counts["lines"] == events + counts["duplicates"] + counts["malformed"] + counts["quarantined_events"]
    )
    records = _parsed(world)
    ids = Counter(r["event_id"] for _, r in records)
    assert sum(n - 1 for n in ids.values()) == counts["duplicates"]
    with_session = [datetime.fromisoformat(r["occurred_at"]) for _, r in records if "session_id" in r]
    new_field = datetime.combine(START + timedelta(days=10), datetime.min.time(), UTC)
    assert with_session and min(with_session) >= new_field - timedelta(hours=6)
    assert any("session_id" not in r for _, r in records)
    assert any(isinstance(r["properties"].get("tokens"), str) for _, r in records)
    assert any(
        r["schema_version"] == "2" and r["event_type"] in ("notification_received", "email_delivered")
        for _, r in records
    )


def test_no_dirt_means_clean_files() -> None:
    clean = simulate(seed=5, scale=0.05, start=START, days=20, dirt=False)
    counts = clean.summary.counts
    assert counts["lines"] == counts["events_delivered"] > 0
    for key in ("duplicates", "late", "malformed", "quarantined_events", "tokens_as_string", "skewed"):
        assert counts[key] == 0, key
    records = _parsed(clean)
    assert len(records) == counts["lines"]
    assert all("session_id" not in r and r["schema_version"] == 1 for _, r in records)
    assert all(day == datetime.fromisoformat(r["occurred_at"]).astimezone(UTC).date() for day, r in records)


def test_events_arrive_at_most_seven_days_late_and_never_after_their_file_day(world) -> None:
    lateness = Counter()
    for day, record in _parsed(world):
        occurred = datetime.fromisoformat(record["occurred_at"])
        assert occurred.utcoffset() is not None
        occurred = occurred.astimezone(UTC)
        assert occurred.date() >= START
        assert occurred < datetime.combine(day + timedelta(days=1), datetime.min.time(), UTC)
        lateness[(day - occurred.date()).days] += 1
    assert max(lateness) == 7 and min(lateness) == 0


def test_the_pipeline_contract_keeps_events_and_duplicates_and_quarantines_the_rest(world) -> None:
    texts = [
        gzip.decompress(payload) if name.endswith(".gz") else payload
        for name, payload in sorted(world.files.items())
        if name.startswith("events/")
    ]
    rows, quarantined = parse_texts(texts)
    assert rows.num_rows == len(world.events) + len(world.duplicates)
    assert quarantined.num_rows == sum(len(lines) for lines in world.malformed_lines.values())
    reasons = Counter(r.split(":")[0] for r in quarantined.column("reason").to_pylist())
    assert reasons["schema_version is not an integer"] == world.summary.counts["quarantined_events"]
    assert len(set(rows.column("event_id").to_pylist())) == len(world.events)


# -- operational rows ---------------------------------------------------------------------------------
def test_rows_have_their_table_columns_and_their_references_exist(world) -> None:
    ids = {}
    for table in OPERATIONAL_TABLES:
        rows = world.rows.rows(table)
        assert rows, table
        assert all(set(row) == set(BY_NAME[table].column_names) for row in rows), table
        assert all(row["updated_at"] >= (row.get("created_at") or 0) for row in rows), table
        ids[table] = {row["id"] for row in rows}
    for table in OPERATIONAL_TABLES:
        for column in BY_NAME[table].columns:
            if column.references:
                parent = column.references.split(" ")[0]
                values = {row[column.name] for row in world.rows.rows(table)}
                assert values <= ids[parent], (table, column.name)
    assert any(row["deleted_at"] is not None for row in world.rows.rows("documents"))


def test_at_most_one_running_subscription_row_per_customer_and_product(world) -> None:
    chains = defaultdict(list)
    for sub in world.subscriptions:
        chains[(sub.user_id, PLANS_BY_ID[sub.plan_id].product)].append(sub)
    for rows in chains.values():
        for before, after in zip(rows, rows[1:], strict=False):
            assert before.ended_at is not None and before.ended_at <= after.started_at
    reasons = Counter(sub.end_reason for sub in world.subscriptions)
    assert reasons["plan_change"] and reasons["quantity_change"] and reasons["canceled"]
    replaced = {
        sub.replaces_subscription_id: sub for sub in world.subscriptions if sub.replaces_subscription_id
    }
    for sub in world.subscriptions:
        if sub.id in replaced:
            assert sub.ended_at == replaced[sub.id].started_at


def test_invoice_totals_add_up_and_payments_and_refunds_match(world) -> None:
    lines, payments, refunds = defaultdict(list), defaultdict(list), defaultdict(int)
    for line in world.rows.rows("invoice_lines"):
        lines[line["invoice_id"]].append(line)
    for payment in world.rows.rows("payments"):
        payments[payment["invoice_id"]].append(payment)
    for refund in world.rows.rows("refunds"):
        refunds[refund["invoice_id"]] += refund["amount"]
    invoices = world.rows.rows("invoices")
    assert Counter(i["billing_reason"] for i in invoices).keys() >= {
        "subscription_create",
        "subscription_cycle",
    }
    for invoice in invoices:
        mine = lines[invoice["id"]]
        assert invoice["subtotal"] == sum(line["amount"] for line in mine)
        assert invoice["discount_total"] == sum(line["discount_amount"] for line in mine)
        assert invoice["total"] == invoice["subtotal"] - invoice["discount_total"] + invoice["tax"] >= 0
        assert invoice["tax"] == round(
            (invoice["subtotal"] - invoice["discount_total"]) * invoice["tax_rate"]
        )
        assert invoice["amount_refunded"] == refunds[invoice["id"]] <= invoice["amount_paid"]
        succeeded = [p for p in payments[invoice["id"]] if p["status"] == "succeeded"]
        assert len(payments[invoice["id"]]) <= 4
        if invoice["status"] == "paid" and invoice["total"] > 0:
            assert (
                len(succeeded) == 1 and succeeded[0]["amount"] == invoice["total"] == invoice["amount_paid"]
            )
        else:
            assert not succeeded
    assert any(line["kind"] == "proration" and line["amount"] < 0 for m in lines.values() for line in m)
    assert any(i["discount_total"] > 0 for i in invoices) and any(i["tax"] > 0 for i in invoices)
    assert {i["currency"] for i in invoices} == {"USD", "EUR", "GBP"}
    assert any(p["status"] == "failed" for m in payments.values() for p in m)


# -- ground truth -------------------------------------------------------------------------------------
def test_mrr_truth_is_the_formula_over_the_rows(world) -> None:
    fx = {(r["date"], r["currency"]): r["rate_to_usd"] for r in world.fx_rates}
    expected = {}
    for (customer, month), _ in {(r["customer_id"], r["month"]): 0 for r in ground_truth.mrr(world)}.items():
        year, number = month.year, month.month
        end = (date(year + number // 12, number % 12 + 1, 1)) - timedelta(days=1)
        end_of_day = datetime.combine(end + timedelta(days=1), datetime.min.time(), UTC)
        total = 0.0
        for sub in world.subscriptions:
            if sub.user_id != customer or sub.started_at >= end_of_day:
                continue
            if (sub.ended_at is None or sub.ended_at >= end_of_day) and (
                sub.trial_end is None or sub.trial_end < end_of_day
            ):
                plan = PLANS_BY_ID[sub.plan_id]
                total += plan.unit_amount / 100 * sub.quantity / plan.months * fx[(end, plan.currency)]
        expected[(customer, month)] = total
    actual = {(r["customer_id"], r["month"]): r["mrr"] for r in ground_truth.mrr(world)}
    assert actual.keys() == expected.keys()
    assert all(math.isclose(actual[k], v, abs_tol=1e-9) for k, v in expected.items())
    last_month_end = date(world.end.year, world.end.month, 1) - timedelta(days=1)
    last_instant = datetime.combine(last_month_end + timedelta(days=1), datetime.min.time(), UTC)
    customers = {s.user_id for s in world.subscriptions if s.started_at < last_instant}
    assert {c for c, _ in actual} == customers
    assert all(r["discounted_mrr"] <= r["mrr"] + 1e-9 for r in ground_truth.mrr(world))


def test_mrr_movements_add_up_every_month(world) -> None:
    totals, moves = defaultdict(float), defaultdict(lambda: defaultdict(float))
    for row in ground_truth.mrr(world):
        totals[row["month"]] += row["mrr"]
    for row in ground_truth.mrr_movements(world):
        moves[row["month"]][row["movement"]] += row["amount"]
    months = sorted(totals)
    for previous, month in zip(months, months[1:], strict=False):
        m = moves[month]
        rebuilt = (
            totals[previous] + m["new"] + m["reactivation"] + m["expansion"] - m["contraction"] - m["churn"]
        )
        assert math.isclose(totals[month], rebuilt, abs_tol=1e-6), month
    kinds = {row["movement"] for row in ground_truth.mrr_movements(world)}
    assert {"new", "expansion", "contraction", "churn"} <= kinds


def test_attribution_weights_sum_to_one_for_every_conversion(world) -> None:
    sums = defaultdict(lambda: [0.0] * 5)
    for row in ground_truth.conversion_touches(world):
        for i, model in enumerate(("first_touch", "last_touch", "linear", "position_based", "time_decay")):
            sums[row["conversion_id"]][i] += row[model]
    conversions = ground_truth.conversions(world)
    assert {c["conversion_id"] for c in conversions} == set(sums)
    assert all(math.isclose(w, 1.0) for weights in sums.values() for w in weights)
    assert {c["conversion_type"] for c in conversions} == {"paid", "signup"}
    assert any(c["touches"] >= 3 for c in conversions)


def test_active_users_and_touchpoints_count_delivered_events_on_their_reported_day(world) -> None:
    active = defaultdict(set)
    touches = Counter()
    for event in world.events:
        day = event["_instant"].date()
        if event["user_id"] and event["event_type"] not in ("notification_received", "email_delivered"):
            active[(day, event["product"])].add(event["user_id"])
            active[(day, "all")].add(event["user_id"])
        if event["event_type"] == "page_view":
            touches[(day, event["_channel"])] += 1
    rows = ground_truth.active_users(world)
    assert len(rows) == 4 * world.days
    assert all(r["dau"] == len(active[(r["activity_date"], r["product"])]) for r in rows)
    assert {
        (r["touch_date"], r["channel"]): r["touchpoints"] for r in ground_truth.touchpoints(world)
    } == touches


def test_recognized_revenue_and_completion_are_consistent(world) -> None:
    revenue = ground_truth.recognized_revenue(world)
    assert revenue and all(r["deferred"] >= -1e-6 for r in revenue)
    completion = ground_truth.completion(world)
    assert {r["enrollment_id"] for r in completion} == {r["id"] for r in world.rows.rows("enrollments")}
    done = [r for r in completion if r["completed_at"]]
    assert done and all(r["completed_within_90_days"] for r in done)
    rows = {r["id"]: r for r in world.rows.rows("enrollments")}
    assert all(
        (rows[r["enrollment_id"]]["completed_at"] is not None) == bool(r["completed_at"]) for r in completion
    )


def test_the_command_line_writes_files_and_truth(tmp_path: Path) -> None:
    from ingestion.simulator import main

    argv = ["--seed", "2", "--scale", "0.01", "--start", "2026-02-25", "--days", "5"]
    assert (
        main([*argv, "--landing", str(tmp_path / "l"), "--ground-truth", str(tmp_path / "t"), "--quiet"]) == 0
    )
    assert len(list((tmp_path / "l" / "exports" / "cloud_costs").iterdir())) == 5
    assert len(list((tmp_path / "l" / "exports" / "llm_prices").iterdir())) == 5
    header = (tmp_path / "t" / "mrr.csv").read_text().splitlines()[0]
    assert header == "customer_id,month,mrr,discounted_mrr"


def test_dirt_config_none_is_disabled() -> None:
    assert not DirtConfig.none().enabled and DirtConfig().enabled
