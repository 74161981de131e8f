"""The day loop: each day the world moves on, and that day's files, rows and truth go out.

Before the window opens the business runs a warm-up (WARMUP_DAYS) without events, so the window starts
with customers, running subscriptions and past invoices. Inside the window each day: FX rates, ad
spend, visitors and signups, product usage, billing, cloud costs and LLM prices; then the day's event
file (with dirt) and exports are written, touched rows are versioned, and the ground truth moves on.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

from ingestion.simulation import activity, billing, money, people, products
from ingestion.simulation.catalog import course_rows, plan_rows, template_rows
from ingestion.simulation.clock import day_ms, is_month_end
from ingestion.simulation.config import SimConfig
from ingestion.simulation.dirt import Delivery, FileLines
from ingestion.simulation.rows import RowSink
from ingestion.simulation.truth import Truth, TruthSink
from ingestion.simulation.world import World, days

GZIP_LEVEL = 6


class FileSink(Protocol):
    def put(self, relative: str, payload: bytes) -> None: ...


@dataclass
class Outputs:
    files: FileSink | None
    rows: RowSink
    truth: TruthSink
    on_file: Callable[[date, FileLines], None] | None = None  # sees each day's event file
    progress: Callable[[date, Summary], None] | None = None


@dataclass
class Summary:
    config: SimConfig
    counts: Counter = field(default_factory=Counter)
    files: list[str] = field(default_factory=list)
    row_versions: Counter = field(default_factory=Counter)


def event_file_name(day: date) -> str:
    name = f"events/date={day.isoformat()}/events-{day.isoformat()}.ndjson"
    return name + ".gz" if day.toordinal() % 2 else name


def event_file_bytes(day: date, lines: list[str]) -> bytes:
    body = ("\n".join(lines) + "\n").encode() if lines else b""
    return gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0) if day.toordinal() % 2 else body


def csv_bytes(rows: list[dict], columns: tuple[str, ...]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([row[c] for c in columns] for row in rows)
    return buffer.getvalue().encode()


def run(config: SimConfig, outputs: Outputs) -> Summary:
    world = World(config, outputs.rows)
    truth = world.truth = Truth(config, outputs.truth)
    world.signup_hooks = [billing.on_signup, products.on_signup, truth.signup]
    delivery = Delivery(config)
    summary = Summary(config)
    counts = summary.counts
    first = day_ms(config.warmup_start)
    for row in plan_rows(first):
        world.rows.put("plans", row)
    for row in template_rows(first):
        world.rows.put("document_templates", row)
    history: list[dict] = []

    def put(name: str, payload: bytes) -> None:
        if outputs.files is not None:
            outputs.files.put(name, payload)
        summary.files.append(name)

    for day in days(config.warmup_start, config.end):
        world.begin_day(day)
        for course in world.catalog.publish_due(day):
            for table, row in course_rows(course):
                world.rows.put(table, row)
        rates = money.fx_rates(world)
        if not world.in_window:
            history += rates
            people.warmup_signups(world)
            people.engagement(world)
            billing.process_day(world)
        else:
            if history:
                name = f"exports/fx_rates/fx_rates_history_{history[0]['date']}_{history[-1]['date']}.csv"
                put(name, csv_bytes(history, money.FX_COLUMNS))
                counts["fx_rates"] += len(history)
                history = []
            spend = money.ad_spend(world)
            people.visits(world)
            people.engagement(world)
            activity.usage(world)
            billing.process_day(world)
            _write_day(world, delivery, truth, rates, spend, put, outputs, counts)
        world.rows.flush()
        if is_month_end(day):
            truth.month_end(world)
        truth.end_of_day(world)
        if day.toordinal() % 7 == 0:
            world.open_enrollments = [e for e in world.open_enrollments if e.completed_at is None]
        if outputs.progress is not None and world.in_window:
            outputs.progress(day, summary)
    truth.finish(world)
    counts["in_flight_at_end"] = delivery.in_flight
    counts["users"] = len(world.users)
    counts["customers"] = len(world.customers)
    counts["subscription_rows"] = sum(len(c.rows) for c in world.customers)
    summary.row_versions = world.rows.versions
    return summary


def _write_day(world, delivery, truth, rates, spend, put, outputs, counts) -> None:
    day = world.today
    stamp = day.isoformat()
    file = delivery.file(world)
    for event, reported in file.delivered:
        truth.delivered(event, reported)
    if file.lines:
        put(event_file_name(day), event_file_bytes(day, file.lines))
    if outputs.on_file is not None:
        outputs.on_file(day, file)
    counts["events_generated"] += len(world.events)
    counts["events_delivered"] += len(file.delivered)
    counts["lines"] += len(file.lines)
    counts["duplicates"] += len(file.duplicates)
    counts["malformed"] += len(file.malformed)
    counts["quarantined_events"] += len(file.quarantined)
    counts["late"] += file.late
    counts["skewed"] += file.skewed
    counts["tokens_as_string"] += file.tokens_as_string
    put(f"exports/fx_rates/fx_rates_{stamp}.csv", csv_bytes(rates, money.FX_COLUMNS))
    put(f"exports/ad_spend/ad_spend_{stamp}.csv", csv_bytes(spend, money.AD_SPEND_COLUMNS))
    put(
        f"exports/cloud_costs/cloud_costs_{stamp}.csv",
        csv_bytes(money.cloud_costs(world), money.CLOUD_COLUMNS),
    )
    put(
        f"exports/llm_prices/llm_prices_{stamp}.csv",
        csv_bytes(money.llm_prices(world), money.LLM_PRICE_COLUMNS),
    )
    counts["fx_rates"] += len(rates)
    counts["ad_spend"] += len(spend)
